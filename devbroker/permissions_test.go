package devbroker_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// violations collects the permission errors the server reports to one
// connection (they arrive asynchronously, as -ERR).
type violations struct {
	mu   sync.Mutex
	errs []string
	ch   chan struct{}
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	v.mu.Lock()
	v.errs = append(v.errs, err.Error())
	v.mu.Unlock()
	select {
	case v.ch <- struct{}{}:
	default:
	}
}

// wait blocks until a violation naming subject has been reported.
func (v *violations) wait(t *testing.T, subject string) {
	t.Helper()
	deadline := time.After(reqTimeout)
	for {
		v.mu.Lock()
		for _, e := range v.errs {
			if strings.Contains(e, `"`+subject+`"`) {
				v.mu.Unlock()
				return
			}
		}
		seen := append([]string(nil), v.errs...)
		v.mu.Unlock()
		select {
		case <-v.ch:
		case <-deadline:
			t.Fatalf("no permission violation for %q; got %q", subject, seen)
		}
	}
}

// restricted connects the way the named SDK user or a plain nats.go client
// does and records permission violations.
func restricted(t *testing.T, b *devbroker.Broker, sdkName bool) (*client, *violations) {
	t.Helper()
	v := &violations{ch: make(chan struct{}, 1)}
	opts := []nats.Option{nats.ErrorHandler(v.handler)}
	if !sdkName {
		opts = append(opts, nats.Name("plain nats.go"))
	}
	return connect(t, b, opts...), v
}

// shortCtx bounds a JetStream call that is expected to be refused: a
// refused request gets no reply, so it ends with the context.
func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The three probes, as the SDK user and as a plain nats.go client:
// deleting a metadata stream, writing into a metadata bucket, reading one.
func TestSDKUsersCannotTouchBrokerState(t *testing.T) {
	b := startBroker(t)
	for _, sdkName := range []bool{true, false} {
		c, v := restricted(t, b, sdkName)
		if err := c.js.DeleteStream(shortCtx(t), "KV_memphis_schemas"); err == nil {
			t.Fatal("deleting KV_memphis_schemas succeeded")
		}
		v.wait(t, "$JS.API.STREAM.DELETE.KV_memphis_schemas")

		if err := c.nc.Publish("$KV.memphis_stations.victim", []byte("garbage")); err != nil {
			t.Fatal(err)
		}
		v.wait(t, "$KV.memphis_stations.victim")
		if _, err := c.js.Publish(shortCtx(t), "$KV.memphis_stations.victim", []byte("garbage")); err == nil {
			t.Fatal("JetStream publish into KV_memphis_stations acknowledged")
		}

		if _, err := c.nc.SubscribeSync("$KV.memphis_dls.>"); err != nil {
			t.Fatal(err)
		}
		v.wait(t, "$KV.memphis_dls.>")
	}
	// The control plane still works for everyone: the schema bucket is
	// there, and "victim" was never written.
	c := connect(t, b)
	c.createSchema("after-attack", "json", orderJSONSchema, "")
	c.expectText("$memphis_station_creations", stationReq("victim", 1), "")
	c.expectJSON("$memphis_producer_creations", c.producerReq("p", "victim"),
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1]},"schemaverse_to_dls":true,
		"send_notification":false,"station_version":2,"station_partitions_first_functions":{},"error":""}`)
	c.expectText("$memphis_station_destructions", map[string]any{"station_name": "victim", "username": "root"}, "")
}

// Every other door into the metadata, and the subjects only the broker may
// read, are closed too.
func TestSDKPermissionDenials(t *testing.T) {
	b := startBroker(t)
	c, v := restricted(t, b, true)
	c.expectText("$memphis_station_creations", stationReq("open", 1), "")
	pubs := []string{
		"$JS.API.STREAM.PURGE.KV_memphis_dls",
		"$JS.API.STREAM.UPDATE.KV_memphis_stations",
		"$JS.API.STREAM.INFO.KV_memphis_consumers",
		"$JS.API.STREAM.MSG.DELETE.KV_memphis_producers",
		"$JS.API.STREAM.MSG.GET.KV_memphis_stations",
		"$JS.API.DIRECT.GET.KV_memphis_stations.$KV.memphis_stations.open",
		"$JS.API.CONSUMER.CREATE.KV_memphis_dls",
		"$JS.API.CONSUMER.CREATE.KV_memphis_dls.spy.$KV.memphis_dls.>",
		"$JS.API.CONSUMER.DURABLE.CREATE.KV_memphis_schemas.spy",
		"$JS.API.CONSUMER.MSG.NEXT.KV_memphis_schemas.spy",
		"$JS.API.ACCOUNT.PURGE",
		"$JS.API.STREAM.DELETE.open$1",                          // a station's stream belongs to the control plane
		"$JS.API.STREAM.PURGE.open$1",                           // ... its messages too
		"$JS.API.STREAM.CREATE.rogue$1",                         // streams are made by station creation only
		"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.open$1.grp", // only JetStream reports poison messages
		"open$1.ingest",                   // straight into the stream, past the msg-id ingest path
		"_INBOX.someone",                  // into another client's fetch
		"$memphis_internal_inbox.watcher", // into the broker's metadata reads
	}
	for _, subj := range pubs {
		if err := c.nc.PublishRequest(subj, c.nc.NewRespInbox(), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		v.wait(t, subj)
	}
	// Joining the broker's queue groups on its request subjects, or any
	// subscription to its own inbox, the ingest path or the metadata.
	queueSubs := []string{"$memphis_station_creations", "$memphis_producer_creations", "$memphis_schemaverse_dls"}
	for _, subj := range queueSubs {
		if _, err := c.nc.QueueSubscribeSync(subj, "memphis_station_creations_listeners_group"); err != nil {
			t.Fatal(err)
		}
		v.wait(t, subj)
	}
	for _, subj := range []string{"$memphis_internal_inbox.>", "$memphis_msgid_ingest.>", "$JS.EVENT.ADVISORY.>", "$KV.memphis_stations.>"} {
		if _, err := c.nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		v.wait(t, subj)
	}
	// The stream survived.
	if _, err := c.js.Stream(context.Background(), "open$1"); err != nil {
		t.Fatalf("station stream: %v", err)
	}
}

// A plain subscription may watch control requests (libmemphis's tests
// observe what the SDK sends), but cannot answer one: SDK users may not
// publish to inboxes, so the requester gets the broker's answer.
func TestRequestWatcherCannotAnswer(t *testing.T) {
	b := startBroker(t)
	spy, v := restricted(t, b, true)
	forged := make(chan string, 1)
	if _, err := spy.nc.Subscribe("$memphis_station_creations", func(m *nats.Msg) {
		forged <- m.Reply
		_ = m.Respond([]byte("forged failure"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := spy.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("honest", 1), "")
	v.wait(t, <-forged)
}

// A wildcard subscription an SDK user may hold ("*.*" covers the DLS
// resend subjects) still never sees the broker's metadata reads, which
// JetStream delivers to the broker's own two-token inboxes.
func TestWildcardSubscriberSeesNoBrokerInternals(t *testing.T) {
	b := startBroker(t)
	spy := connect(t, b)
	// A channel subscription: once Flush returns, everything the server
	// sent before its PONG is in the channel.
	seen := make(chan *nats.Msg, 4096)
	for _, subj := range []string{"*.*", "_INBOX.>"} {
		if _, err := spy.nc.ChanSubscribe(subj, seen); err != nil {
			t.Fatal(err)
		}
	}
	if err := spy.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("watched", 1), "")
	c.request("$memphis_consumer_creations", c.consumerReq("w", "watched", "g"))
	// Destroying lists the metadata keys: a KV watcher, delivering to the
	// broker's inbox.
	c.expectText("$memphis_station_destructions", map[string]any{"station_name": "watched", "username": "root"}, "")
	if err := spy.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// Replies to the two test clients are theirs (same user); anything else
	// on an inbox belongs to the broker.
	own := func(nc *nats.Conn) string {
		r := nc.NewRespInbox()
		return r[:strings.LastIndexByte(r, '.')+1]
	}
	mine := []string{own(c.nc), own(spy.nc)}
	for len(seen) > 0 {
		subj := (<-seen).Subject
		if strings.HasPrefix(subj, mine[0]) || strings.HasPrefix(subj, mine[1]) {
			continue
		}
		if strings.Contains(subj, "INBOX") || strings.HasPrefix(subj, "$memphis_internal_inbox") || strings.HasPrefix(subj, "$KV") {
			t.Fatalf("SDK user received broker-internal message on %s", subj)
		}
	}
}

// What the SDKs do with JetStream is allowed: stream lookup and info,
// durable info/create/delete and pulls on station streams, acks.
func TestSDKPermissionsAllowWireProtocol(t *testing.T) {
	b := startBroker(t)
	c, v := restricted(t, b, false)
	ctx := context.Background()
	c.expectText("$memphis_station_creations", stationReq("wired", 2), "")
	c.request("$memphis_consumer_creations", c.consumerReq("w", "wired", "grp"))
	if _, err := c.js.StreamNameBySubject(ctx, "wired$2.final"); err != nil {
		t.Fatalf("STREAM.NAMES: %v", err)
	}
	if _, err := c.js.AccountInfo(ctx); err != nil {
		t.Fatalf("INFO: %v", err)
	}
	s, err := c.js.Stream(ctx, "wired$1")
	if err != nil {
		t.Fatalf("STREAM.INFO: %v", err)
	}
	if _, err := c.js.Publish(ctx, "wired$1.final", []byte("m")); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cons, err := s.Consumer(ctx, "grp")
	if err != nil {
		t.Fatalf("CONSUMER.INFO: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(reqTimeout))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if batch.Error() != nil {
		t.Fatalf("fetch: %v", batch.Error())
	}
	if _, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "own", AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubject: "wired$1.final"}); err != nil {
		t.Fatalf("CONSUMER.CREATE: %v", err)
	}
	names := map[string]bool{}
	for n := range s.ConsumerNames(ctx).Name() {
		names[n] = true
	}
	if !names["grp"] || !names["own"] {
		t.Fatalf("CONSUMER.NAMES: %v", names)
	}
	for info := range s.ListConsumers(ctx).Info() {
		delete(names, info.Name)
	}
	if len(names) != 0 {
		t.Fatalf("CONSUMER.LIST missed %v", names)
	}
	if err := s.DeleteConsumer(ctx, "own"); err != nil {
		t.Fatalf("CONSUMER.DELETE: %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.errs) > 0 {
		t.Fatalf("permission violations: %q", v.errs)
	}
}
