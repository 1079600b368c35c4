package faults

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/sdk"
	"github.com/nats-io/nats.go"
)

// msgSize is the payload size of every produced message, as in the
// measurements of issue 11.
const msgSize = 512

// payload is message i: its index in the first 10 bytes, then padding.
func payload(i int) []byte {
	b := make([]byte, msgSize)
	copy(b, fmt.Sprintf("%010d", i))
	for j := 10; j < msgSize; j++ {
		b[j] = byte('a' + j%26)
	}
	return b
}

func index(data []byte) (int, error) {
	if len(data) < 10 {
		return 0, fmt.Errorf("payload of %d bytes", len(data))
	}
	return strconv.Atoi(string(data[:10]))
}

func createStation(t testing.TB, c *sdk.Conn, name string) {
	t.Helper()
	if _, err := c.CreateStation(testCtx(t), sdk.DefaultStationOptions(name)); err != nil {
		t.Fatalf("create station: %v", err)
	}
}

func createProducer(t testing.TB, c *sdk.Conn, station string, idempotent bool) *sdk.Producer {
	t.Helper()
	o := sdk.DefaultProducerOptions(station, "faults")
	o.Idempotent = idempotent
	p, err := c.CreateProducer(testCtx(t), o)
	if err != nil {
		t.Fatalf("create producer: %v", err)
	}
	return p
}

// results records the delivery result of each of n produces.
type results struct {
	calls   []atomic.Int32
	ackAt   []atomic.Int64 // unix ns of the successful result
	acked   atomic.Int64
	failed  atomic.Int64
	retried atomic.Int64
	flagged atomic.Int64
	mu      sync.Mutex
	first   error
}

func newResults(n int) *results {
	return &results{calls: make([]atomic.Int32, n), ackAt: make([]atomic.Int64, n)}
}

func (r *results) record(i int, d sdk.Delivery) {
	r.calls[i].Add(1)
	if d.Retries > 0 {
		r.retried.Add(1)
	}
	if d.PossibleDuplicate {
		r.flagged.Add(1)
	}
	if d.Err != nil {
		r.failed.Add(1)
		r.mu.Lock()
		if r.first == nil {
			r.first = fmt.Errorf("message %d: %w", i, d.Err)
		}
		r.mu.Unlock()
		return
	}
	r.ackAt[i].Store(time.Now().UnixNano())
	r.acked.Add(1)
}

func (r *results) done(i int) func(sdk.Delivery) { return func(d sdk.Delivery) { r.record(i, d) } }

// check fails unless every produce got exactly one result and none failed.
func (r *results) check(t testing.TB) {
	t.Helper()
	for i := range r.calls {
		if n := r.calls[i].Load(); n != 1 {
			t.Fatalf("message %d got %d delivery results, want exactly one", i, n)
		}
	}
	if f := r.failed.Load(); f > 0 {
		t.Fatalf("%d of %d produces failed; first: %v", f, len(r.calls), r.first)
	}
	// Every scenario gives each message a msg id (its own or the
	// idempotent producer's): nothing may be flagged a possible duplicate.
	if f := r.flagged.Load(); f > 0 {
		t.Fatalf("%d deliveries flagged possible duplicates although every message had a msg id", f)
	}
}

// recovery measures, from the restart, how long until the first
// acknowledgement and until every message accepted before the kill was
// acknowledged.
func (r *results) recovery(restart time.Time, acceptedAtKill int) (resume, recovered time.Duration) {
	first, last := int64(0), int64(0)
	for i := range r.ackAt {
		at := r.ackAt[i].Load()
		if at >= restart.UnixNano() && (first == 0 || at < first) {
			first = at
		}
		if i < acceptedAtKill && at > last {
			last = at
		}
	}
	resume = time.Duration(first - restart.UnixNano())
	recovered = max(0, time.Duration(last-restart.UnixNano()))
	return resume, recovered
}

// storedMsg is one message as the station's stream holds it.
type storedMsg struct {
	seq   uint64
	index int
}

// stored reads a one-partition station's stream, in stream order.
func (b *broker) stored(t testing.TB, station string) []storedMsg {
	t.Helper()
	nc, err := nats.Connect("nats://"+b.host+":"+strconv.Itoa(b.port), nats.UserInfo("root", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var out []storedMsg
	for _, m := range devbrokertest.StreamMessages(testCtx(t), t, nc, station+"$1") {
		i, err := index(m.Data)
		if err != nil {
			t.Fatalf("stream seq %d: %v", m.Seq, err)
		}
		out = append(out, storedMsg{seq: m.Seq, index: i})
	}
	return out
}

// checkStored checks that stored holds messages 0..n-1 exactly once each.
// With ordered, each of the given producer orders (lists of message
// indexes, one per producing goroutine) is kept in the stream.
func checkStored(t testing.TB, stored []storedMsg, n int, orders ...func(i int) (order, pos int)) {
	t.Helper()
	seen := make([]bool, n)
	lastPos := map[int]int{}
	for _, m := range stored {
		if m.index < 0 || m.index >= n {
			t.Fatalf("stream seq %d holds unknown message %d", m.seq, m.index)
		}
		if seen[m.index] {
			t.Fatalf("message %d stored twice (again at stream seq %d)", m.index, m.seq)
		}
		seen[m.index] = true
		for _, of := range orders {
			o, pos := of(m.index)
			if last, ok := lastPos[o]; ok && pos < last {
				t.Fatalf("message %d (position %d of producer %d) stored after position %d: production order broken", m.index, pos, o, last)
			}
			lastPos[o] = pos
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("message %d was never stored (%d stored)", i, len(stored))
		}
	}
}

// oneOrder is the order of a single producing goroutine.
func oneOrder(i int) (int, int) { return 0, i }
