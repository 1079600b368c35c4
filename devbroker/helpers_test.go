package devbroker_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// reqTimeout is generous because the test machine is shared.
const reqTimeout = 30 * time.Second

// client is an SDK-like connection: named "<connection id>::root" as the
// SDKs name theirs, so the broker sees it as a live Memphis connection.
type client struct {
	t      testing.TB
	nc     *nats.Conn
	js     jetstream.JetStream
	connID string
}

func connect(t testing.TB, b *devbroker.Broker, opts ...nats.Option) *client {
	t.Helper()
	id := uuid.NewString()
	all := append([]nats.Option{nats.Name(id + "::root"), nats.UserInfo("root$1", "memphis")}, opts...)
	nc, err := nats.Connect("nats://"+b.Addr(), all...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return &client{t: t, nc: nc, js: js, connID: id}
}

// request sends a JSON body (a string, or any value marshalled to JSON)
// and returns the raw reply payload.
func (c *client) request(subject string, body any) []byte {
	c.t.Helper()
	var data []byte
	switch v := body.(type) {
	case string:
		data = []byte(v)
	case []byte:
		data = v
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
	}
	msg, err := c.nc.Request(subject, data, reqTimeout)
	if err != nil {
		c.t.Fatalf("request %s: %v", subject, err)
	}
	return msg.Data
}

// expectText asserts a style-A/C plain reply.
func (c *client) expectText(subject string, body any, want string) {
	c.t.Helper()
	if got := string(c.request(subject, body)); got != want {
		c.t.Fatalf("%s: reply %q, want %q", subject, got, want)
	}
}

// expectJSON asserts a JSON reply equals want field by field.
func (c *client) expectJSON(subject string, body any, want string) {
	c.t.Helper()
	got := c.request(subject, body)
	assertJSONEqual(c.t, got, want)
}

func assertJSONEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("reply is not JSON: %q (%v)", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("reply\n got  %s\n want %s", got, want)
	}
}

func startBroker(t testing.TB, opts ...func(*devbroker.Options)) *devbroker.Broker {
	t.Helper()
	if devbrokertest.External() {
		t.Skip("memphis-devbroker's own tests test the broker in this process, not an external one")
	}
	return devbrokertest.Start(t, opts...)
}

// stationReq is a station creation request as memphis.go sends it.
func stationReq(name string, partitions int) map[string]any {
	return map[string]any{
		"name": name, "retention_type": "message_age_sec", "retention_value": 3600,
		"storage_type": "file", "replicas": 1, "idempotency_window_in_ms": 120000,
		"schema_name": "", "dls_configuration": map[string]any{"poison": true, "schemaverse": true},
		"username": "root", "tiered_storage_enabled": false, "partitions_number": partitions,
		"dls_station": "",
	}
}

func (c *client) producerReq(name, station string) map[string]any {
	return map[string]any{
		"name": name, "station_name": station, "connection_id": c.connID,
		"producer_type": "application", "req_version": 4, "username": "root",
		"app_id": "9a1e0000-0000-0000-0000-000000000000", "sdk_lang": "go",
	}
}

func (c *client) consumerReq(name, station, group string) map[string]any {
	return map[string]any{
		"name": name, "station_name": station, "connection_id": c.connID,
		"consumer_type": "application", "consumers_group": group, "max_ack_time_ms": 30000,
		"max_msg_deliveries": 2, "username": "root", "start_consume_from_sequence": 1,
		"last_messages": -1, "req_version": 4, "app_id": "9a1e0000-0000-0000-0000-000000000000",
		"sdk_lang": "go",
	}
}

const noSchema = `{"schema_name":"","active_version":{"version_number":0,"descriptor":"","schema_content":"","message_struct_name":""},"type":""}`
