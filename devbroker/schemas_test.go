package devbroker_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/internal/schemaverse"
	"github.com/nats-io/nats.go"
)

const (
	orderJSONSchema = `{"type":"object","properties":{"amount":{"type":"number"}},"required":["amount"]}`
	orderProto      = "syntax = \"proto3\";\nmessage Order { string id = 1; int32 amount = 2; }\nmessage Second { bool x = 1; }\n"
)

func schemaReq(name, typ, content string) map[string]any {
	return map[string]any{"name": name, "type": typ, "created_by_username": "root",
		"schema_content": content, "message_struct_name": ""}
}

func (c *client) createSchema(name, typ, content, wantErr string) {
	c.t.Helper()
	c.expectJSON("$memphis_schema_creations", schemaReq(name, typ, content), `{"error":`+jsonString(wantErr)+`}`)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func attachReq(schema, station string) map[string]any {
	return map[string]any{"name": schema, "station_name": station, "username": "root"}
}

func detachReq(station string) map[string]any {
	return map[string]any{"station_name": station, "username": "root"}
}

// producerSchema creates a producer and returns the schema_update it got.
func (c *client) producerSchema(name, station string) map[string]any {
	c.t.Helper()
	var resp struct {
		SchemaUpdate map[string]any `json:"schema_update"`
		Error        string         `json:"error"`
	}
	if err := json.Unmarshal(c.request("$memphis_producer_creations", c.producerReq(name, station)), &resp); err != nil {
		c.t.Fatal(err)
	}
	if resp.Error != "" {
		c.t.Fatalf("producer creation: %s", resp.Error)
	}
	return resp.SchemaUpdate
}

func versionOf(t *testing.T, u map[string]any) (string, float64, string) {
	t.Helper()
	av, _ := u["active_version"].(map[string]any)
	return u["schema_name"].(string), av["version_number"].(float64), av["schema_content"].(string)
}

func TestSchemaCreateVersionsAndTypes(t *testing.T) {
	c := connect(t, startBroker(t))
	c.createSchema("orders", "json", orderJSONSchema, "")
	c.createSchema("orders", "json", orderJSONSchema, "orders already exists in the db with the same schema content")
	v2 := `{"type":"object","required":["id"]}`
	c.createSchema("orders", "json", v2, "")
	c.createSchema("orders", "avro", `"string"`, "orders already exist with type - json")
	// Same content as the latest version (2) is "already exists" again.
	c.createSchema("orders", "json", v2, "orders already exists in the db with the same schema content")

	// The new version is inactive: attaching still uses version 1.
	c.expectText("$memphis_station_creations", stationReq("st", 1), "")
	c.expectText("$memphis_schema_attachments", attachReq("orders", "st"), "")
	name, version, content := versionOf(t, c.producerSchema("p1", "st"))
	if name != "orders" || version != 1 || content != orderJSONSchema {
		t.Fatalf("schema_update = %s v%v %q, want orders v1", name, version, content)
	}
}

func TestSchemaCreateBrokerErrorTexts(t *testing.T) {
	c := connect(t, startBroker(t))
	cases := []struct{ name, typ, content, want string }{
		{"empty", "json", "", "your schema content is invalid"},
		{"badjson", "json", `{"type": 5}`, "your json schema is invalid"},
		{"badproto", "protobuf", "message {", "your Proto file is invalid: "},
		{"noproto", "protobuf", `syntax = "proto3"; enum E { A = 0; }`, "message struct name is required when schema type is Protobuf"},
		{"badavro", "avro", `{"type":"record"}`, "your Avro file is invalid: "},
		{"badgql", "graphql", "type Query {", "Expected"},
		{"", "json", orderJSONSchema, "Schema name can not be empty"},
		{"bad name!", "json", orderJSONSchema, "Only alphanumeric and the '_', '-', '.' characters are allowed in Schema"},
		{"-edge", "json", orderJSONSchema, "Schema name can not start or end with non alphanumeric character"},
		{strings.Repeat("a", 129), "json", orderJSONSchema, "Schema should be under 128 characters"},
		{"xml", "xml", "<a/>", "schema type has to be one of the following protobuf/json/graphql/avro"},
	}
	for _, tc := range cases {
		var resp struct{ Error string }
		if err := json.Unmarshal(c.request("$memphis_schema_creations", schemaReq(tc.name, tc.typ, tc.content)), &resp); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resp.Error, tc.want) || (strings.HasSuffix(tc.want, ": ") && len(resp.Error) == len(tc.want)) {
			t.Errorf("create %q (%s): error %q, want it to contain %q", tc.name, tc.typ, resp.Error, tc.want)
		}
	}
	c.expectJSON("$memphis_schema_creations", "not json", `{"error":"invalid schema creation request: invalid character 'o' in literal null (expecting 'u')"}`)
}

func TestSchemaProtobufDescriptorInCreationResponses(t *testing.T) {
	c := connect(t, startBroker(t))
	c.createSchema("Orders.Proto", "protobuf", orderProto, "")
	c.expectText("$memphis_station_creations", stationReq("st", 1), "")
	c.expectText("$memphis_schema_attachments", attachReq("orders.proto", "st"), "")
	var resp struct {
		SchemaUpdate struct {
			SchemaName    string `json:"schema_name"`
			Type          string `json:"type"`
			ActiveVersion struct {
				VersionNumber     int    `json:"version_number"`
				Descriptor        string `json:"descriptor"`
				SchemaContent     string `json:"schema_content"`
				MessageStructName string `json:"message_struct_name"`
			} `json:"active_version"`
		} `json:"schema_update"`
	}
	if err := json.Unmarshal(c.request("$memphis_consumer_creations", c.consumerReq("w", "st", "")), &resp); err != nil {
		t.Fatal(err)
	}
	u := resp.SchemaUpdate
	if u.SchemaName != "orders.proto" || u.Type != "protobuf" || u.ActiveVersion.MessageStructName != "Order" || u.ActiveVersion.Descriptor == "" {
		t.Fatalf("consumer schema_update = %+v", u)
	}
	// The descriptor is what clients compile: it must validate a message.
	v, err := schemaverse.Compile(schemaverse.Schema{Name: u.SchemaName, Type: schemaverse.Protobuf,
		Version: u.ActiveVersion.VersionNumber, Descriptor: u.ActiveVersion.Descriptor, MessageStructName: u.ActiveVersion.MessageStructName})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate([]byte(`{"id":"a","amount":3}`)); err != nil {
		t.Fatal(err)
	}
}

// updates subscribes to a station's schema update broadcasts.
func (c *client) updates(internalStation string) chan *nats.Msg {
	c.t.Helper()
	ch := make(chan *nats.Msg, 16)
	sub, err := c.nc.ChanSubscribe("$memphis_schema_updates_"+internalStation, ch)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := c.nc.Flush(); err != nil {
		c.t.Fatal(err)
	}
	return ch
}

func nextUpdate(t *testing.T, ch chan *nats.Msg) []byte {
	t.Helper()
	select {
	case m := <-ch:
		return m.Data
	case <-time.After(reqTimeout):
		t.Fatal("no schema update broadcast")
		return nil
	}
}

func TestSchemaAttachDetachBroadcasts(t *testing.T) {
	c := connect(t, startBroker(t))
	c.createSchema("orders", "json", orderJSONSchema, "")
	c.expectText("$memphis_station_creations", stationReq("Orders.EU", 2), "")
	ch := c.updates("orders#eu")

	c.expectText("$memphis_schema_attachments", attachReq("orders", "Orders.EU"), "")
	initMsg := `{"UpdateType":1,"init":{"schema_name":"orders","active_version":{"version_number":1,"descriptor":"",
		"schema_content":` + jsonString(orderJSONSchema) + `,"message_struct_name":""},"type":"json"}}`
	assertJSONEqual(t, nextUpdate(t, ch), initMsg)
	var init struct {
		Init json.RawMessage `json:"init"`
	}
	_ = json.Unmarshal([]byte(initMsg), &init)
	c.expectJSON("$memphis_consumer_creations", c.consumerReq("w", "orders.eu", ""),
		`{"schema_update":`+string(init.Init)+`,"partitions_update":{"partitions_list":[1,2]},"error":""}`)

	c.expectText("$memphis_schema_detachments", detachReq("orders.eu"), "")
	assertJSONEqual(t, nextUpdate(t, ch), `{"UpdateType":2,"init":`+noSchema+`}`)
	c.expectJSON("$memphis_consumer_creations", c.consumerReq("w2", "orders.eu", ""),
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1,2]},"error":""}`)

	c.expectText("$memphis_schema_attachments", attachReq("orders", "missing"), "memphis: Station missing does not exist")
	c.expectText("$memphis_schema_attachments", attachReq("nope", "orders.eu"), "Schema nope does not exist")
	c.expectText("$memphis_schema_detachments", detachReq("missing"), "station missing does not exist")
	c.expectText("$memphis_schema_attachments", "{", "invalid schema attachment request: unexpected end of JSON input")
}

func TestStationCreationWithSchemaName(t *testing.T) {
	c := connect(t, startBroker(t))
	req := stationReq("withschema", 1)
	req["schema_name"] = "Orders"
	c.expectText("$memphis_station_creations", req, "Schema orders does not exist")
	c.createSchema("orders", "graphql", "type Query { order(id: ID!): Int }", "")
	c.expectText("$memphis_station_creations", req, "")
	name, version, _ := versionOf(t, c.producerSchema("p", "withschema"))
	if name != "orders" || version != 1 {
		t.Fatalf("schema_update = %s v%v", name, version)
	}
}

func TestSchemasSurviveBrokerRestart(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.createSchema("orders", "protobuf", orderProto, "")
	c.createSchema("orders", "protobuf", orderProto+"\nmessage Third { int32 y = 1; }\n", "")
	c.expectText("$memphis_station_creations", stationReq("st", 1), "")
	c.expectText("$memphis_schema_attachments", attachReq("orders", "st"), "")
	c.nc.Close()

	b = devbrokertest.Restart(t, b)
	c = connect(t, b)
	name, version, content := versionOf(t, c.producerSchema("p", "st"))
	if name != "orders" || version != 1 || content != orderProto {
		t.Fatalf("after restart schema_update = %s v%v", name, version)
	}
	// Version 2 is still there: creating it again is "already exists".
	c.createSchema("orders", "protobuf", orderProto+"\nmessage Third { int32 y = 1; }\n",
		"orders already exists in the db with the same schema content")
}
