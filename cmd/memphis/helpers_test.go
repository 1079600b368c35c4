package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/libmemphis/libmemphis/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testTimeout bounds one command; generous for a loaded CI machine.
const testTimeout = 2 * time.Minute

// result is what one command run produced.
type result struct {
	code           int
	stdout, stderr string
}

// env is a fake process environment.
type env map[string]string

func brokerEnv(b *devbroker.Broker) env {
	return env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": strconv.Itoa(b.Port())}
}

// cli runs one command line in-process, as main would.
func cli(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, stdio{
		in: strings.NewReader(stdin), out: &out, err: &errOut,
		getenv: func(k string) string { return e[k] },
	})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustCLI runs a command that has to succeed.
func mustCLI(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	r := cli(t, e, stdin, args...)
	if r.code != exitOK {
		t.Fatalf("memphis %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantExit checks a command's exit status and that stderr mentions want.
func wantExit(t *testing.T, r result, code int, want string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, want %d with %q in stderr\nstdout: %s\nstderr: %s", r.code, code, want, r.stdout, r.stderr)
	}
}

// jsonLines parses --format json output.
func jsonLines(t *testing.T, out string) []jsonMessage {
	t.Helper()
	var msgs []jsonMessage
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m jsonMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func dataOf(m jsonMessage) string {
	if m.Data != nil {
		return *m.Data
	}
	return string(m.DataBase64)
}

// sdkConn connects the test itself to the broker, to check what a command did.
func sdkConn(t *testing.T, b *devbroker.Broker) *sdk.Conn {
	t.Helper()
	o := sdk.DefaultConnectOptions()
	o.Host, o.Port, o.Username, o.Password = "127.0.0.1", b.Port(), "root", "memphis"
	c, err := sdk.Connect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// jetStream opens plain JetStream on the broker to look at streams and
// durables directly (a station is one stream per partition).
func jetStream(t *testing.T, b *devbroker.Broker) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(b.Addr(), nats.UserInfo("root", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func streamOf(station string, partition int) string {
	return wire.InternalName(station) + "$" + strconv.Itoa(partition)
}

// durables lists the consumer groups (durables) on a partition stream.
func durables(t *testing.T, js jetstream.JetStream, station string, partition int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, err := js.Stream(ctx, streamOf(station, partition))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range s.ConsumerNames(ctx).Name() {
		names = append(names, n)
	}
	return names
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	return port
}

func startBroker(t *testing.T, opts ...func(*devbroker.Options)) *devbroker.Broker {
	t.Helper()
	return devbrokertest.Start(t, opts...)
}

func itoa(n int) string { return strconv.Itoa(n) }
