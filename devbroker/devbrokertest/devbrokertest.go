// Package devbrokertest starts memphis-devbroker inside Go tests.
package devbrokertest

import (
	"context"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
)

// startTimeout is generous: the machine running the tests may be busy.
const startTimeout = 2 * time.Minute

// Start runs a broker on a free loopback port with a fresh data directory
// and stops it when the test ends. Option functions may change anything,
// e.g. func(o *devbroker.Options) { o.Token = "secret" }.
//
// With MEMPHIS_TEST_BROKER=HOST:PORT set (see EnvBroker) it returns a
// handle on that external broker instead, and skips tests that pass
// options.
func Start(t testing.TB, opts ...func(*devbroker.Options)) *devbroker.Broker {
	t.Helper()
	if External() {
		return startExternal(t, opts)
	}
	o := devbroker.Options{Host: "127.0.0.1", DataDir: t.TempDir()}
	for _, f := range opts {
		f(&o)
	}
	return start(t, o)
}

// Restart stops b and starts a new broker with the same options, data
// directory and port, as a reconnecting client would see a broker restart.
func Restart(t testing.TB, b *devbroker.Broker) *devbroker.Broker {
	t.Helper()
	if b.IsRemote() {
		t.Skipf("devbrokertest: the test restarts the broker, which it cannot do to the external %s", b.Addr())
		return b // Skipf ends a real test; this is for stand-ins that record it
	}
	o := b.Options()
	o.Port = b.Port()
	if err := b.Stop(); err != nil {
		t.Fatalf("devbrokertest: stop before restart: %v", err)
	}
	return start(t, o)
}

func start(t testing.TB, o devbroker.Options) *devbroker.Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var (
		b   *devbroker.Broker
		err error
	)
	// A just-closed port can stay busy for a moment on a restart; retry
	// until the deadline rather than fail on the first bind error.
	for {
		b, err = devbroker.Start(ctx, o)
		if err == nil || o.Port == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("devbrokertest: start broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("devbrokertest: stop broker: %v", err)
		}
	})
	return b
}
