package devbroker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// createProducerAs registers a producer the way an SDK with that sdk_lang
// does ("python", "go": official SDKs; wire.SDKLang: libmemphis).
func (c *client) createProducerAs(name, station, sdkLang string) {
	c.t.Helper()
	req := c.producerReq(name, station)
	req["sdk_lang"] = sdkLang
	if got := string(c.request("$memphis_producer_creations", req)); !strings.Contains(got, `"error":""`) {
		c.t.Fatalf("create producer: %s", got)
	}
}

func (c *client) destroyProducer(name, station string) {
	c.t.Helper()
	c.expectText("$memphis_producer_destructions", map[string]any{"name": name, "station_name": station,
		"username": "root", "connection_id": c.connID, "req_version": 1}, "")
}

// produceWithMsgID publishes as the official SDKs do: msg-id only.
func (c *client) produceWithMsgID(stream, id, data string) *jetstream.PubAck {
	c.t.Helper()
	m := nats.NewMsg(stream + ".final")
	m.Data = []byte(data)
	m.Header.Set("$memphis_producedBy", "official")
	m.Header.Set("msg-id", id)
	// Generous (jetstream's default is 5 s): in a cluster the message
	// passes through the ingest path and a route on a possibly busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), reqTimeout)
	defer cancel()
	ack, err := c.js.PublishMsg(ctx, m)
	if err != nil {
		c.t.Fatalf("publish %s: %v", stream, err)
	}
	return ack
}

// readAll fetches every message of a stream through a fresh durable with
// the §7.3 filter, so a message stored under any other subject is missed.
func (c *client) readAll(stream string, n int) []jetstream.Msg {
	c.t.Helper()
	ctx := context.Background()
	cons, err := c.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: "reader", AckPolicy: jetstream.AckNonePolicy, FilterSubject: stream + ".final"})
	if err != nil {
		c.t.Fatal(err)
	}
	defer c.js.DeleteConsumer(ctx, stream, "reader") //nolint:errcheck
	var out []jetstream.Msg
	for len(out) < n {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(reqTimeout))
		if err != nil {
			c.t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			out = append(out, m)
			got++
		}
		if got == 0 {
			c.t.Fatalf("%s: read %d of %d messages", stream, len(out), n)
		}
	}
	return out
}

func streamMsgs(t *testing.T, c *client, stream string) uint64 {
	t.Helper()
	s, err := c.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

// The official SDKs' msg-id is de-duplicated like on the real broker: the
// repeat is acknowledged with duplicate=true and not stored; the stored
// message keeps its subject, data and headers.
func TestMsgIDOnlyIsDeduplicated(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("dedup", 1), "")
	c.createProducerAs("official", "dedup", "python")
	first := c.produceWithMsgID("dedup$1", "123", "one")
	second := c.produceWithMsgID("dedup$1", "123", "two")
	third := c.produceWithMsgID("dedup$1", "124", "three")
	if first.Duplicate || !second.Duplicate || third.Duplicate || second.Sequence != first.Sequence || first.Stream != "dedup$1" {
		t.Fatalf("acks %+v %+v %+v", first, second, third)
	}
	msgs := c.readAll("dedup$1", 2)
	if got := streamMsgs(t, c, "dedup$1"); got != 2 {
		t.Fatalf("%d messages stored, want 2", got)
	}
	if string(msgs[0].Data()) != "one" || string(msgs[1].Data()) != "three" || msgs[0].Subject() != "dedup$1.final" ||
		msgs[0].Headers().Get("msg-id") != "123" || msgs[0].Headers().Get("$memphis_producedBy") != "official" {
		t.Fatalf("stored %q %q %v", msgs[0].Data(), msgs[1].Data(), msgs[0].Headers())
	}
}

// De-duplication is per partition, as on the real broker.
func TestMsgIDDedupIsPerPartition(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("parted", 2), "")
	c.createProducerAs("official", "parted", "go")
	for _, stream := range []string{"parted$1", "parted$2", "parted$1", "parted$2"} {
		c.produceWithMsgID(stream, "same", "x")
	}
	for _, stream := range []string{"parted$1", "parted$2"} {
		if got := streamMsgs(t, c, stream); got != 1 {
			t.Fatalf("%s holds %d messages, want 1", stream, got)
		}
	}
}

// A station only libmemphis produces to keeps the direct path (libmemphis
// sends Nats-Msg-Id itself); it takes the ingest path while an official
// SDK's producer exists, and leaves it when that producer is destroyed.
func TestMsgIDRoutingFollowsProducers(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("mixed", 1), "")
	c.createProducerAs("lib", "mixed", wire.SDKLang)
	c.produceWithMsgID("mixed$1", "a", "x")
	if ack := c.produceWithMsgID("mixed$1", "a", "x"); ack.Duplicate {
		t.Fatal("direct path de-duplicated on msg-id: the station is routed without an official producer")
	}
	c.createProducerAs("official", "mixed", "node.js")
	c.produceWithMsgID("mixed$1", "b", "x")
	if ack := c.produceWithMsgID("mixed$1", "b", "x"); !ack.Duplicate {
		t.Fatal("not de-duplicated with an official producer on the station")
	}
	c.destroyProducer("official", "mixed")
	if ack := c.produceWithMsgID("mixed$1", "c", "x"); ack.Duplicate {
		t.Fatal("unexpected duplicate")
	}
	if ack := c.produceWithMsgID("mixed$1", "c", "x"); ack.Duplicate {
		t.Fatal("still routed after the official producer was destroyed")
	}
	// Whatever path a message took, a consumer reads every stored one.
	if got := streamMsgs(t, c, "mixed$1"); got != 5 {
		t.Fatalf("%d stored, want 5", got)
	}
	c.readAll("mixed$1", 5)
}

// A destroyed station leaves no routing behind: re-created under the same
// name without an official producer, its messages reach consumers directly.
func TestMsgIDRoutingGoneWithStation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("reborn", 1), "")
	c.createProducerAs("official", "reborn", "python")
	c.expectText("$memphis_station_destructions", map[string]any{"station_name": "reborn", "username": "root"}, "")
	c.expectText("$memphis_station_creations", stationReq("reborn", 1), "")
	c.createProducerAs("lib", "reborn", wire.SDKLang)
	c.produceWithMsgID("reborn$1", "a", "x")
	if ack := c.produceWithMsgID("reborn$1", "a", "x"); ack.Duplicate {
		t.Fatal("re-created station still routed")
	}
	c.readAll("reborn$1", 2)
}

// The routing is rebuilt from the producer records after a restart.
func TestMsgIDRoutingSurvivesRestart(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("durable.dedup", 1), "")
	c.createProducerAs("official", "durable.dedup", "python")
	b = devbrokertest.Restart(t, b)
	c = connect(t, b)
	c.produceWithMsgID("durable#dedup$1", "z", "x")
	if ack := c.produceWithMsgID("durable#dedup$1", "z", "x"); !ack.Duplicate {
		t.Fatal("not de-duplicated after restart")
	}
}

// A message that fits the payload limit only without the added
// Nats-Msg-Id header is refused with the stream's size error, not lost.
func TestMsgIDIngestAtPayloadLimit(t *testing.T) {
	b := startBroker(t, func(o *devbroker.Options) { o.MaxPayload = 1024 })
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("tight", 1), "")
	c.createProducerAs("official", "tight", "python")
	m := nats.NewMsg("tight$1.final")
	m.Header.Set("msg-id", "id")
	hdrLen := len("NATS/1.0\r\nmsg-id: id\r\n\r\n")
	m.Data = make([]byte, 1024-hdrLen)
	_, err := c.js.PublishMsg(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "message size exceeds maximum allowed") {
		t.Fatalf("got %v, want the stream's size error", err)
	}
	if got := streamMsgs(t, c, "tight$1"); got != 0 {
		t.Fatalf("%d stored", got)
	}
}

// With the ingest path switched off (for measurements), msg-id alone is
// not de-duplicated, as on a stock nats-server.
func TestMsgIDDedupCanBeDisabled(t *testing.T) {
	b := startBroker(t, func(o *devbroker.Options) { o.DisableMsgIDDedup = true })
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("plain", 1), "")
	c.createProducerAs("official", "plain", "python")
	c.produceWithMsgID("plain$1", "a", "x")
	if ack := c.produceWithMsgID("plain$1", "a", "x"); ack.Duplicate {
		t.Fatal("de-duplicated although disabled")
	}
}

// SDK users may publish to the ingest subject (nats-server checks their
// permissions after the mapping), but the ingest path forwards only to
// routed stations: anything else is dropped, never stored under
// "<stream>.ingest" where no consumer would see it.
func TestMsgIDIngestIgnoresUnroutedStreams(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("direct", 1), "")
	c.createProducerAs("lib", "direct", wire.SDKLang)
	m := nats.NewMsg("$memphis_msgid_ingest.direct$1")
	m.Header.Set("msg-id", "a")
	m.Data = []byte("sneaked")
	if _, err := c.nc.RequestMsg(m, 2e9); err == nil {
		t.Fatal("a message published straight to the ingest subject was acknowledged")
	}
	c.produceWithMsgID("direct$1", "b", "normal")
	if got := streamMsgs(t, c, "direct$1"); got != 1 {
		t.Fatalf("%d stored, want only the normal message", got)
	}
}
