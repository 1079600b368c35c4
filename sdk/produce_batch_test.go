package sdk

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
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
	p := windowedProducer(t, c, "batch-window", "prod", 16)
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
	p := createProducer(t, c, "batch-a", "prod", alsoOn("batch-b"))
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
		p := windowedProducer(t, c, "batch-close", "racer", 32)
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
		devbrokertest.WaitFor(t, "batch messages acknowledged", func() bool { return started.Load() > 100 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		recv(t, finished, "ProduceBatch to return after Close")
		for tally := range tallies {
			devbrokertest.WaitFor(t, "every message of the batch reported", func() bool { return tally.total.Load() >= n })
			tally.check(t)
		}
	}
}

// checkCutOff fails unless messages [0, sent) were each reported exactly
// once per station and none of [sent, n) ever was.
func (bt *batchTally) checkCutOff(t *testing.T, sent int) {
	t.Helper()
	for k := range bt.calls {
		want := int32(0)
		if k/len(bt.pos) < sent {
			want = 1
		}
		if n := bt.calls[k].Load(); n != want {
			t.Fatalf("message %d station %d reported %d times, want %d (cut off after %d)", k/len(bt.pos), k%len(bt.pos), n, want, sent)
		}
	}
}

// A message refused before sending (reserved header, bad partition, schema
// violation) in the middle of a batch ends it: the earlier messages are
// delivered and reported, it and the later ones are neither sent nor
// reported, and the return says how many were sent and why.
func TestProduceBatchStopOnErrorCutsOffAtInvalidMessage(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	sc := schemaCases[0] // JSON
	if err := c.CreateSchema(ctx, "cut-schema", sc.typ, []byte(sc.content)); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	cases := []struct {
		name    string
		schema  bool
		code    Code
		corrupt func(m *BatchMessage)
	}{
		{"header", false, CodeHeader, func(m *BatchMessage) { m.Options.Headers = Headers{"$memphis_bad": "x"} }},
		{"partition", false, CodeInvalidArgument, func(m *BatchMessage) { m.Options.PartitionNumber = -1 }},
		{"schema", true, CodeSchemaValidation, func(m *BatchMessage) { m.Data = sc.invalid }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			station := "cut-" + tc.name
			createStation(t, c, station)
			p := createProducer(t, c, station, "prod")
			if tc.schema {
				if err := c.EnforceSchema(ctx, "cut-schema", station); err != nil {
					t.Fatalf("enforce: %v", err)
				}
				internal := internalName(station)
				devbrokertest.WaitFor(t, "schema to reach the producer", func() bool { return c.currentSchema(internal) != nil })
			}
			const n, bad = 40, 17
			msgs := make([]BatchMessage, n)
			for i := range msgs {
				msgs[i] = BatchMessage{Data: payload(i)}
				if tc.schema {
					msgs[i].Data = sc.valid
				}
			}
			tc.corrupt(&msgs[bad])
			tally := newBatchTally(n, station)
			sent, err := p.ProduceBatchStopOnError(ctx, msgs, func(i int, d Delivery) {
				tally.done(i, d)
				if d.Err != nil {
					t.Errorf("message %d: %v", i, d.Err)
				}
			})
			if sent != bad || CodeOf(err) != tc.code {
				t.Fatalf("ProduceBatchStopOnError = %d, %v (code %v); want %d and code %v", sent, err, CodeOf(err), bad, tc.code)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatalf("flush: %v", err)
			}
			tally.checkCutOff(t, bad)
			cons := createConsumer(t, c, station, "reader", func(o *ConsumerOptions) { o.BatchSize = 100 })
			fetchUntil(t, cons, bad, PartitionSelector{})
			// Nothing after the cut-off was stored either.
			more, err := cons.Fetch(ctx, 10, PartitionSelector{})
			if err != nil && !errors.Is(err, ErrNoMessages) {
				t.Fatalf("fetch: %v", err)
			}
			if len(more) != 0 {
				t.Fatalf("%d messages after the cut-off were stored", len(more))
			}
		})
	}
}

// With several stations the loop stops at the refused message too: every
// earlier message is reported once per station, later ones never.
func TestProduceBatchStopOnErrorMultiStation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "cut-a")
	createStation(t, c, "cut-b")
	p := createProducer(t, c, "cut-a", "prod", alsoOn("cut-b"))
	const n, bad = 30, 11
	msgs := make([]BatchMessage, n)
	for i := range msgs {
		msgs[i] = BatchMessage{Data: payload(i)}
	}
	msgs[bad].Options.Headers = Headers{"$memphis_bad": "x"}
	tally := newBatchTally(n, "cut-a", "cut-b")
	sent, err := p.ProduceBatchStopOnError(ctx, msgs, tally.done)
	if sent != bad || CodeOf(err) != CodeHeader {
		t.Fatalf("ProduceBatchStopOnError = %d, %v; want %d and a header error", sent, err, bad)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	tally.checkCutOff(t, bad)
	if f := tally.failed.Load(); f != 0 {
		t.Fatalf("%d deliveries failed", f)
	}
}

// A full window with a context that is already done (a C caller's
// block_timeout_ms = 0) cuts the batch off at the first message without a
// slot: the ones that got a slot are sent and reported, the rest not.
// The window is filled by hand and acks are held back, so the test does
// not depend on ack timing.
func TestProduceBatchStopOnErrorWindowFull(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "cut-window")
	p := windowedProducer(t, c, "cut-window", "prod", 8)
	const n, free = 20, 3
	holdWindow(p, p.win.maxCount-free) // slots held by nobody: acks never free them
	done, cancel := context.WithCancel(context.Background())
	cancel()
	msgs := make([]BatchMessage, n)
	for i := range msgs {
		msgs[i] = BatchMessage{Data: payload(i)}
	}
	tally := newBatchTally(n, "cut-window")
	// The first ack's callback holds the reply dispatcher until the call
	// returns, so no ack frees a slot during it.
	gate := make(chan struct{})
	sent, err := p.ProduceBatchStopOnError(done, msgs, func(i int, d Delivery) {
		<-gate
		tally.done(i, d)
	})
	close(gate)
	if sent != free || CodeOf(err) != CodeTimeout || !errors.Is(err, context.Canceled) {
		t.Fatalf("ProduceBatchStopOnError = %d, %v; want %d and a cancelled wait for the window", sent, err, free)
	}
	releaseWindow(p, p.win.maxCount-free) // Flush waits for everything the window counts
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	tally.checkCutOff(t, free)
	if f := tally.failed.Load(); f != 0 {
		t.Fatalf("%d deliveries failed", f)
	}
	// Entirely full: nothing is sent, nothing reported.
	holdWindow(p, p.win.maxCount)
	none := newBatchTally(n, "cut-window")
	if sent, err := p.ProduceBatchStopOnError(done, msgs, none.done); sent != 0 || CodeOf(err) != CodeTimeout {
		t.Fatalf("full window: ProduceBatchStopOnError = %d, %v; want 0 and a timeout", sent, err)
	}
	none.checkCutOff(t, 0)
	releaseWindow(p, p.win.maxCount)
}

// Conn.Close while cut-off batches are blocked on a small window: every
// call returns, and exactly the messages it counts as sent are reported,
// each exactly once (delivered or failed by Close); none after them.
func TestProduceBatchStopOnErrorRacingClose(t *testing.T) {
	b := startBroker(t)
	for range 3 {
		c := connect(t, b)
		p := windowedProducer(t, c, "cut-close", "racer", 32)
		const n = 2000
		msgs := make([]BatchMessage, n)
		for i := range msgs {
			msgs[i] = BatchMessage{Data: payload(i)}
		}
		type run struct {
			tally *batchTally
			sent  int
		}
		var reported atomic.Int64
		runs := make(chan run, 64)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			defer close(runs)
			for {
				tally := newBatchTally(n, "cut-close")
				sent, err := p.ProduceBatchStopOnError(context.Background(), msgs, func(i int, d Delivery) {
					reported.Add(1)
					tally.done(i, d)
				})
				runs <- run{tally, sent}
				if err != nil || len(runs) == cap(runs) {
					return
				}
			}
		}()
		devbrokertest.WaitFor(t, "batch messages acknowledged", func() bool { return reported.Load() > 100 })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		recv(t, finished, "ProduceBatchStopOnError to return after Close")
		for r := range runs {
			devbrokertest.WaitFor(t, "every sent message reported", func() bool { return r.tally.total.Load() >= int64(r.sent) })
			r.tally.checkCutOff(t, r.sent)
		}
	}
}
