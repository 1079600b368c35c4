package sdk

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
)

// watch subscribes to a broker side channel and returns what arrives.
func watch(t testing.TB, c *Conn, subject string) <-chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 64)
	sub, err := c.nc.ChanSubscribe(subject, ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return ch
}

func recvSide(t testing.TB, ch <-chan *nats.Msg, what string) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

// A message nacked up to max deliveries becomes a poison message: the
// broker resends it to the group, the consumer gets it as a DLS message
// with the $memphis_pm_* headers, and its ack goes to $memphis_pm_acks.
func TestPoisonMessageReachesConsumer(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "poison", func(o *StationOptions) { o.DlsStation = "poison-dls" })
	p := createProducer(t, c, "poison", "prod")
	cons := createConsumer(t, c, "poison", "worker", func(o *ConsumerOptions) {
		o.MaxMsgDeliveries = 2
		o.MaxAckTime = time.Second
	})
	acks := watch(t, c, "$memphis_pm_acks")
	if err := p.Produce(ctx, []byte("toxic"), ProduceOptions{Headers: Headers{"kind": "bad"}}); err != nil {
		t.Fatal(err)
	}
	var dls *Message
	deadline := time.Now().Add(60 * time.Second)
	nacks := 0
	for dls == nil && time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, 1, PartitionSelector{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.IsDLS() {
				dls = m
				continue
			}
			nacks++
			if err := m.Nack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if dls == nil {
		t.Fatalf("no DLS message after %d nacks", nacks)
	}
	if nacks != 2 {
		t.Fatalf("message delivered %d times before becoming poison, want 2", nacks)
	}
	h := dls.Headers()
	if string(dls.Data()) != "toxic" || h["kind"] != "bad" || h["$memphis_pm_id"] == "" ||
		h["$memphis_pm_cg_name"] != "worker" || h["$memphis_producedBy"] != "$memphis_dls" {
		t.Fatalf("DLS message %q headers %v", dls.Data(), h)
	}
	if err := dls.Delay(time.Second); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("delay of a DLS message: %v", err)
	}
	if err := dls.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	var ack pmAck
	if err := json.Unmarshal(recvSide(t, acks, "pm ack").Data, &ack); err != nil {
		t.Fatal(err)
	}
	if strconv.Itoa(ack.ID) != h["$memphis_pm_id"] || ack.CgName != "worker" {
		t.Fatalf("pm ack %+v for headers %v", ack, h)
	}
	// Two deliveries pulled (the second a redelivery), both nacked, then
	// the poison message resent and acknowledged; the refused delay
	// counts nowhere.
	if s := cons.Stats(); s.Fetched != 2 || s.Redelivered != 1 || s.Nacked != 2 || s.DLSMessages != 1 ||
		s.Delivered != 3 || s.Acked != 1 || s.Delayed != 0 || s.AckFailures != 0 || s.DLSDropped != 0 {
		t.Fatalf("consumer stats %+v", s)
	}
	// The broker also forwarded the poison message to the DLS station.
	dlsCons := createConsumer(t, c, "poison-dls", "dls-reader")
	fwd := fetchUntil(t, dlsCons, 1, PartitionSelector{})
	if string(fwd[0].Data()) != "toxic" || fwd[0].Headers()["type"] != "unacked" {
		t.Fatalf("DLS station got %q %v", fwd[0].Data(), fwd[0].Headers())
	}
}

// DeadLetter terminates the message and records it with the reason.
func TestDeadLetter(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "orders.eu", func(o *StationOptions) {
		o.DlsStation = "orders-dls"
		o.PartitionsNumber = 2
	})
	p := createProducer(t, c, "orders.eu", "prod")
	cons := createConsumer(t, c, "orders.eu", "worker", func(o *ConsumerOptions) {
		o.Group = "Billing.V2"
		o.MaxAckTime = time.Second
	})
	nacked := watch(t, c, "$memphis_nacked_dls")
	if err := p.Produce(ctx, []byte("cannot parse"), ProduceOptions{PartitionNumber: 2}); err != nil {
		t.Fatal(err)
	}
	m := fetchOne(t, cons)
	if err := m.DeadLetter("bad amount"); err != nil {
		t.Fatal(err)
	}
	var rep nackedDLS
	if err := json.Unmarshal(recvSide(t, nacked, "dead letter report").Data, &rep); err != nil {
		t.Fatal(err)
	}
	want := nackedDLS{StationName: "orders#eu", Error: "bad amount", Partition: 2, CgName: "billing.v2", Seq: m.SequenceNumber()}
	if rep != want {
		t.Fatalf("dead letter report %+v, want %+v", rep, want)
	}
	// Terminated: the group's durable holds nothing pending any more, so
	// nothing can come back after the ack wait.
	durable, err := c.js.Consumer(ctx, "orders#eu$2", "billing#v2")
	if err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "the +TERM to clear the pending message", func() bool {
		info, err := durable.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
	if more, err := cons.Fetch(ctx, 10, PartitionSelector{}); err != nil || len(more) != 0 {
		t.Fatalf("dead-lettered message came back: %d, %v", len(more), err)
	}
	// Recorded: the broker forwards it to the station's DLS station.
	dlsCons := createConsumer(t, c, "orders-dls", "reader")
	fwd := fetchUntil(t, dlsCons, 1, PartitionSelector{})
	if string(fwd[0].Data()) != "cannot parse" || fwd[0].Headers()["station"] != "orders.eu" {
		t.Fatalf("DLS station got %q %v", fwd[0].Data(), fwd[0].Headers())
	}
}

// Resends are queue-delivered: one member of the group gets each, in the
// consume loop's handler; AckAll handles DLS and stream messages together.
func TestDLSResendToConsumeLoop(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	p := createProducer(t, c, "resend", "prod")
	a := createConsumer(t, c, "resend", "a", func(o *ConsumerOptions) { o.Group = "team" })
	bb := createConsumer(t, c, "resend", "b", func(o *ConsumerOptions) { o.Group = "team" })
	acks := watch(t, c, "$memphis_pm_acks")
	got := make(chan *Message, 16)
	h := func(msgs []*Message, err error, _ any) {
		for _, m := range msgs {
			got <- m
		}
	}
	if err := a.Consume(h, PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	if err := bb.Consume(h, PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(ctx, []byte("plain"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	resend := nats.NewMsg("$memphis_dls_resend.team")
	resend.Data = []byte("resent")
	resend.Header.Set("$memphis_pm_id", "57")
	resend.Header.Set("$memphis_pm_cg_name", "team")
	resend.Header.Set("$memphis_producedBy", "$memphis_dls")
	if err := c.nc.PublishMsg(resend); err != nil {
		t.Fatal(err)
	}
	var batch []*Message
	deadline := time.After(60 * time.Second)
	for len(batch) < 2 {
		select {
		case m := <-got:
			batch = append(batch, m)
		case <-deadline:
			t.Fatalf("handlers got %d of 2 messages", len(batch))
		}
	}
	var sawDLS bool
	for _, m := range batch {
		if m.IsDLS() {
			sawDLS = string(m.Data()) == "resent"
		} else if string(m.Data()) != "plain" {
			t.Fatalf("unexpected message %q", m.Data())
		}
	}
	if !sawDLS {
		t.Fatal("the resend never reached a handler")
	}
	if err := AckAll(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var ack pmAck
	if err := json.Unmarshal(recvSide(t, acks, "pm ack").Data, &ack); err != nil || ack.ID != 57 || ack.CgName != "team" {
		t.Fatalf("pm ack %+v (%v)", ack, err)
	}
	// Queue delivery: no second copy reaches the other member.
	select {
	case m := <-got:
		t.Fatalf("extra delivery %q (DLS %v)", m.Data(), m.IsDLS())
	case <-time.After(500 * time.Millisecond):
	}
	// Across the group: one resend, two messages handed to handlers (the
	// resend and the station message, each to one member), both acked.
	sa, sb := a.Stats(), bb.Stats()
	if sa.DLSMessages+sb.DLSMessages != 1 || sa.Fetched+sb.Fetched != 1 || sa.Delivered+sb.Delivered != 2 ||
		sa.Acked+sb.Acked != 2 || sa.HandlerUs.Count+sb.HandlerUs.Count == 0 {
		t.Fatalf("consumer stats %+v, %+v", sa, sb)
	}
}
