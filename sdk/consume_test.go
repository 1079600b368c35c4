package sdk

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

func TestConsumeLoop(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "loop", func(o *StationOptions) { o.PartitionsNumber = 3 })
	p := createProducer(t, c, "loop", "prod")
	cons := createConsumer(t, c, "loop", "worker", func(o *ConsumerOptions) { o.BatchSize = 7 })
	cons.SetContext("my-ctx")
	col := newCollector()
	var badCtx atomic.Bool
	var drained atomic.Bool
	h := col.handler(true)
	err := cons.Consume(func(msgs []*Message, err error, uc any) {
		if uc != "my-ctx" {
			badCtx.Store(true)
		}
		if errors.Is(err, ErrNoMessages) {
			drained.Store(true)
			return
		}
		if len(msgs) > 7 {
			t.Errorf("batch of %d exceeds batch size 7", len(msgs))
		}
		h(msgs, err, uc)
	}, PartitionSelector{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Consume(col.handler(true), PartitionSelector{}); err == nil {
		t.Fatal("second Consume on the same consumer accepted")
	}
	const n = 60
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "all messages consumed", func() bool { return col.distinct() == n })
	devbrokertest.WaitFor(t, "drained-station signal", drained.Load)
	if badCtx.Load() {
		t.Fatal("handler got a different context value")
	}
	col.mu.Lock()
	errs := append([]error(nil), col.errs...)
	col.mu.Unlock()
	if len(errs) != 0 {
		t.Fatalf("unexpected handler errors: %v", errs)
	}
	if err := cons.StopConsume(); err != nil {
		t.Fatal(err)
	}
	if err := cons.StopConsume(); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("second StopConsume: %v", err)
	}
	// The loop can be started again after a stop.
	if err := cons.Consume(col.handler(true), PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	if err := cons.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
}

// A handler may stop its own loop without deadlocking.
func TestStopConsumeFromHandler(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	cons := createConsumer(t, c, "selfstop", "worker")
	stopped := make(chan error, 1)
	if err := cons.Consume(func(_ []*Message, _ error, _ any) {
		select {
		case stopped <- cons.StopConsume():
		default:
		}
	}, PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, stopped, "StopConsume result from the handler"); err != nil {
		t.Fatalf("StopConsume from handler: %v", err)
	}
}

func TestNackAndDelay(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "redeliver", "prod")
	cons := createConsumer(t, c, "redeliver", "worker")
	if err := p.Produce(ctx, []byte("again"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	m := fetchOne(t, cons)
	if err := m.Nack(); err != nil {
		t.Fatal(err)
	}
	m2 := fetchOne(t, cons)
	if m2.SequenceNumber() != m.SequenceNumber() || m2.DeliveryCount() != 2 {
		t.Fatalf("after nack: seq %d deliveries %d", m2.SequenceNumber(), m2.DeliveryCount())
	}
	const delay = 1500 * time.Millisecond
	if err := m2.Delay(delay); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m3 := fetchOne(t, cons)
	if waited := time.Since(start); waited < delay-200*time.Millisecond {
		t.Fatalf("delayed message came back after %v, before the %v delay", waited, delay)
	}
	if m3.SequenceNumber() != m.SequenceNumber() {
		t.Fatal("a different message came back")
	}
	if err := m3.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m3.Delay(-time.Second); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("negative delay: %v", err)
	}
}

// fetchOne waits for exactly one message without acknowledging it.
func fetchOne(t testing.TB, cons *Consumer) *Message {
	t.Helper()
	ctx := testCtx(t)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, 1, PartitionSelector{})
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if len(msgs) == 1 {
			return msgs[0]
		}
	}
	t.Fatal("no message arrived")
	return nil
}

func TestStartSequenceAndLastMessages(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "positions", "prod")
	for i := range 10 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	fromSeq := createConsumer(t, c, "positions", "from-seq", func(o *ConsumerOptions) {
		o.StartConsumeFromSequence = 8
		o.BatchSize = 10
	})
	msgs := fetchUntil(t, fromSeq, 3, PartitionSelector{})
	if msgs[0].SequenceNumber() != 8 || string(msgs[0].Data()) != string(payload(7)) {
		t.Fatalf("start sequence 8 began at %d (%s)", msgs[0].SequenceNumber(), msgs[0].Data())
	}
	last := createConsumer(t, c, "positions", "last-two", func(o *ConsumerOptions) {
		o.LastMessages = 2
		o.BatchSize = 10
	})
	msgs = fetchUntil(t, last, 2, PartitionSelector{})
	if string(msgs[0].Data()) != string(payload(8)) || string(msgs[1].Data()) != string(payload(9)) {
		t.Fatalf("last 2 messages: %s, %s", msgs[0].Data(), msgs[1].Data())
	}
	for _, cons := range []*Consumer{fromSeq, last} {
		if more, err := cons.Fetch(ctx, 10, PartitionSelector{}); err != nil || len(more) != 0 {
			t.Fatalf("extra messages: %d, %v", len(more), err)
		}
	}
}

// Members of one group share the work; each message goes to one member.
func TestConsumerGroup(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "shared", "prod")
	a := createConsumer(t, c, "shared", "a", func(o *ConsumerOptions) { o.Group = "team" })
	bb := createConsumer(t, c, "shared", "b", func(o *ConsumerOptions) { o.Group = "team" })
	ca, cb := newCollector(), newCollector()
	if err := a.Consume(ca.handler(true), PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	if err := bb.Consume(cb.handler(true), PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "group consumed everything", func() bool { return ca.count()+cb.count() >= n })
	ca.mu.Lock()
	for k := range ca.seen {
		if cb.seen[k] {
			t.Errorf("%s delivered to both members", k)
		}
	}
	ca.mu.Unlock()
}

func TestConsumerValidationErrors(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	o := DefaultConsumerOptions("valid", "c")
	o.BatchSize = 6000
	if _, err := c.CreateConsumer(ctx, o); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("batch 6000: %v", err)
	}
	cons := createConsumer(t, c, "valid", "c")
	if _, err := cons.Fetch(ctx, 0, PartitionSelector{}); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("fetch 0: %v", err)
	}
	if err := cons.Consume(nil, PartitionSelector{}); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("nil handler: %v", err)
	}
	if _, err := c.CreateStation(ctx, DefaultStationOptions("bad name")); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("bad station name: %v", err)
	}
	if _, err := c.CreateProducer(ctx, DefaultProducerOptions("s", "")); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("empty producer name: %v", err)
	}
}

// A round-robin fetch over several partitions finds the message on
// whichever partition holds it, rather than returning empty after waiting
// on an empty partition.
func TestRoundRobinFetchFindsAnyPartition(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "spread", func(o *StationOptions) { o.PartitionsNumber = 3 })
	p := createProducer(t, c, "spread", "prod")
	cons := createConsumer(t, c, "spread", "reader", func(o *ConsumerOptions) { o.BatchMaxWait = 20 * time.Second })
	for round := range 3 {
		if err := p.Produce(ctx, payload(round), ProduceOptions{PartitionNumber: 3}); err != nil {
			t.Fatal(err)
		}
		msgs, err := cons.Fetch(ctx, 10, PartitionSelector{})
		if err != nil || len(msgs) != 1 || msgs[0].Partition() != 3 {
			t.Fatalf("round %d: %d messages, %v", round, len(msgs), err)
		}
		if err := msgs[0].Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A one-partition station holding fewer messages than the batch: Fetch
// hands them over at once instead of holding them back for the whole batch
// wait (10 minutes here; the test allows one).
func TestFetchReturnsWhatIsThereWithoutWaiting(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "few")
	p := createProducer(t, c, "few", "prod")
	cons := createConsumer(t, c, "few", "reader", func(o *ConsumerOptions) { o.BatchMaxWait = 10 * time.Minute })
	for i := range 3 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		msgs []*Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		msgs, err := cons.Fetch(ctx, 100, PartitionSelector{})
		done <- result{msgs, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || len(r.msgs) != 3 {
			t.Fatalf("fetch: %d messages, %v; want the 3 stored", len(r.msgs), r.err)
		}
		for i, m := range r.msgs {
			if string(m.Data()) != string(payload(i)) {
				t.Fatalf("message %d is %q", i, m.Data())
			}
		}
	case <-time.After(time.Minute):
		t.Fatal("fetch held 3 stored messages back waiting for a full batch")
	}
}

const ackNoWaitMsgs = 20

// produceWithControl produces ackNoWaitMsgs numbered messages plus a last "control"
// message the tests never ack: its redelivery proves max_ack_time expired,
// so any lost ack would have shown up by then too.
func produceWithControl(t *testing.T, p *Producer) {
	t.Helper()
	ctx := testCtx(t)
	for i := 0; i < ackNoWaitMsgs; i++ {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	if err := p.Produce(ctx, []byte("control"), ProduceOptions{}); err != nil {
		t.Fatalf("produce control: %v", err)
	}
}

// awaitControl fetches until the control message is redelivered and fails
// if any acknowledged message comes back before it.
func awaitControl(t *testing.T, cons *Consumer) {
	t.Helper()
	ctx := testCtx(t)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, ackNoWaitMsgs+1, PartitionSelector{})
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for _, m := range msgs {
			if string(m.Data()) != "control" {
				t.Fatalf("acknowledged message %q was redelivered", m.Data())
			}
		}
		if len(msgs) > 0 {
			if err := AckAllNoWait(msgs); err != nil {
				t.Fatalf("ack control: %v", err)
			}
			return
		}
	}
	t.Fatal("the unacknowledged control message was never redelivered")
}

func fetchAll(t *testing.T, cons *Consumer, want int) []*Message {
	t.Helper()
	ctx := testCtx(t)
	var got []*Message
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, want-len(got), PartitionSelector{})
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		got = append(got, msgs...)
	}
	if len(got) != want {
		t.Fatalf("fetched %d messages, want %d", len(got), want)
	}
	return got
}

func TestAckNoWaitNotRedelivered(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	p := createProducer(t, c, "nowait", "prod")
	cons := createConsumer(t, c, "nowait", "worker", func(o *ConsumerOptions) {
		o.MaxAckTime = time.Second
	})
	produceWithControl(t, p)
	msgs := fetchAll(t, cons, ackNoWaitMsgs+1)
	if string(msgs[ackNoWaitMsgs].Data()) != "control" {
		t.Fatalf("last message is %q, want control", msgs[ackNoWaitMsgs].Data())
	}
	half := ackNoWaitMsgs / 2
	for _, m := range msgs[:half] {
		if err := m.AckNoWait(); err != nil {
			t.Fatalf("AckNoWait: %v", err)
		}
	}
	if err := AckAllNoWait(msgs[half:ackNoWaitMsgs]); err != nil {
		t.Fatalf("AckAllNoWait: %v", err)
	}
	awaitControl(t, cons)
}

func TestAckNoWaitFlushedOnClose(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	p := createProducer(t, c, "nowait-close", "prod")
	produceWithControl(t, p)
	group := func(o *ConsumerOptions) {
		o.Group = "g"
		o.MaxAckTime = time.Second
	}

	first := connect(t, b)
	cons := createConsumer(t, first, "nowait-close", "first", group)
	msgs := fetchAll(t, cons, ackNoWaitMsgs+1)
	if err := AckAllNoWait(msgs[:ackNoWaitMsgs]); err != nil {
		t.Fatalf("AckAllNoWait: %v", err)
	}
	// Close right away: the buffered acks must still reach the broker.
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	again := createConsumer(t, c, "nowait-close", "second", group)
	awaitControl(t, again)
}

func TestAckNoWaitErrors(t *testing.T) {
	var m *Message
	if err := m.AckNoWait(); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("nil message: %v", err)
	}
	if err := AckAllNoWait([]*Message{nil, {}}); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("unconsumed messages: %v", err)
	}
	if err := AckAllNoWait(nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}

	b := startBroker(t)
	c := connect(t, b)
	p := createProducer(t, c, "nowait-closed", "prod")
	cons := createConsumer(t, c, "nowait-closed", "worker")
	if err := p.Produce(testCtx(t), []byte("x"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	msg := fetchOne(t, cons)
	_ = c.Close()
	if err := msg.AckNoWait(); err == nil {
		t.Fatal("AckNoWait on a closed connection succeeded")
	} else if want := fmt.Sprint(err); want == "" {
		t.Fatal("empty error text")
	}
}
