package sdk

import (
	"context"
	"sync/atomic"
	"testing"
)

// batchTally counts done calls per (message, station) of one ProduceBatch.
type batchTally struct {
	calls  []atomic.Int32 // index: message*stations + station position
	failed atomic.Int64
	total  atomic.Int64
	pos    map[string]int
}

func newBatchTally(n int, stations ...string) *batchTally {
	t := &batchTally{calls: make([]atomic.Int32, n*len(stations)), pos: map[string]int{}}
	for i, s := range stations {
		t.pos[s] = i
	}
	return t
}

func (bt *batchTally) done(i int, d Delivery) {
	bt.calls[i*len(bt.pos)+bt.pos[d.Station]].Add(1)
	bt.total.Add(1)
	if d.Err != nil {
		bt.failed.Add(1)
	}
}

// check fails unless every (message, station) was reported exactly once.
func (bt *batchTally) check(t *testing.T) {
	t.Helper()
	for k := range bt.calls {
		if n := bt.calls[k].Load(); n != 1 {
			t.Fatalf("message %d station %d reported %d times, want exactly once", k/len(bt.pos), k%len(bt.pos), n)
		}
	}
}

// A batch many times the in-flight window is sent in window-sized chunks:
// every message is delivered and reported once, none is refused as a full
// window.
func TestProduceBatchLargerThanWindow(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "batch-window")
	opts := DefaultProducerOptions("prod", "batch-window")
	opts.MaxInFlight = 16
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	msgs := make([]BatchMessage, n)
	for i := range msgs {
		msgs[i] = BatchMessage{Data: payload(i)}
	}
	tally := newBatchTally(n, "batch-window")
	if err := p.ProduceBatch(ctx, msgs, tally.done); err != nil {
		t.Fatalf("batch of %d through a window of 16: %v", n, err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	tally.check(t)
	if f := tally.failed.Load(); f != 0 {
		t.Fatalf("%d messages failed", f)
	}
	cons := createConsumer(t, c, "batch-window", "reader", func(o *ConsumerOptions) { o.BatchSize = 100 })
	got := fetchUntil(t, cons, n, PartitionSelector{})
	for i, m := range got {
		if string(m.Data()) != string(payload(i)) {
			t.Fatalf("message %d is %q: batch order lost", i, m.Data())
		}
	}
}

// A message failing validation in the middle of a multi-station batch is
// reported failed once per station; its neighbours are sent to both.
func TestProduceBatchMiddleFailureMultiStation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "batch-a")
	createStation(t, c, "batch-b")
	p := createProducer(t, c, "prod", "batch-a", "batch-b")
	const n = 40
	msgs := make([]BatchMessage, n)
	for i := range msgs {
		msgs[i] = BatchMessage{Data: payload(i)}
	}
	msgs[17].Options.Headers = Headers{"$memphis_bad": "x"} // reserved header
	var bad [2]atomic.Int32
	tally := newBatchTally(n, "batch-a", "batch-b")
	err := p.ProduceBatch(ctx, msgs, func(i int, d Delivery) {
		tally.done(i, d)
		if (d.Err != nil) != (i == 17) {
			t.Errorf("message %d to %s: %v", i, d.Station, d.Err)
		}
		if d.Err != nil {
			bad[tally.pos[d.Station]].Add(1)
		}
	})
	if err == nil {
		t.Fatal("batch with a reserved header returned nil")
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	tally.check(t)
	if bad[0].Load() != 1 || bad[1].Load() != 1 {
		t.Fatalf("failure reported %d/%d times per station, want 1/1", bad[0].Load(), bad[1].Load())
	}
	for _, st := range []string{"batch-a", "batch-b"} {
		cons := createConsumer(t, c, st, "reader", func(o *ConsumerOptions) { o.BatchSize = 100 })
		fetchUntil(t, cons, n-1, PartitionSelector{})
	}
}

// Conn.Close while batches are blocked on a small window: every call
// returns, and every message of every batch is reported exactly once
// (delivered, failed by Close, or never sent).
func TestProduceBatchRacingCloseReportsEachMessageOnce(t *testing.T) {
	b := startBroker(t)
	for range 3 {
		c := connect(t, b)
		opts := DefaultProducerOptions("racer", "batch-close")
		opts.MaxInFlight = 32
		p, err := c.CreateProducer(testCtx(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		const n = 2000
		msgs := make([]BatchMessage, n)
		for i := range msgs {
			msgs[i] = BatchMessage{Data: payload(i)}
		}
		var started atomic.Int64
		tallies := make(chan *batchTally, 64)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			defer close(tallies)
			for {
				tally := newBatchTally(n, "batch-close")
				tallies <- tally
				err := p.ProduceBatch(context.Background(), msgs, func(i int, d Delivery) {
					started.Add(1)
					tally.done(i, d)
				})
				if err != nil || len(tallies) == cap(tallies) {
					return
				}
			}
		}()
		waitFor(t, "batch messages acknowledged", func() bool { return started.Load() > 100 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		recv(t, finished, "ProduceBatch to return after Close")
		for tally := range tallies {
			waitFor(t, "every message of the batch reported", func() bool { return tally.total.Load() >= n })
			tally.check(t)
		}
	}
}
