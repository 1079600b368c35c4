package compat

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/memphisdev/memphis.go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The README scenarios of the official SDK, run as on the real broker.

// streamMsgs counts what a partition stream holds, read with a plain NATS
// connection (what the broker stored, independent of any SDK).
func streamMsgs(t *testing.T, addr, stream string) uint64 {
	t.Helper()
	nc, err := nats.Connect("nats://"+addr, nats.UserInfo("root", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return s.CachedInfo().State.Msgs
}

// errRecorder is a consumer error handler that keeps what it is told.
type errRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *errRecorder) handler(_ *memphis.Consumer, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *errRecorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		t.Fatalf("consumer errors: %v", r.errs)
	}
}

// memphis.go sends msg-id only; the broker de-duplicates it like the real
// one, for sync and async produces alike, within the station's window.
func TestMsgIDDeduplication(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	st, err := conn.CreateStation("dedup", memphis.IdempotencyWindow(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.CreateProducer("prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []memphis.ProduceOpt{memphis.SyncProduce(), memphis.SyncProduce(), memphis.AsyncProduce()} {
		if err := p.Produce([]byte("order 123"), memphis.MsgId("123"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Produce([]byte("order 124"), memphis.MsgId("124"), memphis.SyncProduce()); err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateConsumer("reader", memphis.BatchMaxWaitTime(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	devbrokertest.WaitFor(t, "both distinct messages", func() bool {
		msgs, err := cons.Fetch(10, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			got = append(got, string(m.Data()))
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		return len(got) >= 2
	})
	if n := streamMsgs(t, b.Addr(), "dedup$1"); n != 2 || strings.Join(got, ",") != "order 123,order 124" {
		t.Fatalf("stored %d, consumed %q; want the two distinct messages once each", n, got)
	}
}

// Keys pick a partition by murmur3 (user-1 on 3 partitions is partition
// 3, protocol doc §6.1); without a key, producers and consumers go round
// robin in partition order.
func TestPartitionsKeysAndRoundRobin(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	st, err := conn.CreateStation("parted", memphis.PartitionsNumber(3))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.CreateProducer("prod")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if err := p.Produce([]byte(fmt.Sprintf("rr-%d", i)), memphis.SyncProduce()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if err := p.Produce([]byte(fmt.Sprintf("key-%d", i)), memphis.ProducerPartitionKey("user-1"), memphis.SyncProduce()); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Produce([]byte("number-2"), memphis.ProducerPartitionNumber(2), memphis.SyncProduce()); err != nil {
		t.Fatal(err)
	}
	for stream, want := range map[string]uint64{"parted$1": 2, "parted$2": 3, "parted$3": 6} {
		if n := streamMsgs(t, b.Addr(), stream); n != want {
			t.Errorf("%s holds %d messages, want %d", stream, n, want)
		}
	}
	rec := &errRecorder{}
	cons, err := st.CreateConsumer("reader", memphis.BatchSize(100), memphis.BatchMaxWaitTime(500*time.Millisecond),
		memphis.ConsumerErrorHandler(rec.handler))
	if err != nil {
		t.Fatal(err)
	}
	var keyed []string
	devbrokertest.WaitFor(t, "the keyed partition's messages", func() bool {
		msgs, err := cons.Fetch(100, false, memphis.ConsumerPartitionKey("user-1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			keyed = append(keyed, string(m.Data()))
			_ = m.Ack()
		}
		return len(keyed) >= 6
	})
	sort.Strings(keyed)
	if strings.Join(keyed, ",") != "key-0,key-1,key-2,key-3,rr-2,rr-5" {
		t.Fatalf("partition of user-1 holds %q", keyed)
	}
	msgs, err := cons.Fetch(100, false, memphis.ConsumerPartitionNumber(2))
	if err != nil {
		t.Fatal(err)
	}
	var second []string
	for _, m := range msgs {
		second = append(second, string(m.Data()))
		_ = m.Ack()
	}
	sort.Strings(second)
	if strings.Join(second, ",") != "number-2,rr-1,rr-4" {
		t.Fatalf("partition 2 holds %q", second)
	}
	rec.check(t)
}

// Fetching a drained partitioned station again and again returns empty
// batches: no error, no "station unreachable" (the same calls memphis-py
// makes in the interop test).
func TestRepeatedFetchOnDrainedPartitionedStation(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	st, err := conn.CreateStation("drained", memphis.PartitionsNumber(3))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.CreateProducer("prod")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Produce([]byte("only"), memphis.ProducerPartitionKey("user-1"), memphis.SyncProduce()); err != nil {
		t.Fatal(err)
	}
	rec := &errRecorder{}
	cons, err := st.CreateConsumer("reader", memphis.BatchSize(100), memphis.BatchMaxWaitTime(200*time.Millisecond),
		memphis.ConsumerErrorHandler(rec.handler))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := 0; i < 30; i++ {
		opt := memphis.ConsumerPartitionKey("user-1")
		if i%2 == 1 {
			opt = nil // round robin
		}
		msgs, err := cons.Fetch(100, false, opt)
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		for _, m := range msgs {
			total++
			_ = m.Ack()
		}
	}
	if total != 1 {
		t.Fatalf("fetched %d messages, want the one produced", total)
	}
	rec.check(t)
}

// start_consume_from_sequence and last_messages pick the first message a
// new consumer group sees, on one partition and on several.
func TestStartSequenceAndLastMessages(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	for _, partitions := range []int{1, 2} {
		name := fmt.Sprintf("history-%d", partitions)
		st, err := conn.CreateStation(name, memphis.PartitionsNumber(partitions))
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.CreateProducer("prod")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 10*partitions; i++ {
			if err := p.Produce([]byte(fmt.Sprint(i)), memphis.SyncProduce()); err != nil {
				t.Fatal(err)
			}
		}
		read := func(cons *memphis.Consumer, want int) []string {
			var got []string
			devbrokertest.WaitFor(t, fmt.Sprintf("%d messages on %s", want, name), func() bool {
				msgs, err := cons.Fetch(100, false)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs {
					got = append(got, string(m.Data()))
					_ = m.Ack()
				}
				return len(got) >= want
			})
			sort.Strings(got)
			return got
		}
		fromSeq, err := st.CreateConsumer("from-seq", memphis.StartConsumeFromSequence(8), memphis.BatchSize(100),
			memphis.BatchMaxWaitTime(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		// Round robin put 1,3,5.. on partition 1 and 2,4,6.. on partition 2;
		// the start sequence applies to every partition.
		want := map[int]string{1: "10,8,9", 2: "15,16,17,18,19,20"}[partitions]
		if got := strings.Join(read(fromSeq, 3*partitions), ","); got != want {
			t.Errorf("%s from sequence 8: %s, want %s", name, got, want)
		}
		last, err := st.CreateConsumer("last", memphis.LastMessages(2), memphis.BatchSize(100),
			memphis.BatchMaxWaitTime(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		want = map[int]string{1: "10,9", 2: "17,18,19,20"}[partitions]
		if got := strings.Join(read(last, 2*partitions), ","); got != want {
			t.Errorf("%s last 2: %s, want %s", name, got, want)
		}
	}
}

// A message that fails the station's schema is refused, reported, and
// lands in the DLS station with type failed_schema.
func TestSchemaFailureReachesDLSStation(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	path := filepath.Join(t.TempDir(), "order.json")
	schema := `{"type":"object","properties":{"amount":{"type":"number"}},"required":["amount"]}`
	if err := os.WriteFile(path, []byte(schema), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := conn.CreateSchema("order-schema", "json", path); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.CreateStation("orders", memphis.DlsStation("orders-dls")); err != nil {
		t.Fatal(err)
	}
	if err := conn.EnforceSchema("order-schema", "orders"); err != nil {
		t.Fatal(err)
	}
	p, err := conn.CreateProducer("orders", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Produce([]byte(`{"amount":"not a number"}`), memphis.SyncProduce()); err == nil ||
		!strings.Contains(err.Error(), "Schema validation has failed") {
		t.Fatalf("invalid message: %v", err)
	}
	if err := p.Produce([]byte(`{"amount":5}`), memphis.SyncProduce()); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	dls, err := conn.CreateConsumer("orders-dls", "dls-reader", memphis.BatchMaxWaitTime(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var fwd *memphis.Msg
	devbrokertest.WaitFor(t, "the schema failure in orders-dls", func() bool {
		msgs, err := dls.Fetch(1, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 {
			fwd = msgs[0]
		}
		return fwd != nil
	})
	if h := fwd.GetHeaders(); string(fwd.Data()) != `{"amount":"not a number"}` || h["station"] != "orders" || h["type"] != "failed_schema" {
		t.Fatalf("forwarded %q %v", fwd.Data(), h)
	}
}
