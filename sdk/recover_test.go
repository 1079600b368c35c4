package sdk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go/jetstream"
)

// fastReconnect keeps trying every 100 ms, forever.
func fastReconnect(o *ConnectOptions) {
	o.MaxReconnect = -1
	o.ReconnectInterval = 100 * time.Millisecond
}

// storedMsg is one message as the station's stream holds it.
type storedMsg struct {
	seq   uint64
	data  string
	msgID string
}

// storedMessages reads a one-partition station's stream, in stream order.
func storedMessages(t testing.TB, c *Conn, station string) []storedMsg {
	t.Helper()
	var out []storedMsg
	for _, m := range devbrokertest.StreamMessages(testCtx(t), t, c.nc, streamName(internalName(station), 1)) {
		out = append(out, storedMsg{seq: m.Seq, data: string(m.Data), msgID: m.Header.Get("msg-id")})
	}
	return out
}

// checkStoredOnce checks that the station holds payload(0..n-1) exactly
// once each, in production order, and returns how often it holds extra
// copies of any (0 with msg ids).
func checkStoredOnce(t testing.TB, stored []storedMsg, n int, allowDup bool) (dups int) {
	t.Helper()
	return checkStored(t, stored, n, allowDup, true)
}

// checkStored is checkStoredOnce with the order check optional.
func checkStored(t testing.TB, stored []storedMsg, n int, allowDup, ordered bool) (dups int) {
	t.Helper()
	seen := make([]bool, n)
	last := -1
	for _, m := range stored {
		i, err := strconv.Atoi(strings.TrimPrefix(m.data, "msg-"))
		if err != nil || i < 0 || i >= n {
			t.Fatalf("stored an unknown payload %q", m.data)
		}
		if seen[i] {
			if !allowDup {
				t.Fatalf("message %d stored twice (stream seq %d)", i, m.seq)
			}
			dups++
			continue
		}
		if ordered && i < last {
			t.Fatalf("message %d stored after message %d (stream seq %d): production order broken", i, last, m.seq)
		}
		seen[i], last = true, i
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("message %d was never stored (%d stored)", i, len(stored))
		}
	}
	return dups
}

// deliveries records the results of n nonblocking produces.
type deliveries struct {
	calls   []atomic.Int32
	failed  atomic.Int64
	retried atomic.Int64
	flagged atomic.Int64
	mu      sync.Mutex
	first   error
}

func newDeliveries(n int) *deliveries { return &deliveries{calls: make([]atomic.Int32, n)} }

func (r *deliveries) done(i int) func(Delivery) {
	return func(d Delivery) { r.record(i, d) }
}

func (r *deliveries) record(i int, d Delivery) {
	r.calls[i].Add(1)
	if d.Retries > 0 {
		r.retried.Add(1)
	}
	if d.PossibleDuplicate {
		r.flagged.Add(1)
	}
	if d.Err != nil {
		r.failed.Add(1)
		r.mu.Lock()
		if r.first == nil {
			r.first = fmt.Errorf("message %d: %w", i, d.Err)
		}
		r.mu.Unlock()
	}
}

// check fails unless every produce got exactly one result and none failed.
func (r *deliveries) check(t testing.TB) {
	t.Helper()
	for i := range r.calls {
		if n := r.calls[i].Load(); n != 1 {
			t.Fatalf("message %d got %d delivery results, want exactly one", i, n)
		}
	}
	if f := r.failed.Load(); f > 0 {
		t.Fatalf("%d produces failed; first: %v", f, r.first)
	}
}

// A broker restart (clean shutdown, same data dir) in the middle of
// nonblocking produces: every produce gets exactly one result, all
// succeed, and with an idempotent producer the station holds every
// message once, in production order.
func TestProduceAsyncAcrossRestart(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, fastReconnect)
	ctx := testCtx(t)
	createStation(t, c, "ride")
	opts := DefaultProducerOptions("ride", "prod")
	opts.Idempotent = true
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	res := newDeliveries(n)
	produceAcrossRestart(t, ctx, b, p, n, res.done)
	res.check(t)
	if f := res.flagged.Load(); f != 0 {
		t.Fatalf("%d deliveries of an idempotent producer flagged possible duplicates", f)
	}
	checkStoredOnce(t, storedMessages(t, c, "ride"), n, false)
	t.Logf("%d messages, %d resent after the restart", n, res.retried.Load())
}

// Sync produce from several goroutines across a restart: every call
// returns nil within its ack wait, and nothing is stored twice.
func TestSyncProduceAcrossRestart(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, fastReconnect)
	ctx := testCtx(t)
	createStation(t, c, "ride-sync")
	opts := DefaultProducerOptions("ride-sync", "prod")
	opts.Idempotent = true
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 300
	var done atomic.Int64
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				if err := p.Produce(ctx, payload(w*each+i), ProduceOptions{}); err != nil {
					errs <- fmt.Errorf("worker %d message %d: %w", w, i, err)
					return
				}
				done.Add(1)
			}
			errs <- nil
		}()
	}
	devbrokertest.WaitFor(t, "some produced", func() bool { return done.Load() > workers*each/4 })
	devbrokertest.Restart(t, b)
	for range workers {
		if err := recv(t, errs, "a producing goroutine"); err != nil {
			t.Fatal(err)
		}
	}
	stored := storedMessages(t, c, "ride-sync")
	if len(stored) != workers*each {
		t.Fatalf("station holds %d messages, want %d", len(stored), workers*each)
	}
}

// Without a msg id a resent message may be stored twice: every extra copy
// the station holds belongs to a delivery flagged PossibleDuplicate.
func TestResendWithoutIDIsFlagged(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, fastReconnect)
	ctx := testCtx(t)
	createStation(t, c, "ride-noid")
	p := createProducer(t, c, "ride-noid", "prod")
	const n = 20000
	res := newDeliveries(n)
	produceAcrossRestart(t, ctx, b, p, n, res.done)
	res.check(t)
	if res.flagged.Load() != res.retried.Load() {
		t.Fatalf("%d resent without a msg id but %d flagged possible duplicates", res.retried.Load(), res.flagged.Load())
	}
	dups := checkStoredOnce(t, storedMessages(t, c, "ride-noid"), n, true)
	if int64(dups) > res.flagged.Load() {
		t.Fatalf("%d duplicates stored but only %d deliveries flagged PossibleDuplicate", dups, res.flagged.Load())
	}
	t.Logf("%d resent, %d flagged, %d stored twice", res.retried.Load(), res.flagged.Load(), dups)
}

// A message produced while the broker is down and not back within its
// ack wait fails at its deadline saying so, never that the station does
// not exist; the producer then works again once the broker is back.
func TestProduceWhileBrokerDown(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, fastReconnect)
	ctx := testCtx(t)
	createStation(t, c, "down")
	p := createProducer(t, c, "down", "prod")
	o := b.Options()
	o.Port = b.Port()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "disconnect noticed", func() bool { return !c.IsConnected() })
	start := time.Now()
	err := p.Produce(ctx, []byte("x"), ProduceOptions{AckWait: 500 * time.Millisecond})
	if CodeOf(err) != CodeTimeout || strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "connection to the broker was down") {
		t.Fatalf("sync produce with the broker down: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("the 500 ms ack wait took %v", el)
	}
	got := make(chan Delivery, 1)
	if err := p.ProduceAsync(ctx, []byte("y"), ProduceOptions{}, func(d Delivery) { got <- d }); err != nil {
		t.Fatalf("nonblocking produce while down is accepted and held: %v", err)
	}
	restartOn(t, o)
	if d := recv(t, got, "the held message's delivery"); d.Err != nil {
		t.Fatalf("held message after the broker came back: %v", d.Err)
	}
}

// restartOn starts a broker with o (a stopped broker's options and port).
func restartOn(t testing.TB, o devbroker.Options) *devbroker.Broker {
	t.Helper()
	return devbrokertest.Start(t, func(opts *devbroker.Options) { *opts = o })
}

// An ack of a message delivered before the connection was lost returns at
// once with CodeNotConnected instead of waiting out its confirmation, and
// the consume loop resumes by itself after the restart.
func TestStaleAckFailsFast(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, fastReconnect)
	ctx := testCtx(t)
	createStation(t, c, "stale")
	p := createProducer(t, c, "stale", "prod")
	for i := range 20 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cons := createConsumer(t, c, "stale", "reader", func(o *ConsumerOptions) {
		o.BatchSize = 20
		o.MaxAckTime = 2 * time.Second
	})
	msgs, err := cons.Fetch(ctx, 20, PartitionSelector{})
	if err != nil || len(msgs) == 0 {
		t.Fatalf("fetch: %d, %v", len(msgs), err)
	}
	devbrokertest.Restart(t, b)
	devbrokertest.WaitFor(t, "reconnect", c.IsConnected)
	start := time.Now()
	err = msgs[0].Ack(ctx)
	if CodeOf(err) != CodeNotConnected || !strings.Contains(err.Error(), "stale delivery") {
		t.Fatalf("ack of a pre-restart delivery: %v, want CodeNotConnected (stale delivery)", err)
	}
	if err := AckAll(ctx, msgs[1:]); CodeOf(err) != CodeNotConnected {
		t.Fatalf("AckAll of pre-restart deliveries: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("stale acks took %v", el)
	}
	// The consumer works on: new messages arrive (after redeliveries of
	// any message whose stale ack did not count).
	for i := 20; i < 25; i++ {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	devbrokertest.WaitFor(t, "the new messages", func() bool {
		msgs, err := cons.Fetch(ctx, 20, PartitionSelector{})
		if err != nil {
			t.Fatalf("fetch after the restart: %v", err)
		}
		if err := AckAll(ctx, msgs); err != nil {
			t.Fatalf("ack after the restart: %v", err)
		}
		for _, m := range msgs {
			seen[string(m.Data())] = true
		}
		for i := 20; i < 25; i++ {
			if !seen[string(payload(i))] {
				return false
			}
		}
		return true
	})
}

// The durable a consumer needs is missing (deleted behind the client's
// back, as after the real broker's last_messages bug): fetch reports
// NOT_FOUND, never empty batches.
func TestFetchMissingDurableIsNotFound(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "nodurable")
	p := createProducer(t, c, "nodurable", "prod")
	for i := range 5 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cons := createConsumer(t, c, "nodurable", "reader", func(o *ConsumerOptions) { o.LastMessages = 2 })
	deleteDurable(t, c, "nodurable", "reader")
	_, err := cons.Fetch(ctx, 10, PartitionSelector{})
	if CodeOf(err) != CodeNotFound || !strings.Contains(err.Error(), "durable") {
		t.Fatalf("fetch without a durable: %v, want CodeNotFound naming the durable", err)
	}
	// The same through a consume loop: the handler hears NOT_FOUND.
	loopErr := make(chan error, 1)
	if err := cons.Consume(func(msgs []*Message, err error, _ any) {
		if err != nil && !errors.Is(err, ErrNoMessages) {
			select {
			case loopErr <- err:
			default:
			}
		}
	}, PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, loopErr, "the consume loop's error"); CodeOf(err) != CodeNotFound {
		t.Fatalf("consume loop without a durable: %v", err)
	}
	if err := cons.StopConsume(); err != nil {
		t.Fatal(err)
	}
}

// deleteDurable removes a group's durable with plain nats.go.
func deleteDurable(t testing.TB, c *Conn, station, group string) {
	t.Helper()
	js, err := jetstream.New(c.nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteConsumer(testCtx(t), streamName(internalName(station), 1), internalName(group)); err != nil {
		t.Fatalf("delete durable: %v", err)
	}
}

// When the broker did not create the durable of a last_messages consumer
// (the real broker 1.4.x bug), the sdk creates it at the documented start:
// the last N messages of the partition.
func TestMissingDurableCreatedAtLastMessages(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "lastn")
	p := createProducer(t, c, "lastn", "prod")
	for i := range 10 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cons := createConsumer(t, c, "lastn", "reader", func(o *ConsumerOptions) { o.LastMessages = 3 })
	deleteDurable(t, c, "lastn", "reader")
	// What CreateConsumer runs after the broker's answer.
	if err := cons.ensureDurables(ctx); err != nil {
		t.Fatalf("ensureDurables: %v", err)
	}
	msgs := fetchUntil(t, cons, 3, PartitionSelector{})
	for j, m := range msgs {
		if want := string(payload(7 + j)); string(m.Data()) != want {
			t.Fatalf("message %d: %q, want %q", j, m.Data(), want)
		}
	}
	// Nothing more: it started at the last 3, not at the beginning.
	more, err := cons.Fetch(ctx, 10, PartitionSelector{})
	if err != nil || len(more) != 0 {
		t.Fatalf("after the last 3: %d more, %v", len(more), err)
	}
	// A consumer of a station whose stream is gone fails creation clearly.
	if err := (&Station{conn: c, Name: "lastn"}).Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cons.ensureDurables(ctx); CodeOf(err) != CodeNotFound {
		t.Fatalf("ensureDurables without the stream: %v, want CodeNotFound", err)
	}
}

// A stream whose ingest queue is full answers 429; the producer retries
// within the deadline instead of failing the messages.
func TestOverloadIsRetried(t *testing.T) {
	b := startBroker(t, func(o *devbroker.Options) { o.StreamIngestMsgs = 30 })
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "busy")
	opts := DefaultProducerOptions("busy", "prod")
	opts.Idempotent = true
	opts.AckWait = time.Minute
	opts.MaxInFlight = 100
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	data := make([]byte, 4096)
	res := newDeliveries(n)
	for i := range n {
		copy(data, payload(i))
		if err := p.ProduceAsync(ctx, data[:len(payload(i))], ProduceOptions{}, res.done(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	res.check(t)
	if res.retried.Load() == 0 {
		t.Fatal("no message was retried: the broker never pushed back, the test proves nothing")
	}
	// A message retried after a 429 may be stored after later ones: only
	// a resend after a reconnect keeps the order.
	checkStored(t, storedMessages(t, c, "busy"), n, false, false)
	t.Logf("%d of %d messages retried after 429", res.retried.Load(), n)
}

// An idempotent producer gives every message without a msg id a unique
// one (and keeps the caller's); sending the same id again is de-duplicated.
func TestIdempotentProducerAssignsIDs(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "ids")
	opts := DefaultProducerOptions("ids", "prod")
	opts.Idempotent = true
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		o := ProduceOptions{}
		if i == 7 {
			o.MsgID = "mine"
		}
		if err := p.Produce(ctx, payload(i), o); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for _, m := range storedMessages(t, c, "ids") {
		if m.msgID == "" || ids[m.msgID] {
			t.Fatalf("message %q has msg id %q (seen: %v)", m.data, m.msgID, ids[m.msgID])
		}
		ids[m.msgID] = true
	}
	if !ids["mine"] {
		t.Fatal("the caller's msg id was replaced")
	}
	// A second idempotent producer draws other ids.
	p2, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if p2.ids.id() == p.ids.id() || string(p2.ids.prefix) == string(p.ids.prefix) {
		t.Fatal("two producers share an id prefix")
	}
	if err := p2.Produce(ctx, []byte("other"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := len(storedMessages(t, c, "ids")); got != 51 {
		t.Fatalf("station holds %d messages, want 51", got)
	}
}

// A message larger than the byte window goes through alone; options that
// make no sense are refused at creation.
func TestByteWindow(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "bytes")
	opts := DefaultProducerOptions("bytes", "prod")
	opts.MaxInFlightBytes = 4096
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 64<<10)
	res := newDeliveries(20)
	for i := range 20 {
		if err := p.ProduceAsync(ctx, big, ProduceOptions{}, res.done(i)); err != nil {
			t.Fatalf("message %d larger than the byte window: %v", i, err)
		}
		if n := p.win.inFlight(); n > 1 {
			t.Fatalf("%d oversized messages in flight together", n)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	res.check(t)
	for _, bad := range []func(*ProducerOptions){
		func(o *ProducerOptions) { o.MaxInFlight = -1 },
		func(o *ProducerOptions) { o.MaxInFlightBytes = -1 },
		func(o *ProducerOptions) { o.AckWait = -time.Second },
	} {
		o := DefaultProducerOptions("bytes", "bad")
		bad(&o)
		if _, err := c.CreateProducer(ctx, o); CodeOf(err) != CodeInvalidArgument {
			t.Fatalf("options %+v: %v, want CodeInvalidArgument", o, err)
		}
	}
	// A message over the broker's max payload fails at once, not retried.
	huge := make([]byte, 9<<20)
	start := time.Now()
	if err := p.Produce(ctx, huge, ProduceOptions{}); CodeOf(err) != CodePayloadTooLarge {
		t.Fatalf("oversized payload: %v", err)
	}
	if err := p.ProduceAsync(ctx, huge, ProduceOptions{}, nil); CodeOf(err) != CodePayloadTooLarge {
		t.Fatalf("oversized nonblocking payload: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("oversized payloads took %v to fail", el)
	}
	_ = context.Background
}

// A delivery callback may call back into the library: a sync produce and
// an AckAll inside it complete promptly (their replies are dispatched apart
// from the callbacks), instead of waiting out their deadlines.
func TestCallbackMayProduceAndAck(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "reenter")
	opts := DefaultProducerOptions("reenter", "prod")
	opts.AckWait = time.Minute
	p, err := c.CreateProducer(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(ctx, []byte("to-ack"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	cons := createConsumer(t, c, "reenter", "reader")
	msgs := fetchUntil(t, cons, 1, PartitionSelector{})
	_ = msgs
	if err := p.Produce(ctx, []byte("to-ack-2"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	pending, err := cons.Fetch(ctx, 1, PartitionSelector{})
	if err != nil || len(pending) != 1 {
		t.Fatalf("fetch: %d, %v", len(pending), err)
	}
	nested := make(chan error, 2)
	start := time.Now()
	if err := p.ProduceAsync(ctx, []byte("outer"), ProduceOptions{}, func(d Delivery) {
		nested <- p.Produce(ctx, []byte("inner"), ProduceOptions{})
		nested <- AckAll(ctx, pending)
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := recv(t, nested, "the nested call"); err != nil {
			t.Fatalf("nested call: %v", err)
		}
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("nested calls took %v: they waited for their own deadline", el)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// produceAcrossRestart produces n messages nonblocking from a goroutine,
// restarts the broker (clean shutdown, same data dir) once a third were
// accepted, and returns once all were accepted and flushed. done(i) is
// message i's result callback.
func produceAcrossRestart(t *testing.T, ctx context.Context, b *devbroker.Broker, p *Producer, n int, done func(i int) func(Delivery)) {
	t.Helper()
	var accepted atomic.Int64
	produced := make(chan error, 1)
	go func() {
		for i := range n {
			if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, done(i)); err != nil {
				produced <- fmt.Errorf("produce %d: %w", i, err)
				return
			}
			accepted.Add(1)
		}
		produced <- nil
	}()
	devbrokertest.WaitFor(t, "a third produced", func() bool { return accepted.Load() > int64(n/3) })
	devbrokertest.Restart(t, b)
	if err := recv(t, produced, "the producing goroutine"); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}
