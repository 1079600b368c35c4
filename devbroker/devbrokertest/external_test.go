package devbrokertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// outside starts a memphis-devbroker the way an operator would (not
// through Start) and points EnvBroker at it.
func outside(t *testing.T) *devbroker.Broker {
	t.Helper()
	b, err := devbroker.Start(context.Background(), devbroker.Options{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	t.Setenv(EnvBroker, b.Addr())
	return b
}

func request(t *testing.T, nc *nats.Conn, subject string, body any) string {
	t.Helper()
	data, _ := json.Marshal(body)
	m, err := nc.Request(subject, data, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return string(m.Data)
}

func TestExternalBrokerHandle(t *testing.T) {
	real := outside(t)
	nc, err := nats.Connect("nats://"+real.Addr(), nats.UserInfo("root", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)

	t.Run("a test creates stations", func(t *testing.T) {
		b := Start(t)
		if !b.IsRemote() || b.Addr() != real.Addr() || b.Options().User != "root" || b.Options().Password != "memphis" {
			t.Fatalf("handle %s %+v", b.Addr(), b.Options())
		}
		if got := request(t, nc, "$memphis_station_creations", map[string]any{
			"name": "Swept.One", "partitions_number": 1, "dls_station": "swept-dls", "username": "root"}); got != "" {
			t.Fatalf("create: %q", got)
		}
		// A producer auto-creates its station.
		if got := request(t, nc, "$memphis_producer_creations", map[string]any{
			"name": "p", "station_name": "swept-two", "connection_id": "c", "req_version": 4, "username": "root"}); !strings.Contains(got, `"error":""`) {
			t.Fatalf("producer: %q", got)
		}
		if _, err := js.Stream(context.Background(), "swept#one$1"); err != nil {
			t.Fatal(err)
		}
	})
	// ... and they are gone once it ended; the broker itself runs on.
	for _, s := range []string{"swept#one$1", "swept-dls$1", "swept-two$1"} {
		if _, err := js.Stream(context.Background(), s); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("%s after the test: %v", s, err)
		}
	}
	if !nc.IsConnected() {
		t.Fatal("external broker gone")
	}
}

// recorder stands in for a test to see whether a helper skips or fails it
// (without the suite reporting a skipped or failed test).
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestExternalBrokerSkipsWhatItCannotDo(t *testing.T) {
	outside(t)
	withOptions := &recorder{TB: t}
	if b := Start(withOptions, func(o *devbroker.Options) { o.Token = "secret" }); b != nil ||
		!strings.Contains(withOptions.skipped, "its own options") || withOptions.failed != "" {
		t.Fatalf("a test with options: %v, skip %q", b, withOptions.skipped)
	}
	restart := &recorder{TB: t}
	b := Start(t)
	if got := Restart(restart, b); got != b || !strings.Contains(restart.skipped, "restarts the broker") || restart.failed != "" {
		t.Fatalf("restart: skip %q", restart.skipped)
	}
}
