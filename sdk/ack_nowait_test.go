package sdk

import (
	"fmt"
	"testing"
	"time"
)

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
	p := createProducer(t, c, "prod", "nowait")
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
	p := createProducer(t, c, "prod", "nowait-close")
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
	p := createProducer(t, c, "prod", "nowait-closed")
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
