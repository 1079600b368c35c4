package sdk

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

// fillStation produces n numbered messages and waits for their acks.
func fillStation(t *testing.T, c *Conn, station string, n int) {
	t.Helper()
	ctx := testCtx(t)
	p := createProducer(t, c, station, "filler")
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// ackPending is what the broker has delivered to group and not yet had
// acknowledged: messages the consume loop holds, handed over or not.
func ackPending(t *testing.T, c *Conn, station, group string) int {
	t.Helper()
	ctx := testCtx(t)
	durable, err := c.js.Consumer(ctx, station+"$1", group)
	if err != nil {
		t.Fatal(err)
	}
	info, err := durable.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.NumAckPending
}

// blockingHandler holds each batch until release is told, then acks it.
type blockingHandler struct {
	mu      sync.Mutex
	batches [][]*Message
	started chan int // the size of each batch as its handler call starts
	release chan struct{}
	quit    chan struct{} // closed when the test ends, passed or not
}

func newBlockingHandler() *blockingHandler {
	return &blockingHandler{started: make(chan int, 16), release: make(chan struct{}, 16), quit: make(chan struct{})}
}

// startHeldLoop fills station with n messages and starts a consume loop
// on it whose handler holds each batch until released. The loop is stopped
// when the test ends (a failed test must not hang in StopConsume).
func startHeldLoop(t *testing.T, c *Conn, station, name string, n int, mod func(*ConsumerOptions)) (*Consumer, *blockingHandler) {
	t.Helper()
	fillStation(t, c, station, n)
	cons := createConsumer(t, c, station, name, mod)
	h := newBlockingHandler()
	if err := cons.Consume(h.handle, PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(h.quit)
		_ = cons.StopConsume()
	})
	return cons, h
}

func (b *blockingHandler) handle(msgs []*Message, err error, _ any) {
	if len(msgs) == 0 {
		return
	}
	b.mu.Lock()
	b.batches = append(b.batches, msgs)
	b.mu.Unlock()
	b.started <- len(msgs)
	select {
	case <-b.release:
	case <-b.quit:
		return
	}
	_ = AckAll(context.Background(), msgs)
}

// While the handler works on a full batch, the loop already holds the next
// one: the broker's round trip overlaps the handler.
func TestConsumeLoopFetchesAheadWhileTheHandlerWorks(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	const batch = 20
	_, h := startHeldLoop(t, c, "ahead", "worker", 3*batch, func(o *ConsumerOptions) {
		o.BatchSize = batch
		o.PullInterval = time.Millisecond
	})
	for round := range 3 {
		if n := recv(t, h.started, "a handler call"); n != batch {
			t.Fatalf("handler call %d got %d messages, want %d", round, n, batch)
		}
		if round < 2 {
			// This batch and the next one are delivered to the loop.
			devbrokertest.WaitFor(t, "the next batch fetched while the handler works", func() bool {
				return ackPending(t, c, "ahead", "worker") == 2*batch
			})
		}
		h.release <- struct{}{}
	}
	// Every message once, in order.
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	for _, msgs := range h.batches {
		for _, m := range msgs {
			if got, want := string(m.Data()), string(payload(i)); got != want {
				t.Fatalf("message %d is %q, want %q", i, got, want)
			}
			i++
		}
	}
	if i != 3*batch {
		t.Fatalf("handled %d messages, want %d", i, 3*batch)
	}
}

// A batch fetched ahead that the handler never got goes back to the broker
// when the loop stops: another member of the group gets it at once, not
// after the ack wait.
func TestStoppedLoopGivesItsFetchedAheadBatchBack(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	const batch = 20
	long := func(o *ConsumerOptions) {
		o.Group = "team"
		o.BatchSize = batch
		o.PullInterval = time.Millisecond
		o.MaxAckTime = 10 * time.Minute
	}
	first, h := startHeldLoop(t, c, "giveback", "first", 2*batch, long)
	recv(t, h.started, "the first handler call")
	devbrokertest.WaitFor(t, "the second batch fetched ahead", func() bool {
		return ackPending(t, c, "giveback", "team") == 2*batch
	})
	stopped := make(chan error, 1)
	go func() { stopped <- first.StopConsume() }()
	h.release <- struct{}{}
	if err := recv(t, stopped, "StopConsume"); err != nil {
		t.Fatal(err)
	}
	second := createConsumer(t, c, "giveback", "second", long)
	got := fetchUntil(t, second, batch, PartitionSelector{})
	for i, m := range got {
		if want := string(payload(batch + i)); string(m.Data()) != want {
			t.Fatalf("second member got %q at %d, want %q", m.Data(), i, want)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.batches); n != 1 {
		t.Fatalf("stopped loop handed %d batches to its handler, want 1", n)
	}
}

// A handler slow next to the ack wait is not fetched ahead of: messages
// would wait for it with their ack-wait clock running.
func TestSlowHandlerIsNotFetchedAhead(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	const batch = 10
	_, h := startHeldLoop(t, c, "slow", "worker", 3*batch, func(o *ConsumerOptions) {
		o.BatchSize = batch
		o.PullInterval = time.Millisecond
		o.MaxAckTime = 2 * time.Second
	})
	// The first call has no measured handler time yet, so the loop fetches
	// ahead; this call then takes over a quarter of the ack wait.
	recv(t, h.started, "the first handler call")
	time.Sleep(600 * time.Millisecond)
	h.release <- struct{}{}
	recv(t, h.started, "the second handler call")
	// Only the batch in the handler is out; give a wrongly started fetch
	// time to show before checking.
	time.Sleep(300 * time.Millisecond)
	if n := ackPending(t, c, "slow", "worker"); n != batch {
		t.Fatalf("%d messages delivered during a slow handler call, want only its %d", n, batch)
	}
	h.release <- struct{}{}
	recv(t, h.started, "the third handler call")
	h.release <- struct{}{}
}
