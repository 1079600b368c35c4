package sdk

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
)

// countingHandler counts how often the reply mux reported to it.
type countingHandler struct {
	calls atomic.Int32
	err   atomic.Value
}

func (h *countingHandler) onReply(_ *nats.Msg, err error) {
	h.calls.Add(1)
	if err != nil {
		h.err.Store(err)
	}
}

// A request whose send fails after Close already failed its registration
// must not be reported twice: cancel says it was too late.
func TestReplyMuxCancelAfterCloseIsTooLate(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	m, err := newReplyMux(c.nc, &c.gen, discardLogger)
	if err != nil {
		t.Fatal(err)
	}
	kept, dropped := &countingHandler{}, &countingHandler{}
	idKept, _, err := m.register(kept, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	idDropped, _, err := m.register(dropped, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !m.cancel(idDropped) {
		t.Fatal("cancel of a pending registration reported it gone")
	}
	m.close(nil)
	if n := kept.calls.Load(); n != 1 || kept.err.Load() != ErrClosed {
		t.Fatalf("pending handler got %d reports (%v), want one ErrClosed", n, kept.err.Load())
	}
	if m.cancel(idKept) {
		t.Fatal("cancel after close claimed a registration close already reported")
	}
	if n := dropped.calls.Load(); n != 0 {
		t.Fatalf("cancelled handler got %d reports", n)
	}
}

// ProduceAsync racing Conn.Close keeps its contract: every call either
// returns an error or has its callback run exactly once, and no call hangs.
func TestProduceAsyncRacingCloseReportsEachMessageOnce(t *testing.T) {
	b := startBroker(t)
	for round := range 5 {
		c := connect(t, b)
		p := createProducer(t, c, "close-race", "racer")
		var accepted, refused, reported, doubled atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; ; i++ {
					var calls atomic.Int32
					err := p.ProduceAsync(context.Background(), payload(w*100000+i), ProduceOptions{}, func(Delivery) {
						if calls.Add(1) > 1 {
							doubled.Add(1)
						}
						reported.Add(1)
					})
					if err != nil {
						refused.Add(1)
						return // closed: nothing more can be sent
					}
					accepted.Add(1)
				}
			}()
		}
		close(start)
		devbrokertest.WaitFor(t, "produces in flight", func() bool { return accepted.Load() > 50 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		recv(t, finished, "every ProduceAsync call to return after Close")
		devbrokertest.WaitFor(t, "callbacks of all accepted produces", func() bool { return reported.Load() >= accepted.Load() })
		if doubled.Load() > 0 || reported.Load() != accepted.Load() {
			t.Fatalf("round %d: %d accepted, %d callbacks (%d repeated), %d refused",
				round, accepted.Load(), reported.Load(), doubled.Load(), refused.Load())
		}
	}
}

// Concurrent one-shot FetchMessages calls for one consumer name race to
// register it: the connection ends up with one cached consumer holding one
// reference on the station's schema listener, and every call succeeds.
func TestConcurrentFetchMessagesShareOneConsumer(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "oneshot-fetch")
	opts := DefaultConsumerOptions("oneshot-fetch", "Reader")
	opts.BatchMaxWait = 100 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.FetchMessages(ctx, opts, PartitionSelector{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("FetchMessages: %v", err)
		}
	}
	c.mu.Lock()
	n := len(c.consumers)
	c.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d cached consumers, want 1", n)
	}
	if s := c.schemas().lookup("oneshot-fetch"); s == nil || s.refs != 1 {
		t.Fatalf("station schema state = %+v, want 1 reference (the cached consumer)", s)
	}
}
