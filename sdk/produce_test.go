package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

func TestProduceAsyncAndFlush(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "async", func(o *StationOptions) { o.PartitionsNumber = 2 })
	p := createProducer(t, c, "async", "prod")
	const n = 500
	var mu sync.Mutex
	seqs := map[[2]uint64]bool{}
	var fails atomic.Int64
	for i := range n {
		err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, func(d Delivery) {
			if d.Err != nil {
				fails.Add(1)
				return
			}
			mu.Lock()
			seqs[[2]uint64{uint64(d.Partition), d.Sequence}] = true
			mu.Unlock()
		})
		if err != nil {
			t.Fatalf("produce async %d: %v", i, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	got := len(seqs)
	mu.Unlock()
	if got != n || fails.Load() != 0 {
		t.Fatalf("%d distinct deliveries, %d failures; want %d, 0", got, fails.Load(), n)
	}
	cons := createConsumer(t, c, "async", "reader", func(o *ConsumerOptions) { o.BatchSize = 500 })
	fetchUntil(t, cons, n, PartitionSelector{})
}

// 100,000 nonblocking produces: every one is either acknowledged or its
// failure is reported — nothing disappears silently.
func TestProduceAsync100k(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "bulk")
	p := windowedProducer(t, c, "bulk", "bulk-prod", 2000)
	const n = 100000
	var ok, failed, refused atomic.Int64
	var maxSeq atomic.Uint64
	msg := make([]byte, 128)
	for range n {
		err := p.ProduceAsync(ctx, msg, ProduceOptions{}, func(d Delivery) {
			if d.Err != nil {
				failed.Add(1)
				return
			}
			ok.Add(1)
			for {
				cur := maxSeq.Load()
				if d.Sequence <= cur || maxSeq.CompareAndSwap(cur, d.Sequence) {
					break
				}
			}
		})
		if err != nil {
			refused.Add(1)
		}
	}
	flushErr := p.Flush(ctx)
	total := ok.Load() + failed.Load() + refused.Load()
	if total != n {
		t.Fatalf("accounted for %d of %d messages (ok %d, failed %d, refused %d)", total, n, ok.Load(), failed.Load(), refused.Load())
	}
	if failed.Load() > 0 && flushErr == nil {
		t.Fatal("failures happened but Flush reported none")
	}
	if ok.Load() == n && maxSeq.Load() != n {
		t.Fatalf("all %d acknowledged but the last sequence is %d", n, maxSeq.Load())
	}
	t.Logf("ok %d, failed %d, refused %d", ok.Load(), failed.Load(), refused.Load())
}

func TestProduceWindowBackpressure(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "window")
	opts := DefaultProducerOptions("window", "wp")
	opts.MaxInFlight = 1
	opts.AckWait = 300 * time.Millisecond
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Hold the only slot: the callback blocks until released, so the
	// window stays full and the next produce must fail with QueueFull.
	release := make(chan struct{})
	var firstDone sync.WaitGroup
	firstDone.Add(1)
	if err := p.ProduceAsync(ctx, []byte("a"), ProduceOptions{}, func(Delivery) {
		<-release
		firstDone.Done()
	}); err != nil {
		t.Fatal(err)
	}
	err = p.ProduceAsync(ctx, []byte("b"), ProduceOptions{}, nil)
	if CodeOf(err) != CodeQueueFull {
		t.Fatalf("full window: %v, want CodeQueueFull", err)
	}
	close(release)
	firstDone.Wait()
	// The slot frees right after the callback returns; allow ample time.
	if err := p.ProduceAsync(ctx, []byte("c"), ProduceOptions{AckWait: 30 * time.Second}, nil); err != nil {
		t.Fatalf("after the window drained: %v", err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestProduceErrorsReachCaller(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "gone")
	p := createProducer(t, c, "gone", "prod")
	st := &Station{conn: c, Name: "gone"}
	if err := st.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	// Sync: the broker's absence of a stream is a clear error.
	err := p.Produce(ctx, []byte("x"), ProduceOptions{AckWait: 2 * time.Second})
	if err == nil {
		t.Fatal("sync produce to a destroyed station succeeded")
	}
	// Nonblocking: the failure arrives in the callback and in Flush.
	got := make(chan Delivery, 1)
	if err := p.ProduceAsync(ctx, []byte("x"), ProduceOptions{AckWait: 2 * time.Second}, func(d Delivery) { got <- d }); err != nil {
		t.Fatal(err)
	}
	d := recv(t, got, "delivery of the produce to a destroyed station")
	if d.Err == nil {
		t.Fatal("nonblocking produce to a destroyed station reported success")
	}
	// Flush is the one record of failures: it counts those handed to a
	// callback and to none, once, and not those the caller awaited.
	if _, err := p.ProduceBatchStopOnError(ctx, []BatchMessage{{Data: []byte("b1")}, {Data: []byte("b2")}}, nil); err != nil {
		t.Fatal(err)
	}
	awaited := make(chan Delivery, 2)
	if err := p.ProduceAsync(ctx, []byte("w"), ProduceOptions{Awaited: true}, func(d Delivery) { awaited <- d }); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProduceBatchStopOnError(ctx, []BatchMessage{{Data: []byte("wb"), Options: ProduceOptions{Awaited: true}}},
		func(_ int, d Delivery) { awaited <- d }); err != nil {
		t.Fatal(err)
	}
	err = p.Flush(ctx)
	var fe *FlushError
	if !errors.As(err, &fe) || fe.Failed != 3 {
		t.Fatalf("Flush: %v, want a FlushError counting 3 failures (1 with a callback, 2 without)", err)
	}
	if CodeOf(err) != CodeOf(d.Err) || !strings.Contains(err.Error(), "3 messages failed") {
		t.Fatalf("Flush: %v (code %v), want the first failure's code %v and the count", err, CodeOf(err), CodeOf(d.Err))
	}
	for range 2 {
		if a := recv(t, awaited, "awaited delivery"); a.Err == nil {
			t.Fatal("awaited produce to a destroyed station reported success")
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("second Flush re-reported: %v", err)
	}
}

func TestProduceBatch(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "batch")
	p := createProducer(t, c, "batch", "prod")
	msgs := make([]BatchMessage, 100)
	for i := range msgs {
		msgs[i] = BatchMessage{Data: payload(i)}
	}
	msgs[50].Options.Headers = Headers{"$memphis_bad": "x"}
	var mu sync.Mutex
	results := map[int]error{}
	err := p.ProduceBatch(ctx, msgs, func(i int, d Delivery) {
		mu.Lock()
		if _, dup := results[i]; dup {
			t.Errorf("message %d reported twice", i)
		}
		results[i] = d.Err
		mu.Unlock()
	})
	if CodeOf(err) != CodeHeader {
		t.Fatalf("batch with a reserved header: %v", err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 100 {
		t.Fatalf("%d results, want 100", len(results))
	}
	for i, e := range results {
		if (i == 50) != (e != nil) {
			t.Fatalf("message %d: %v", i, e)
		}
	}
	cons := createConsumer(t, c, "batch", "reader", func(o *ConsumerOptions) { o.BatchSize = 100 })
	fetchUntil(t, cons, 99, PartitionSelector{})
}

func TestIdempotency(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "idem")
	p := createProducer(t, c, "idem", "prod")
	for range 3 {
		if err := p.Produce(ctx, []byte("once"), ProduceOptions{MsgID: "id-1"}); err != nil {
			t.Fatal(err)
		}
	}
	dup := make(chan Delivery, 1)
	if err := p.ProduceAsync(ctx, []byte("once"), ProduceOptions{MsgID: "id-1"}, func(d Delivery) { dup <- d }); err != nil {
		t.Fatal(err)
	}
	if d := recv(t, dup, "delivery of the repeated msg-id"); d.Err != nil || !d.Duplicate {
		t.Fatalf("repeated msg-id: %+v, want Duplicate", d)
	}
	if err := p.Produce(ctx, []byte("twice"), ProduceOptions{MsgID: "id-2"}); err != nil {
		t.Fatal(err)
	}
	cons := createConsumer(t, c, "idem", "reader")
	msgs := fetchUntil(t, cons, 2, PartitionSelector{})
	if string(msgs[0].Data()) != "once" || msgs[0].Headers()["msg-id"] != "id-1" {
		t.Fatalf("first message %q %v", msgs[0].Data(), msgs[0].Headers())
	}
	more, err := cons.Fetch(ctx, 10, PartitionSelector{})
	if err != nil || len(more) != 0 {
		t.Fatalf("duplicates stored: %d more, %v", len(more), err)
	}
}

func TestPartitionRouting(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "routed", func(o *StationOptions) { o.PartitionsNumber = 3 })
	p := createProducer(t, c, "routed", "prod")
	// Vectors of §6.1, mod 3, over the list [1,2,3]. (An empty key means
	// "no key", as in the official SDKs, so its vector is only unit-tested.)
	want := map[string]int{"a": 1, "key": 2, "user-1": 3, "customer-42": 1, "memphis": 1}
	for key, part := range want {
		got := make(chan Delivery, 1)
		if err := p.ProduceAsync(ctx, []byte(key), ProduceOptions{PartitionKey: key}, func(d Delivery) { got <- d }); err != nil {
			t.Fatal(err)
		}
		if d := recv(t, got, "delivery of the keyed produce"); d.Err != nil || d.Partition != part {
			t.Fatalf("key %q went to partition %d (%v), want %d", key, d.Partition, d.Err, part)
		}
	}
	if err := p.Produce(ctx, []byte("p2"), ProduceOptions{PartitionNumber: 2}); err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(ctx, []byte("x"), ProduceOptions{PartitionNumber: 4}); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("partition 4 of 3: %v", err)
	}
	if err := p.Produce(ctx, []byte("x"), ProduceOptions{PartitionNumber: 1, PartitionKey: "k"}); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("key and number: %v", err)
	}
	// Consumers read one partition by key or number.
	cons := createConsumer(t, c, "routed", "reader")
	msgs := fetchUntil(t, cons, 1, PartitionSelector{Key: "user-1"}) // partition 3 holds only "user-1"
	for _, m := range msgs {
		if m.Partition() != 3 {
			t.Fatalf("fetch by key user-1 got partition %d", m.Partition())
		}
	}
	msgs = fetchUntil(t, cons, 2, PartitionSelector{Number: 2}) // "key" and "p2"
	for _, m := range msgs {
		if m.Partition() != 2 || (string(m.Data()) != "key" && string(m.Data()) != "p2") {
			t.Fatalf("partition 2 held %q (partition %d)", m.Data(), m.Partition())
		}
	}
}

func TestHeaderRules(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "hdrs", "prod")
	err := p.Produce(ctx, []byte("x"), ProduceOptions{Headers: Headers{"$memphis_producedBy": "evil"}})
	if CodeOf(err) != CodeHeader || !strings.Contains(err.Error(), "$memphis") {
		t.Fatalf("reserved header: %v", err)
	}
}

func TestOneShotProduceCachesProducer(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	for i := range 5 {
		if err := c.Produce(ctx, "oneshot", "quick", payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n := len(c.producers)
	c.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d cached producers, want 1", n)
	}
	o := DefaultConsumerOptions("oneshot", "quick-reader")
	o.BatchMaxWait = time.Second
	var got int
	for got < 5 {
		msgs, err := c.FetchMessages(ctx, o, PartitionSelector{})
		if err != nil {
			t.Fatal(err)
		}
		if err := AckAll(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		got += len(msgs)
	}
}

func TestMultiStationProducer(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "left", "fan", alsoOn("right"))
	if err := p.Produce(ctx, []byte("both"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	stations := map[string]bool{}
	if err := p.ProduceAsync(ctx, []byte("both-async"), ProduceOptions{}, func(d Delivery) {
		mu.Lock()
		stations[d.Station] = d.Err == nil
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !stations["left"] || !stations["right"] {
		t.Fatalf("deliveries %v", stations)
	}
	for _, s := range []string{"left", "right"} {
		fetchUntil(t, createConsumer(t, c, s, "r"), 2, PartitionSelector{})
	}
	_ = context.Background()
}

// Destroy waits for every nonblocking produce before unregistering.
func TestDestroyFlushes(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "drain", "prod")
	var done atomic.Int64
	const n = 300
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, func(d Delivery) {
			if d.Err == nil {
				done.Add(1)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if got := done.Load(); got != n {
		t.Fatalf("Destroy returned with %d of %d produces acknowledged", got, n)
	}
	if err := p.Destroy(ctx); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
}

// Many goroutines share one producer and one connection.
func TestConcurrentProducers(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "shared-p", func(o *StationOptions) { o.PartitionsNumber = 2 })
	p := createProducer(t, c, "shared-p", "prod")
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				data := payload(w*each + i)
				var err error
				switch i % 3 {
				case 0:
					err = p.Produce(ctx, data, ProduceOptions{})
				case 1:
					err = p.ProduceAsync(ctx, data, ProduceOptions{}, nil)
				default:
					err = c.Produce(ctx, "shared-p", "oneshot", data, ProduceOptions{})
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons := createConsumer(t, c, "shared-p", "reader", func(o *ConsumerOptions) { o.BatchSize = 100 })
	msgs := fetchUntil(t, cons, workers*each, PartitionSelector{})
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[string(m.Data())] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct messages, want %d", len(seen), workers*each)
	}
}

// Close fails every pending nonblocking produce instead of dropping it.
func TestCloseReportsPendingProduces(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "closing", "prod")
	var reported atomic.Int64
	const n = 2000
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, func(Delivery) { reported.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "every produce reported", func() bool { return reported.Load() == n })
	_ = p.Flush(ctx) // must return: nothing is pending any more
}

// Produce calls do not keep the caller's bytes: each message's buffer is
// overwritten as soon as the call returns (before its ack arrives), and
// the broker still stores what was passed. The C API publishes straight
// from the caller's memory on the strength of this.
func TestProduceDoesNotKeepMsg(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "reuse")
	p := createProducer(t, c, "reuse", "prod")
	buf := make([]byte, 64)
	scribble := func() {
		for i := range buf {
			buf[i] = '#'
		}
	}
	want := map[string]bool{}
	use := func(s string) []byte {
		want[s] = true
		return append(buf[:0], s...)
	}
	for i := range 200 {
		if err := p.ProduceAsync(ctx, use(fmt.Sprintf("async-%03d", i)), ProduceOptions{}, nil); err != nil {
			t.Fatalf("produce async %d: %v", i, err)
		}
		scribble()
	}
	for i := range 5 {
		if err := p.Produce(ctx, use(fmt.Sprintf("sync-%03d", i)), ProduceOptions{}); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		scribble()
	}
	// Batches whose messages share one backing array.
	batch := func(prefix string) []BatchMessage {
		msgs := make([]BatchMessage, 4)
		for i := range msgs {
			s := fmt.Sprintf("%s-%d", prefix, i)
			want[s] = true
			msgs[i].Data = append(buf[i*16:i*16], s...)
		}
		return msgs
	}
	if err := p.ProduceBatch(ctx, batch("batch"), nil); err != nil {
		t.Fatalf("produce batch: %v", err)
	}
	scribble()
	if n, err := p.ProduceBatchStopOnError(ctx, batch("stop"), nil); err != nil || n != 4 {
		t.Fatalf("produce batch stop on error: %d sent, %v", n, err)
	}
	scribble()
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	cons := createConsumer(t, c, "reuse", "reader", func(o *ConsumerOptions) { o.BatchSize = 500 })
	got := map[string]bool{}
	for _, m := range fetchUntil(t, cons, len(want), PartitionSelector{}) {
		got[string(m.Data())] = true
	}
	if len(got) != len(want) {
		t.Fatalf("stored %d distinct payloads, want %d", len(got), len(want))
	}
	for s := range want {
		if !got[s] {
			t.Fatalf("payload %q missing (stored: %v)", s, got)
		}
	}
}
