package devbroker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func dlsRows(t testing.TB, b *devbroker.Broker, station string) []devbroker.DLSRow {
	t.Helper()
	rows, err := devbroker.DLSRows(b, station)
	if err != nil {
		t.Fatalf("dls rows: %v", err)
	}
	return rows
}

// publish stores a message in a station partition as an SDK producer does.
func (c *client) publish(station string, partition int, data string, hdr map[string]string) uint64 {
	c.t.Helper()
	m := nats.NewMsg(fmt.Sprintf("%s$%d.final", station, partition))
	m.Data = []byte(data)
	m.Header.Set("$memphis_producedBy", "prod-1")
	m.Header.Set("$memphis_connectionId", c.connID)
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	ack, err := c.js.PublishMsg(context.Background(), m)
	if err != nil {
		c.t.Fatalf("publish: %v", err)
	}
	return ack.Sequence
}

func TestPoisonMessageResentToGroupDLSSubject(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("poison.st", 1), "")
	req := c.consumerReq("worker", "poison.st", "Group.A")
	req["max_ack_time_ms"] = 500
	req["max_msg_deliveries"] = 2
	c.request("$memphis_consumer_creations", req)

	resent := make(chan *nats.Msg, 4)
	legacy := make(chan *nats.Msg, 4)
	for subj, ch := range map[string]chan *nats.Msg{
		"$memphis_dls_poison#st.group#a": resent, "$memphis_dls_poison#st_group#a": legacy,
	} {
		if _, err := c.nc.ChanQueueSubscribe(subj, subj, ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	seq := c.publish("poison#st", 1, "bad payload", map[string]string{"user-key": "v1"})

	cons, err := c.js.Consumer(context.Background(), "poison#st$1", "group#a")
	if err != nil {
		t.Fatal(err)
	}
	// Pull without acking until JetStream gives up on the message and the
	// broker resends it as a dead letter.
	var got *nats.Msg
	deadline := time.Now().Add(90 * time.Second)
	for got == nil {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter on $memphis_dls_poison#st.group#a")
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
		}
		select {
		case got = <-resent:
		default:
		}
	}
	if string(got.Data) != "bad payload" {
		t.Fatalf("data %q", got.Data)
	}
	rows := dlsRows(t, b, "poison.st")
	if len(rows) != 1 || rows[0].Seq != seq || rows[0].Partition != 1 || rows[0].Type != "poison" ||
		rows[0].Producer != "prod-1" || len(rows[0].Groups) != 1 || rows[0].Groups[0] != "group.a" {
		t.Fatalf("dls rows %+v", rows)
	}
	wantHdr := map[string]string{
		"$memphis_pm_id": fmt.Sprint(rows[0].ID), "$memphis_pm_cg_name": "group.a",
		"$memphis_producedBy": "$memphis_dls", "$memphis_connectionId": c.connID, "user-key": "v1",
	}
	for k, v := range wantHdr {
		if g := got.Header.Get(k); g != v {
			t.Fatalf("header %s = %q, want %q", k, g, v)
		}
	}
	select {
	case m := <-legacy:
		if string(m.Data) != "bad payload" {
			t.Fatalf("legacy data %q", m.Data)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no dead letter on the legacy subject")
	}

	ack, _ := json.Marshal(map[string]any{"id": rows[0].ID, "cg_name": "group.a"})
	if err := c.nc.Publish("$memphis_pm_acks", ack); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "row removed after $memphis_pm_acks", func() bool { return len(dlsRows(t, b, "poison.st")) == 0 })
}

func TestNackedDLSStoredAndForwardedToDLSStation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	req := stationReq("orders", 2)
	req["dls_station"] = "Orders-DLS"
	c.expectText("$memphis_station_creations", req, "")
	c.request("$memphis_consumer_creations", c.consumerReq("w1", "orders", "billing"))
	seq := c.publish("orders", 2, `{"amount":"x"}`, map[string]string{"k": "v"})

	body, _ := json.Marshal(map[string]any{
		"station_name": "orders", "error": "cannot parse amount", "partition": 2, "cg_name": "Billing", "seq": seq,
	})
	if err := c.nc.Publish("$memphis_nacked_dls", body); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "nacked row", func() bool { return len(dlsRows(t, b, "orders")) == 1 })
	row := dlsRows(t, b, "orders")[0]
	if row.Error != "cannot parse amount" || row.Seq != seq || row.Partition != 2 || row.Groups[0] != "billing" {
		t.Fatalf("row %+v", row)
	}
	m := fetchOne(t, c, "orders-dls", 1)
	if string(m.Data()) != `{"amount":"x"}` || m.Headers().Get("station") != "orders" ||
		m.Headers().Get("type") != "unacked" || m.Headers().Get("k") != "v" {
		t.Fatalf("forwarded message %q %v", m.Data(), m.Headers())
	}

	// A schema-validation failure is recorded and forwarded as failed_schema.
	sv, _ := json.Marshal(map[string]any{
		"station_name": "orders",
		"producer":     map[string]any{"name": "p1", "connection_id": c.connID},
		"message": map[string]any{"size": 0, "data": "7b22616d6f756e74223a2261626364227d",
			"headers": map[string]string{"$memphis_producedBy": "p1"}},
		"validation_error": "amount must be a number",
	})
	if err := c.nc.Publish("$memphis_schemaverse_dls", sv); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "schema row", func() bool { return len(dlsRows(t, b, "orders")) == 2 })
	m = fetchOne(t, c, "orders-dls", 1)
	if string(m.Data()) != `{"amount":"abcd"}` || m.Headers().Get("type") != "failed_schema" {
		t.Fatalf("forwarded schema failure %q %v", m.Data(), m.Headers())
	}
}

// fetchOne reads the next message of a single-partition station through an
// ad-hoc ordered consumer.
func fetchOne(t testing.TB, c *client, station string, partition int) jetstream.Msg {
	t.Helper()
	ctx := context.Background()
	s := fmt.Sprintf("%s$%d", station, partition)
	name := "reader"
	cons, err := c.js.CreateOrUpdateConsumer(ctx, s, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no message in %s", s)
	return nil
}
