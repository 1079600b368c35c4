package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// orderSchema accepts {"id": <string>} objects; the tests' failures on
// purpose are messages it refuses.
const orderSchema = `{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`

func goodOrder(i int) []byte { return []byte(fmt.Sprintf(`{"id":"order-%d"}`, i)) }

var badOrder = []byte(`{"no":"id"}`)

// Known work, counted exactly: 1000 messages produced by sync, nonblocking
// and batch calls, 10 of them refused on purpose (schema validation), the
// 990 others acknowledged, then fetched and acknowledged by a consumer.
func TestStatsCountKnownWork(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "counted")
	if err := c.CreateSchema(ctx, "order", SchemaTypeJSON, []byte(orderSchema)); err != nil {
		t.Fatal(err)
	}
	if err := c.EnforceSchema(ctx, "order", "counted"); err != nil {
		t.Fatal(err)
	}
	p := createProducer(t, c, "counted", "prod")
	const n, bad = 1000, 10
	isBad := func(i int) bool { return i%(n/bad) == 7 } // 10 of 1000, spread over the three kinds
	var bytes uint64
	var asyncFailed atomic.Int64
	var batch []BatchMessage
	for i := range n {
		data := goodOrder(i)
		if isBad(i) {
			data = badOrder
		}
		bytes += uint64(len(data))
		var err error
		switch i % 3 {
		case 0:
			err = p.Produce(ctx, data, ProduceOptions{})
		case 1:
			err = p.ProduceAsync(ctx, data, ProduceOptions{}, func(d Delivery) {
				if d.Err != nil {
					asyncFailed.Add(1)
				}
			})
		default:
			batch = append(batch, BatchMessage{Data: data})
		}
		if (err != nil) != (isBad(i) && i%3 != 2) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	var batchFailed atomic.Int64
	if err := p.ProduceBatch(ctx, batch, func(_ int, d Delivery) {
		if d.Err != nil {
			batchFailed.Add(1)
		}
	}); CodeOf(err) != CodeSchemaValidation {
		t.Fatalf("batch: %v, want its refused messages' schema validation error", err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if asyncFailed.Load() != 0 {
		t.Fatalf("%d accepted nonblocking produces failed", asyncFailed.Load())
	}

	ps := p.Stats()
	want := ProducerStats{
		Name: "prod", Stations: []string{"counted"},
		Produced: n, ProducedBytes: bytes, Acked: n - bad, Failed: bad,
		FailedByCause: map[string]uint64{"schema_validation": bad},
	}
	got := ps
	got.AckLatencyUs = Latency{}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("producer stats\n got %+v\nwant %+v", got, want)
	}
	checkLatency(t, "ack latency", ps.AckLatencyUs, n-bad)

	cons := createConsumer(t, c, "counted", "reader", func(o *ConsumerOptions) { o.BatchSize = 100 })
	fetchUntil(t, cons, n-bad, PartitionSelector{})
	cs := cons.Stats()
	if cs.Fetched != n-bad || cs.Delivered != n-bad || cs.Acked != n-bad || cs.AckFailures != 0 ||
		cs.Redelivered != 0 || cs.Nacked != 0 || cs.DLSMessages != 0 || cs.Name != "reader" || cs.Group != "reader" ||
		cs.Station != "counted" {
		t.Fatalf("consumer stats %+v", cs)
	}
	if cs.Pulls == 0 || cs.Pulls != cs.EmptyPulls+pullsWithMessages(cs) || cs.PullFailures != 0 {
		t.Fatalf("pulls: %d, empty %d, failed %d, with messages %d", cs.Pulls, cs.EmptyPulls, cs.PullFailures, cs.PullLatencyUs.Count)
	}

	s := c.Stats()
	if s.Version != StatsVersion || s.ConnectionID != c.ConnectionID() || !s.Connected || s.Closed ||
		s.Server != b.Addr() || s.Reconnects != 0 || s.Disconnects != 0 || s.DisconnectedMs != 0 {
		t.Fatalf("connection stats %+v", s)
	}
	// create station, create schema, enforce, create producer, create consumer
	if s.ControlRequests != 5 || s.ControlFailures != 0 {
		t.Fatalf("control requests %d, failures %d; want 5, 0", s.ControlRequests, s.ControlFailures)
	}
	if s.MsgsOut < n || s.MsgsIn < n || s.BytesOut < bytes || s.BytesIn < bytes {
		t.Fatalf("wire counters %d/%d msgs, %d/%d bytes out/in for %d messages of %d bytes", s.MsgsOut, s.MsgsIn, s.BytesOut, s.BytesIn, n, bytes)
	}
	if len(s.Producers) != 1 || len(s.Consumers) != 1 || s.Producers[0].Produced != n || s.Consumers[0].Acked != n-bad {
		t.Fatalf("connection's producers %+v, consumers %+v", s.Producers, s.Consumers)
	}
}

func pullsWithMessages(cs ConsumerStats) uint64 { return cs.PullLatencyUs.Count }

// checkLatency checks a latency summary of count recorded durations.
func checkLatency(t *testing.T, what string, l Latency, count uint64) {
	t.Helper()
	if l.Count != count || l.Max == 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max || l.Mean > l.Max {
		t.Fatalf("%s %+v, want %d recorded, ordered percentiles", what, l, count)
	}
}

// Results that arrive after the produce call are counted by cause too;
// a refused call counts as produced and failed at once.
func TestStatsFailureCauses(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "gone")
	p := createProducer(t, c, "gone", "prod", func(o *ProducerOptions) { o.MaxInFlight = 1 })
	if err := (&Station{conn: c, Name: "gone"}).Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan Delivery, 1)
	if err := p.ProduceAsync(ctx, []byte("x"), ProduceOptions{AckWait: 2 * time.Second}, func(d Delivery) { got <- d }); err != nil {
		t.Fatal(err)
	}
	// The window (1 message) is full: a produce that may not wait fails.
	full, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.ProduceAsync(full, []byte("y"), ProduceOptions{}, nil); CodeOf(err) != CodeTimeout {
		t.Fatalf("produce into a full window: %v", err)
	}
	d := recv(t, got, "the delivery to a destroyed station")
	if d.Err == nil {
		t.Fatal("produce to a destroyed station succeeded")
	}
	_ = p.Flush(ctx)
	if err := p.Produce(ctx, []byte("z"), ProduceOptions{Headers: Headers{"bad key": "v"}}); CodeOf(err) != CodeHeader {
		t.Fatalf("bad header: %v", err)
	}
	s := p.Stats()
	want := map[string]uint64{causeNames[CodeOf(d.Err)]: 1, "timeout": 1, "header": 1}
	if CodeOf(d.Err) == CodeTimeout {
		want["timeout"] = 2
	}
	if s.Produced != 3 || s.Acked != 0 || s.Failed != 3 || s.InFlight != 0 || fmt.Sprint(s.FailedByCause) != fmt.Sprint(want) {
		t.Fatalf("stats %+v, want 3 produced, 3 failed by %v", s, want)
	}
	if s.AckLatencyUs.Count != 0 {
		t.Fatalf("failed messages recorded an ack latency: %+v", s.AckLatencyUs)
	}
}

// A message in flight counts as such, with its bytes in the window.
func TestStatsInFlight(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "slow")
	p := createProducer(t, c, "slow", "prod")
	released := make(chan struct{})
	inCallback := make(chan struct{})
	if err := p.ProduceAsync(ctx, []byte("held"), ProduceOptions{}, func(Delivery) {
		close(inCallback)
		<-released
	}); err != nil {
		t.Fatal(err)
	}
	<-inCallback
	// The result is counted before the callback runs; the window's room
	// is given back after it.
	s := p.Stats()
	if s.Produced != 1 || s.Acked != 1 || s.InFlight != 0 || s.InFlightBytes == 0 {
		t.Fatalf("during the callback: %+v", s)
	}
	close(released)
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.InFlightBytes != 0 {
		t.Fatalf("after flush: %d bytes in flight", s.InFlightBytes)
	}
}

// Nack, delay, dead letter, no-wait acks and redeliveries are counted.
func TestStatsConsumerActions(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "acts")
	p := createProducer(t, c, "acts", "prod")
	for i := range 4 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cons := createConsumer(t, c, "acts", "reader", func(o *ConsumerOptions) { o.BatchSize = 4 })
	msgs, err := cons.Fetch(ctx, 4, PartitionSelector{})
	if err != nil || len(msgs) != 4 {
		t.Fatalf("fetch: %d messages, %v", len(msgs), err)
	}
	if err := msgs[0].Nack(); err != nil {
		t.Fatal(err)
	}
	if err := msgs[1].Delay(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := msgs[2].DeadLetter("on purpose"); err != nil {
		t.Fatal(err)
	}
	if err := msgs[3].AckNoWait(); err != nil {
		t.Fatal(err)
	}
	again := fetchUntil(t, cons, 1, PartitionSelector{}) // the nacked one, redelivered and acked
	if string(again[0].Data()) != string(payload(0)) {
		t.Fatalf("redelivered %q", again[0].Data())
	}
	s := cons.Stats()
	if s.Fetched != 5 || s.Delivered != 5 || s.Redelivered != 1 || s.Nacked != 1 || s.Delayed != 1 ||
		s.DeadLettered != 1 || s.Acked != 2 || s.AckFailures != 0 {
		t.Fatalf("consumer stats %+v", s)
	}
}

// The consume loop counts what it hands the handler, and how long the
// handler takes.
func TestStatsConsumeLoop(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "loop")
	p := createProducer(t, c, "loop", "prod")
	const n = 50
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons := createConsumer(t, c, "loop", "reader", func(o *ConsumerOptions) { o.BatchSize = 7 })
	col := newCollector()
	var batches atomic.Uint64
	h := col.handler(true)
	if err := cons.Consume(func(msgs []*Message, err error, uc any) {
		if len(msgs) > 0 {
			batches.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
		h(msgs, err, uc)
	}, PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "every message consumed", func() bool { return col.count() >= n })
	if err := cons.StopConsume(); err != nil {
		t.Fatal(err)
	}
	s := cons.Stats()
	if s.Delivered != n || s.Fetched != n || s.Acked != n {
		t.Fatalf("consumer stats %+v", s)
	}
	checkLatency(t, "handler time", s.HandlerUs, batches.Load())
	if s.HandlerUs.P50 < 1500 { // each call slept 2 ms (a bucket is within 3 %)
		t.Fatalf("handler time %+v, every call took at least 2 ms", s.HandlerUs)
	}
}

// Across a broker restart: the outage, the reconnect and the resends are
// counted; every message still counts once.
func TestStatsAcrossRestart(t *testing.T) {
	b := startBroker(t)
	logs := &logRecorder{}
	c := connect(t, b, fastReconnect, func(o *ConnectOptions) { o.Logger = logs.logger() })
	ctx := testCtx(t)
	createStation(t, c, "restart")
	p := createProducer(t, c, "restart", "prod", func(o *ProducerOptions) { o.Idempotent = true })
	const n = 20000
	var retries, flagged atomic.Uint64
	produceAcrossRestart(t, ctx, b, p, n, func(int) func(Delivery) {
		return func(d Delivery) {
			retries.Add(uint64(d.Retries))
			if d.PossibleDuplicate {
				flagged.Add(1)
			}
		}
	})
	devbrokertest.WaitFor(t, "the reconnect counted", func() bool { return c.Stats().Reconnects == 1 })
	s := c.Stats()
	ps := s.Producers[0]
	if s.Disconnects != 1 || !s.Connected || s.DisconnectedMs <= 0 || s.DisconnectedMs > s.AgeMs {
		t.Fatalf("connection stats %+v", s)
	}
	if ps.Produced != n || ps.Acked != n || ps.Failed != 0 || ps.InFlight != 0 ||
		ps.Retries != retries.Load() || ps.PossibleDuplicates != flagged.Load() {
		t.Fatalf("producer stats %+v; deliveries reported %d retries, %d possible duplicates", ps, retries.Load(), flagged.Load())
	}
	for _, msg := range []string{"disconnected from the broker", "reconnected"} {
		if logs.count(msg) != 1 {
			t.Fatalf("%d %q records; records: %v", logs.count(msg), msg, logs.messages())
		}
	}
	t.Logf("outage %d ms, %d retries: %+v", s.DisconnectedMs, ps.Retries, ps.AckLatencyUs)
}

// The statistics document is what docs/statistics.schema.json describes,
// field for field, and docs/statistics.md documents every field.
func TestStatsDocumentMatchesSchema(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	createStation(t, c, "doc")
	p := createProducer(t, c, "doc", "prod")
	if err := p.Produce(ctx, []byte("x"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = p.Produce(ctx, []byte("x"), ProduceOptions{Headers: Headers{"bad key": ""}}) // a failure cause
	cons := createConsumer(t, c, "doc", "reader")
	fetchUntil(t, cons, 1, PartitionSelector{})
	s := c.Stats()
	doc := s.JSON()

	comp := jsonschema.NewCompiler()
	f, err := os.Open("../docs/statistics.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.AddResource("statistics.schema.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("statistics.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the statistics document does not match docs/statistics.schema.json: %v\n%s", err, doc)
	}
	// Every key the document has is documented in docs/statistics.md.
	md, err := os.ReadFile("../docs/statistics.md")
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(doc, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range jsonKeys(generic, "") {
		if !strings.Contains(string(md), "`"+k+"`") {
			t.Errorf("docs/statistics.md does not document `%s`", k)
		}
	}
}

// jsonKeys lists the object keys of v (not those of free-form maps such
// as failed_by_cause's).
func jsonKeys(v any, parent string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if parent == "failed_by_cause" {
			return nil
		}
		for k, sub := range x {
			out = append(out, k)
			out = append(out, jsonKeys(sub, k)...)
		}
	case []any:
		for _, sub := range x {
			out = append(out, jsonKeys(sub, parent)...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// StatsHandler gets a snapshot every interval until Close, which may be
// called from inside it.
func TestStatsPeriodic(t *testing.T) {
	b := startBroker(t)
	got := make(chan ConnStats, 100)
	var conn atomic.Pointer[Conn]
	var calls atomic.Int32
	closed := make(chan error, 1)
	c := connect(t, b, func(o *ConnectOptions) {
		o.StatsInterval = 20 * time.Millisecond
		o.StatsHandler = func(s ConnStats) {
			if calls.Add(1) == 3 {
				devbrokertest.WaitFor(t, "Connect to return", func() bool { return conn.Load() != nil })
				closed <- conn.Load().Close() // from the handler: must not wait for itself
			}
			got <- s
		}
	})
	conn.Store(c)
	for range 3 {
		if s := recv(t, got, "a periodic snapshot"); s.ConnectionID != c.ConnectionID() {
			t.Fatalf("snapshot of %q", s.ConnectionID)
		}
	}
	if err := recv(t, closed, "Close from the handler"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d handler calls; none after Close", n)
	}
	if s := c.Stats(); !s.Closed || s.Connected {
		t.Fatalf("after close: %+v", s)
	}
	if _, err := Connect(testCtx(t), func() ConnectOptions {
		o := brokerOptions(t, b)
		o.StatsInterval = -time.Second
		return o
	}()); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("negative stats interval: %v", err)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	if l := h.snapshot(); l != (Latency{}) {
		t.Fatalf("empty histogram: %+v", l)
	}
	// 1..10000 µs uniformly: the percentiles are known.
	vals := rand.Perm(10000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() { // concurrent writers (the race detector checks them)
			defer wg.Done()
			for _, v := range vals[w*2500 : (w+1)*2500] {
				h.record(time.Duration(v+1) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	l := h.snapshot()
	if l.Count != 10000 || l.Max != 10000 || l.Mean != 5000 {
		t.Fatalf("%+v", l)
	}
	for _, c := range []struct{ got, want uint64 }{{l.P50, 5000}, {l.P90, 9000}, {l.P99, 9900}} {
		if d := float64(c.got) - float64(c.want); d > 0.032*float64(c.want) || -d > 0.032*float64(c.want) {
			t.Fatalf("percentile %d, want %d within 3.2 %%: %+v", c.got, c.want, l)
		}
	}
	// Every value falls in the bucket whose bounds say so.
	for _, v := range []uint64{0, 1, 15, 16, 17, 31, 32, 33, 1000, 1 << 20, 1<<35 + 12345} {
		low, width := histBounds(histIndex(v))
		if v < low || v >= low+width {
			t.Fatalf("value %d in bucket %d [%d, %d)", v, histIndex(v), low, low+width)
		}
	}
	if histIndex(1<<50) != histBuckets-1 {
		t.Fatal("huge values must land in the last bucket")
	}
	var one histogram
	one.record(-time.Second) // clock steps never make a negative duration
	one.record(3 * time.Microsecond)
	if l := one.snapshot(); l.Count != 2 || l.Max != 3 || l.P99 != 3 || l.P50 != 0 {
		t.Fatalf("%+v", l)
	}
}

func TestRedeliveryFromAckSubject(t *testing.T) {
	for subj, want := range map[string]bool{
		"$JS.ACK.s$1.grp.1.10.10.1700000000000000000.0":                 false,
		"$JS.ACK.s$1.grp.3.10.12.1700000000000000000.5":                 true,
		"$JS.ACK.dom.ACCHASH.s$1.grp.1.10.10.1700000000000000000.0.xyz": false,
		"$JS.ACK.dom.ACCHASH.s$1.grp.2.10.10.1700000000000000000.0.xyz": true,
		"": false, "$JS.ACK": false,
	} {
		if got := redelivery(subj); got != want {
			t.Errorf("redelivery(%q) = %v", subj, got)
		}
	}
}

// The library never prints: no file of sdk/ or capi/ writes to stdout or
// stderr (events go to the configured logger or log callback).
func TestNothingPrinted(t *testing.T) {
	for _, dir := range []string{".", "../capi"} {
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := f.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(dir + "/" + name)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"os.Stdout", "os.Stderr", "fmt.Print", "log.Print", "println(", "slog.Default"} {
				if strings.Contains(string(src), bad) {
					t.Errorf("%s/%s uses %s: the library must not print", dir, name, bad)
				}
			}
		}
	}
}

// logRecorder is a slog handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r *logRecorder) logger() *slog.Logger { return slog.New(&recordingHandler{r: r}) }

func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec.msg == msg {
			n++
		}
	}
	return n
}

func (r *logRecorder) find(msg string) (logRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		if rec.msg == msg {
			return rec, true
		}
	}
	return logRecord{}, false
}

func (r *logRecorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.records {
		out = append(out, rec.level.String()+" "+rec.msg)
	}
	return out
}

type recordingHandler struct {
	r     *logRecorder
	attrs []slog.Attr
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, rec slog.Record) error {
	lr := logRecord{level: rec.Level, msg: rec.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		lr.attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value.String()
		return true
	})
	h.r.mu.Lock()
	h.r.records = append(h.r.records, lr)
	h.r.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordingHandler{r: h.r, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

// The library's events reach the configured logger, at their levels, with
// the connection id; a flood of failures is one record a second.
func TestLogEvents(t *testing.T) {
	b := startBroker(t)
	logs := &logRecorder{}
	c := connect(t, b, func(o *ConnectOptions) { o.Logger = logs.logger() })
	ctx := testCtx(t)
	rec, ok := logs.find("connected")
	if !ok || rec.level != slog.LevelInfo || rec.attrs["connection_id"] != c.ConnectionID() || rec.attrs["server"] != b.Addr() {
		t.Fatalf("connect record %+v (%v); records %v", rec, ok, logs.messages())
	}

	// Failed nonblocking produces nobody is told about: one warning.
	createStation(t, c, "gone")
	p := createProducer(t, c, "gone", "prod")
	if err := (&Station{conn: c, Name: "gone"}).Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := p.ProduceAsync(ctx, []byte("x"), ProduceOptions{AckWait: 2 * time.Second}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err == nil {
		t.Fatal("produces to a destroyed station succeeded")
	}
	rec, ok = logs.find("nonblocking produce failed")
	if !ok || rec.level != slog.LevelWarn || rec.attrs["producer"] != "prod" || rec.attrs["station"] != "gone" || rec.attrs["error"] == "" {
		t.Fatalf("failure record %+v (%v); records %v", rec, ok, logs.messages())
	}
	if n := logs.count("nonblocking produce failed"); n != 1 {
		t.Fatalf("%d failure records for a burst of 5 within a second", n)
	}

	// A schema update of a station in use.
	createStation(t, c, "typed")
	createProducer(t, c, "typed", "prod")
	if err := c.CreateSchema(ctx, "order", SchemaTypeJSON, []byte(orderSchema)); err != nil {
		t.Fatal(err)
	}
	if err := c.EnforceSchema(ctx, "order", "typed"); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "the schema update record", func() bool { return logs.count("station schema updated") == 1 })
	rec, _ = logs.find("station schema updated")
	if rec.attrs["schema"] != "order" || rec.attrs["version"] != "1" || rec.attrs["station"] != "typed" {
		t.Fatalf("schema record %+v", rec)
	}
	if err := c.DetachSchema(ctx, "typed"); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "the schema removal record", func() bool { return logs.count("schema removed from station") == 1 })
	if s := c.Stats(); s.SchemaUpdates != 2 {
		t.Fatalf("%d schema updates counted, want 2", s.SchemaUpdates)
	}

	// A slow consumer, as nats.go reports it.
	c.onAsyncError(c.nc, nil, nats.ErrSlowConsumer)
	if rec, ok := logs.find("slow consumer: a subscription fell behind and messages were dropped"); !ok || rec.level != slog.LevelWarn {
		t.Fatalf("slow consumer record %+v (%v)", rec, ok)
	}
	if s := c.Stats(); s.SlowConsumers != 1 {
		t.Fatalf("%d slow consumers counted", s.SlowConsumers)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if logs.count("connection closed") != 1 || logs.count("disconnected from the broker") != 0 {
		t.Fatalf("Close logged %v", logs.messages())
	}
}

// A connection without a logger logs nowhere (and does not fail).
func TestNoLogger(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	if c.log != discardLogger {
		t.Fatal("a connection without a logger must use the discarding one")
	}
	c.onAsyncError(c.nc, nil, nats.ErrSlowConsumer)
}
