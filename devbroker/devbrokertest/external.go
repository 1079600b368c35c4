package devbrokertest

import (
	"encoding/json"
	"net"
	"os"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// Environment variables that point Start at an external Memphis broker
// (a real Memphis 1.4.x, or a memphis-devbroker run by hand) instead of an
// in-process memphis-devbroker; scripts/compat-real-broker.sh sets them.
// The credentials default to the broker defaults (root / memphis / token
// memphis). Tests that connect with fixed credentials need those.
const (
	EnvBroker   = "MEMPHIS_TEST_BROKER" // HOST:PORT
	EnvUser     = "MEMPHIS_TEST_USER"
	EnvPassword = "MEMPHIS_TEST_PASSWORD"
	EnvToken    = "MEMPHIS_TEST_TOKEN"
)

// External reports whether EnvBroker names an external broker.
func External() bool { return os.Getenv(EnvBroker) != "" }

// startExternal returns a handle on the external broker, or skips the
// test when it needs a broker configured its own way (options set), which
// an external broker is not. Every station the test creates (explicitly,
// by creating a producer or consumer, or as a DLS station) is destroyed
// when it ends, so tests that reuse station names stay independent on the
// shared broker. Run such suites without test parallelism.
func startExternal(t testing.TB, opts []func(*devbroker.Options)) *devbroker.Broker {
	t.Helper()
	var wanted devbroker.Options
	for _, f := range opts {
		f(&wanted)
	}
	if !reflect.DeepEqual(wanted, devbroker.Options{}) {
		t.Skipf("devbrokertest: the test needs a broker started with its own options; %s points at an external one", EnvBroker)
		return nil // Skipf ends a real test; this is for stand-ins that record it
	}
	addr := os.Getenv(EnvBroker)
	host, portText, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil {
		t.Fatalf("devbrokertest: %s=%q is not HOST:PORT", EnvBroker, addr)
	}
	o := devbroker.Options{User: env(EnvUser, devbroker.DefaultUser),
		Password: env(EnvPassword, devbroker.DefaultPassword), Token: env(EnvToken, devbroker.DefaultToken)}
	b := devbroker.Remote(host, port, o)
	sweepStations(t, b)
	return b
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// sweepStations watches the control requests made during the test and
// destroys every station they named when the test ends.
func sweepStations(t testing.TB, b *devbroker.Broker) {
	t.Helper()
	o := b.Options()
	nc, err := nats.Connect("nats://"+b.Addr(), nats.Name("devbrokertest station sweeper"),
		nats.UserInfo(o.User, o.Password), nats.Timeout(startTimeout))
	if err != nil {
		t.Fatalf("devbrokertest: connect to external broker %s: %v", b.Addr(), err)
	}
	var (
		mu       sync.Mutex
		stations = map[string]bool{}
	)
	record := func(m *nats.Msg) {
		var req struct {
			Name        string `json:"name"`
			StationName string `json:"station_name"`
			DlsStation  string `json:"dls_station"`
		}
		if json.Unmarshal(m.Data, &req) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if m.Subject == wire.SubjStationCreate {
			req.StationName = req.Name
		}
		for _, s := range []string{req.StationName, req.DlsStation} {
			if s != "" {
				stations[s] = true
			}
		}
	}
	for _, subj := range []string{wire.SubjStationCreate, wire.SubjProducerCreate, wire.SubjConsumerCreate} {
		if _, err := nc.Subscribe(subj, record); err != nil {
			nc.Close()
			t.Fatalf("devbrokertest: watch %s: %v", subj, err)
		}
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		t.Fatalf("devbrokertest: watch station creations: %v", err)
	}
	t.Cleanup(func() {
		defer nc.Close()
		// Requests still in flight when the test returned are seen after
		// one more round trip.
		_ = nc.Flush()
		mu.Lock()
		defer mu.Unlock()
		for s := range stations {
			body, _ := json.Marshal(wire.DestroyStationReq{StationName: s, Username: o.User})
			_, _ = nc.Request(wire.SubjStationDestroy, body, 20*time.Second)
		}
	})
}
