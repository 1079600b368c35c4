package devbroker_test

import (
	"context"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go/jetstream"
)

func TestRestartKeepsStationsSchemasMessagesAndPositions(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	req := stationReq("keep.me", 2)
	req["retention_type"], req["retention_value"] = "messages", 1000
	c.expectText("$memphis_station_creations", req, "")
	c.request("$memphis_consumer_creations", c.consumerReq("w", "keep.me", "grp"))
	for _, d := range []string{"a", "b", "c"} {
		c.publish("keep#me", 1, d, nil)
	}
	// Consume and ack the first message only.
	ctx := context.Background()
	cons, err := c.js.Consumer(ctx, "keep#me$1", "grp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	// A schema attached before the restart stays attached.
	schema := `{"name":"order-v1","type":"json","created_by_username":"root",
	  "schema_content":"{\"type\":\"object\"}","message_struct_name":""}`
	c.expectJSON("$memphis_schema_creations", schema, `{"error":""}`)
	c.expectText("$memphis_schema_attachments", `{"name":"order-v1","station_name":"keep.me","username":"root"}`, "")
	addr := b.Addr()

	b = devbrokertest.Restart(t, b)
	if b.Addr() != addr {
		t.Fatalf("restart moved from %s to %s", addr, b.Addr())
	}
	c = connect(t, b)
	c.expectJSON("$memphis_producer_creations", c.producerReq("p", "keep.me"),
		`{"schema_update":{"schema_name":"order-v1","active_version":{"version_number":1,"descriptor":"",
		"schema_content":"{\"type\":\"object\"}","message_struct_name":""},"type":"json"},
		"partitions_update":{"partitions_list":[1,2]},"schemaverse_to_dls":true,
		"send_notification":false,"station_version":2,"station_partitions_first_functions":{},"error":""}`)
	c.expectJSON("$memphis_schema_creations", schema,
		`{"error":"order-v1 already exists in the db with the same schema content"}`)
	s, err := c.js.Stream(ctx, "keep#me$1")
	if err != nil {
		t.Fatal(err)
	}
	if info := s.CachedInfo(); info.State.Msgs != 3 || info.Config.MaxMsgs != 1000 {
		t.Fatalf("stream after restart: %+v", info.State)
	}
	// The group resumes after the acked message; re-creating a member
	// does not reset its position.
	c.request("$memphis_consumer_creations", c.consumerReq("w", "keep.me", "grp"))
	cons, err = c.js.Consumer(ctx, "keep#me$1", "grp")
	if err != nil {
		t.Fatal(err)
	}
	m, err = cons.Next(jetstream.FetchMaxWait(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data()) != "b" {
		t.Fatalf("after restart got %q, want b", m.Data())
	}
	// Metadata written before the restart can still be removed.
	c.expectText("$memphis_station_destructions", `{"station_name":"keep.me","username":"root"}`, "")
}
