package sdk

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/internal/schemaverse"
	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/protowire"
)

// schemaCase is one schema type's fixtures for the end-to-end tests.
type schemaCase struct {
	typ      string
	content  string // version 1
	content2 string // version 2: rejects `valid`, so using it would show
	valid    []byte
	invalid  []byte
	// wantOnWire is what consumers must receive for `valid` (protobuf JSON
	// input is converted to binary); nil = valid unchanged.
	wantOnWire []byte
	// deserialized checks DataDeserialized of the valid message.
	deserialized func(t *testing.T, v any)
	badContent   string
	badText      string // broker text (prefix) for badContent
}

func protoBinary() []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, "o-1")
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, 7)
}

var schemaCases = []schemaCase{
	{
		typ:        SchemaTypeJSON,
		content:    `{"type":"object","properties":{"id":{"type":"string"},"amount":{"type":"number"}},"required":["id","amount"]}`,
		content2:   `{"type":"object","required":["never"]}`,
		valid:      []byte(`{"id":"o-1","amount":7}`),
		invalid:    []byte(`{"id":"o-1","amount":"seven"}`),
		badContent: `{"type":17}`, badText: "your json schema is invalid",
		deserialized: func(t *testing.T, v any) {
			if m, ok := v.(map[string]any); !ok || m["id"] != "o-1" || m["amount"].(json.Number).String() != "7" {
				t.Fatalf("DataDeserialized = %#v", v)
			}
		},
	},
	{
		typ:        SchemaTypeAvro,
		content:    `{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"amount","type":"int"}]}`,
		content2:   `{"type":"record","name":"Order","fields":[{"name":"never","type":"string"}]}`,
		valid:      []byte(`{"id":"o-1","amount":7}`),
		invalid:    []byte(`{"id":"o-1","amount":"seven"}`),
		badContent: `{"type":"record","name":"X"}`, badText: "your Avro file is invalid: ",
		deserialized: func(t *testing.T, v any) {
			if m, ok := v.(map[string]any); !ok || m["id"] != "o-1" {
				t.Fatalf("DataDeserialized = %#v", v)
			}
		},
	},
	{
		typ:        SchemaTypeGraphQL,
		content:    "type Query { order(id: ID!): Order }\ntype Order { id: ID! amount: Int! }\n",
		content2:   "type Query { other: Int }\n",
		valid:      []byte(`query { order(id: "o-1") { id amount } }`),
		invalid:    []byte(`query { order(id: "o-1") { price } }`),
		badContent: "type Query {", badText: "Expected",
		deserialized: func(t *testing.T, v any) {
			if s, ok := v.(string); !ok || !strings.Contains(s, "order") {
				t.Fatalf("DataDeserialized = %#v", v)
			}
		},
	},
	{
		typ:        SchemaTypeProtobuf,
		content:    "syntax = \"proto3\";\nmessage Order { string id = 1; int32 amount = 2; }\n",
		content2:   "syntax = \"proto3\";\nmessage Other { bool flag = 1; }\n",
		valid:      []byte(`{"id":"o-1","amount":7}`),
		invalid:    []byte(`{"id":"o-1","amount":"seven"}`),
		wantOnWire: protoBinary(),
		badContent: "message Order {", badText: "your Proto file is invalid: ",
		deserialized: func(t *testing.T, v any) {
			if m, ok := v.(map[string]any); !ok || m["id"] != "o-1" || m["amount"].(json.Number).String() != "7" {
				t.Fatalf("DataDeserialized = %#v", v)
			}
		},
	},
}

// subscribe collects core messages on subject (the SDK side channels).
func subscribe(t *testing.T, c *Conn, subject string) chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 64)
	sub, err := c.nc.ChanSubscribe(subject, ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := c.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

func receive(t *testing.T, ch chan *nats.Msg, what string) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

func wantSchemaErr(t *testing.T, err error) {
	t.Helper()
	if CodeOf(err) != CodeSchemaValidation || !strings.HasPrefix(err.Error(), "memphis: "+schemaverse.ValidationPrefix) {
		t.Fatalf("got %v (code %v), want a schema validation error", err, CodeOf(err))
	}
}

func TestSchemaverseEndToEnd(t *testing.T) {
	for _, tc := range schemaCases {
		t.Run(tc.typ, func(t *testing.T) { runSchemaCase(t, tc) })
	}
}

func runSchemaCase(t *testing.T, tc schemaCase) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	schema, station := "orders-"+tc.typ, "Orders."+tc.typ
	internal := internalName(station)

	if err := c.CreateSchema(ctx, schema, tc.typ, []byte(tc.content)); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	if err := c.CreateSchema(ctx, schema, tc.typ, []byte(tc.content)); err != nil {
		t.Fatalf("creating the same schema twice must succeed: %v", err)
	}
	createStation(t, c, station, func(o *StationOptions) { o.DlsStation = "dls-" + tc.typ })
	dlsReports := subscribe(t, c, "$memphis_schemaverse_dls")

	// A producer that exists before the schema is enforced.
	p := createProducer(t, c, station, "prod")
	if err := p.Produce(ctx, tc.invalid, ProduceOptions{}); err != nil {
		t.Fatalf("without a schema anything goes: %v", err)
	}

	if err := c.EnforceSchema(ctx, schema, station); err != nil {
		t.Fatalf("enforce: %v", err)
	}
	devbrokertest.WaitFor(t, "schema update to reach the live producer", func() bool { return c.currentSchema(internal) != nil })

	h := Headers{}
	_ = h.Add("trace", "t-1")
	err := p.Produce(ctx, tc.invalid, ProduceOptions{Headers: h})
	wantSchemaErr(t, err)
	if err := p.ProduceAsync(ctx, tc.invalid, ProduceOptions{}, func(Delivery) { t.Error("rejected message got a delivery") }); CodeOf(err) != CodeSchemaValidation {
		t.Fatalf("ProduceAsync(invalid) = %v", err)
	}
	report := receive(t, dlsReports, "schemaverse DLS report")
	var r schemaverseDLSMsg
	if err := json.Unmarshal(report.Data, &r); err != nil {
		t.Fatal(err)
	}
	if r.StationName != internal || r.Producer.Name != "prod" || r.Producer.ConnectionID != c.ConnectionID() ||
		r.Message.Data != hex.EncodeToString(tc.invalid) || r.Message.Headers["trace"] != "t-1" ||
		r.Message.Headers["$memphis_producedBy"] != "prod" || !strings.HasPrefix(r.ValidationError, schemaverse.ValidationPrefix) {
		t.Fatalf("DLS report = %s", report.Data)
	}

	// The broker forwards the rejected message to the station's dls_station.
	dlsCons := createConsumer(t, c, "dls-"+tc.typ, "dls-reader")
	dead := fetchUntil(t, dlsCons, 1, PartitionSelector{})[0]
	if string(dead.Data()) != string(tc.invalid) || dead.Headers()["type"] != "failed_schema" || dead.Headers()["station"] != strings.ToLower(station) {
		t.Fatalf("dls station got %q %v", dead.Data(), dead.Headers())
	}

	if err := p.Produce(ctx, tc.valid, ProduceOptions{}); err != nil {
		t.Fatalf("valid message rejected: %v", err)
	}

	// A new version does not replace the active one.
	if err := c.CreateSchema(ctx, schema, tc.typ, []byte(tc.content2)); err != nil {
		t.Fatalf("new version: %v", err)
	}
	p2 := createProducer(t, c, station, "prod2")
	if err := p2.Produce(ctx, tc.valid, ProduceOptions{}); err != nil {
		t.Fatalf("a new schema version changed the active one: %v", err)
	}

	// Consumers see the pre-schema message, then the two valid ones; the
	// rejected messages were never published.
	cons := createConsumer(t, c, station, "reader")
	msgs := fetchUntil(t, cons, 3, PartitionSelector{})
	want := tc.valid
	if tc.wantOnWire != nil {
		want = tc.wantOnWire
	}
	if string(msgs[0].Data()) != string(tc.invalid) || string(msgs[1].Data()) != string(want) || string(msgs[2].Data()) != string(want) {
		t.Fatalf("station holds %q %q %q", msgs[0].Data(), msgs[1].Data(), msgs[2].Data())
	}
	if more, err := cons.Fetch(ctx, 10, PartitionSelector{}); err != nil || len(more) != 0 {
		t.Fatalf("rejected messages reached the station: %d, %v", len(more), err)
	}
	v, err := msgs[1].DataDeserialized()
	if err != nil {
		t.Fatalf("DataDeserialized: %v", err)
	}
	tc.deserialized(t, v)
	if _, err := msgs[0].DataDeserialized(); err == nil || !strings.Contains(err.Error(), schemaverse.DeserializationPrefix) {
		t.Fatalf("DataDeserialized of a non-conforming message = %v", err)
	}

	// Detach: anything goes again, for the live producer too.
	if err := c.DetachSchema(ctx, station); err != nil {
		t.Fatalf("detach: %v", err)
	}
	devbrokertest.WaitFor(t, "schema drop to reach the live producer", func() bool { return c.currentSchema(internal) == nil })
	if err := p.Produce(ctx, tc.invalid, ProduceOptions{}); err != nil {
		t.Fatalf("after detach: %v", err)
	}
	if raw, err := fetchUntil(t, cons, 1, PartitionSelector{})[0].DataDeserialized(); err != nil || string(raw.([]byte)) != string(tc.invalid) {
		t.Fatalf("without a schema DataDeserialized returns the bytes: %v %v", raw, err)
	}

	// Bad schema files get the broker's texts.
	err = c.CreateSchema(ctx, "bad-"+tc.typ, tc.typ, []byte(tc.badContent))
	if err == nil || !strings.Contains(err.Error(), tc.badText) {
		t.Fatalf("bad %s schema: %v, want %q", tc.typ, err, tc.badText)
	}
	if err := c.CreateSchema(ctx, schema, SchemaTypeJSON, []byte(`{"type":"object"}`)); tc.typ != SchemaTypeJSON &&
		(CodeOf(err) != CodeAlreadyExists || !strings.Contains(err.Error(), schema+" already exist with type - "+tc.typ)) {
		t.Fatalf("type change: %v", err)
	}
}

func TestSchemaverseNotificationsAndDeadLetterStation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	tc := schemaCases[0]
	if err := c.CreateSchema(ctx, "orders", tc.typ, []byte(tc.content)); err != nil {
		t.Fatal(err)
	}
	createStation(t, c, "orders", func(o *StationOptions) { o.SchemaName = "orders"; o.DlsStation = "orders-dls" })
	notes := subscribe(t, c, "$memphis_notifications")
	p := createProducer(t, c, "orders", "prod")
	// The broker turns Slack alerts on through a clients update (§2.6).
	on := true
	body, _ := json.Marshal(clientsUpdate{Type: "send_notification", Update: &on})
	if err := c.nc.Publish("$memphis_sdk_clients_updates", body); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "send_notification flag", c.SendNotification)
	wantSchemaErr(t, p.Produce(ctx, tc.invalid, ProduceOptions{}))
	var n notification
	if err := json.Unmarshal(receive(t, notes, "notification").Data, &n); err != nil {
		t.Fatal(err)
	}
	if n.Title != "Schema validation has failed" || n.Type != "schema_validation_fail_alert" || n.Code != string(tc.invalid) ||
		!strings.HasPrefix(n.Msg, "Station: orders\nProducer: prod\nError:") {
		t.Fatalf("notification = %+v", n)
	}

	// The broker forwards schema failures to the station's dls_station.
	dls := createConsumer(t, c, "orders-dls", "dls-reader")
	got := fetchUntil(t, dls, 1, PartitionSelector{})[0]
	if string(got.Data()) != string(tc.invalid) || got.Headers()["type"] != "failed_schema" || got.Headers()["station"] != "orders" {
		t.Fatalf("dls station got %q %v", got.Data(), got.Headers())
	}
}

func TestSchemaverseClientSideErrors(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	if err := c.CreateSchema(ctx, "s", "yaml", []byte("a: 1")); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("unknown type: %v", err)
	}
	if err := c.CreateSchema(ctx, "-s", "json", []byte("{}")); err == nil || !strings.Contains(err.Error(), "can not start or end") {
		t.Fatalf("bad name: %v", err)
	}
	if err := c.EnforceSchema(ctx, "nope", "nowhere"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("enforce on a missing station: %v", err)
	}
	createStation(t, c, "st")
	if err := c.AttachSchema(ctx, "nope", "st"); err == nil || !strings.Contains(err.Error(), "Schema nope does not exist") {
		t.Fatalf("attach a missing schema: %v", err)
	}
	if _, err := c.CreateStation(ctx, func() StationOptions { o := DefaultStationOptions("st2"); o.SchemaName = "nope"; return o }()); err == nil ||
		!strings.Contains(err.Error(), "Schema nope does not exist") {
		t.Fatalf("station with a missing schema: %v", err)
	}
	path := filepath.Join(t.TempDir(), "order.json")
	if err := os.WriteFile(path, []byte(schemaCases[0].content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateSchemaFromFile(ctx, "fromfile", "JSON", path); err != nil {
		t.Fatalf("CreateSchemaFromFile: %v", err)
	}
	if err := c.CreateSchemaFromFile(ctx, "fromfile", "json", path+".missing"); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("missing file: %v", err)
	}
	var e *Error
	if err := c.CreateSchema(ctx, "bad", "json", []byte("{")); !errors.As(err, &e) || e.Code != CodeSchemaValidation {
		t.Fatalf("broker content error should carry CodeSchemaValidation: %v", err)
	}
}

func TestSchemaverseSubscriptionIsSharedAndReleased(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	tc := schemaCases[0]
	if err := c.CreateSchema(ctx, "orders", tc.typ, []byte(tc.content)); err != nil {
		t.Fatal(err)
	}
	createStation(t, c, "Shop.Orders", func(o *StationOptions) { o.SchemaName = "orders" })
	const internal = "shop#orders"
	p1 := createProducer(t, c, "shop.orders", "p1")
	p2 := createProducer(t, c, "Shop.Orders", "p2")
	cons := createConsumer(t, c, "shop.orders", "reader")
	s := c.schemas().lookup(internal)
	if s == nil || s.refs != 3 || s.sub == nil {
		t.Fatalf("station schema state = %+v, want one subscription with 3 references", s)
	}
	if err := p1.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	wantSchemaErr(t, p2.Produce(ctx, tc.invalid, ProduceOptions{}))
	if err := p2.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cons.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if s := c.schemas().lookup(internal); s != nil {
		t.Fatalf("state kept after the last producer/consumer went: %+v", s)
	}
	if s.sub.IsValid() {
		t.Fatal("update subscription still active after the last release")
	}
	// A new producer is seeded from its creation response again.
	p3 := createProducer(t, c, "shop.orders", "p3")
	wantSchemaErr(t, p3.Produce(ctx, tc.invalid, ProduceOptions{}))
	if err := p3.Produce(ctx, tc.valid, ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	c.closeSchemas()
	if c.currentSchema(internal) != nil {
		t.Fatal("closeSchemas kept state")
	}
}

func TestSchemaverseUncompilableSnapshotFailsClosed(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "st")
	p := createProducer(t, c, "st", "p")
	// A broker snapshot whose descriptor is garbage: producing must fail
	// rather than publish unchecked messages to a schema-enforced station.
	var u schemaUpdate
	u.SchemaName, u.Type = "broken", "protobuf"
	u.ActiveVersion.VersionNumber, u.ActiveVersion.Descriptor = 1, "not base64!"
	c.seedSchema("st", u)
	err := p.Produce(ctx, []byte("x"), ProduceOptions{})
	wantSchemaErr(t, err)
	if !strings.Contains(err.Error(), "could not be compiled") {
		t.Fatalf("error does not say why: %v", err)
	}
	c.seedSchema("st", schemaUpdate{}) // a later "no schema" snapshot replaces it
	c.releaseSchema("st")
	c.releaseSchema("st")
	if err := p.Produce(ctx, []byte("x"), ProduceOptions{}); err != nil {
		t.Fatalf("after the bad snapshot is replaced by none: %v", err)
	}
}

// Concurrent Destroy calls on one producer or consumer must release the
// station's shared schema listener once: releasing it per call used to drop
// the listener of the other producer, which then missed a later enforce and
// published messages the schema rejects.
func TestConcurrentDestroyReleasesSchemaListenerOnce(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	tc := schemaCases[0]
	createStation(t, c, "guarded")
	p1 := createProducer(t, c, "guarded", "p1")
	p2 := createProducer(t, c, "guarded", "p2")
	c1 := createConsumer(t, c, "guarded", "c1")
	c2 := createConsumer(t, c, "guarded", "c2")
	// Unacknowledged produces keep the first Destroy inside its flush, the
	// window in which the other calls used to get through as well.
	for i := range 200 {
		if err := p1.ProduceAsync(ctx, payload(i), ProduceOptions{}, func(Delivery) {}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- p1.Destroy(ctx) }()
		go func() { defer wg.Done(); errs <- c1.Destroy(ctx) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("destroy: %v", err)
		}
	}
	if s := c.schemas().lookup("guarded"); s == nil || s.refs != 2 || !s.sub.IsValid() {
		t.Fatalf("station schema state = %+v, want a live subscription with 2 references (p2, c2)", s)
	}
	if err := c.CreateSchema(ctx, "guard", tc.typ, []byte(tc.content)); err != nil {
		t.Fatal(err)
	}
	if err := c.EnforceSchema(ctx, "guard", "guarded"); err != nil {
		t.Fatal(err)
	}
	wantSchemaErr(t, p2.Produce(ctx, tc.invalid, ProduceOptions{}))
	if err := c2.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
}

// EnforceSchema and DetachSchema return only once this connection's live
// producers apply the change: a produce right after them is checked against
// the new state (the broadcast and the reply reach different goroutines).
func TestSchemaChangeAppliesBeforeReturning(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	tc := schemaCases[0]
	if err := c.CreateSchema(ctx, "flip", tc.typ, []byte(tc.content)); err != nil {
		t.Fatal(err)
	}
	createStation(t, c, "flipping")
	p := createProducer(t, c, "flipping", "p")
	for round := range 10 {
		if err := c.EnforceSchema(ctx, "flip", "flipping"); err != nil {
			t.Fatal(err)
		}
		if err := p.Produce(ctx, tc.invalid, ProduceOptions{}); CodeOf(err) != CodeSchemaValidation {
			t.Fatalf("round %d: produce right after enforce = %v, want a schema validation error", round, err)
		}
		if err := c.DetachSchema(ctx, "flipping"); err != nil {
			t.Fatal(err)
		}
		if err := p.Produce(ctx, tc.invalid, ProduceOptions{}); err != nil {
			t.Fatalf("round %d: produce right after detach = %v, want success", round, err)
		}
	}
}
