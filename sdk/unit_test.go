package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The vectors of §6.1 of the protocol reference (murmur3 x86_32, seed 31).
func TestPartitionKeyVectors(t *testing.T) {
	vectors := []struct {
		key  string
		hash uint32
		mod  [4]int // mod 2, 3, 4, 5
	}{
		{"", 1257683291, [4]int{1, 2, 3, 1}},
		{"a", 3387765255, [4]int{1, 0, 3, 0}},
		{"key", 2580712894, [4]int{0, 1, 2, 4}},
		{"user-1", 3441879530, [4]int{0, 2, 2, 0}},
		{"customer-42", 676913844, [4]int{0, 0, 0, 4}},
		{"memphis", 3526923456, [4]int{0, 0, 0, 1}},
	}
	for _, v := range vectors {
		for i, want := range v.mod {
			n := i + 2
			if got := partitionIndexForKey(v.key, n); got != want {
				t.Errorf("key %q mod %d: index %d, want %d", v.key, n, got, want)
			}
		}
	}
	// The index selects a list element: user-1 over [1,2,3] is partition 3.
	ps := &partitionSet{station: "s", list: []int{1, 2, 3}}
	if p, err := ps.pick("t", "user-1", 0); err != nil || p != 3 {
		t.Fatalf("user-1 over [1 2 3]: partition %d, %v; want 3", p, err)
	}
}

func TestPartitionPick(t *testing.T) {
	ps := &partitionSet{station: "orders", list: []int{1, 2, 3}}
	var seen []int
	for range 6 {
		p, err := ps.pick("t", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, p)
	}
	if want := []int{1, 2, 3, 1, 2, 3}; !equalInts(seen, want) {
		t.Fatalf("round robin %v, want %v", seen, want)
	}
	if p, err := ps.pick("t", "", 2); err != nil || p != 2 {
		t.Fatalf("number 2: %d %v", p, err)
	}
	cases := []struct {
		key  string
		num  int
		text string
	}{
		{"k", 1, "Can not use both partition number and partition key"},
		{"", 4, "Partition number is out of range"},
		{"", -1, "Partition number is out of range"},
	}
	for _, c := range cases {
		_, err := ps.pick("t", c.key, c.num)
		if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), c.text) {
			t.Errorf("pick(%q,%d) = %v, want %q", c.key, c.num, err, c.text)
		}
	}
	gap := &partitionSet{station: "orders", list: []int{1, 3}}
	if _, err := gap.pick("t", "", 2); err == nil || !strings.Contains(err.Error(), "Partition 2 does not exist in station orders") {
		t.Fatalf("missing partition: %v", err)
	}
	single := &partitionSet{list: []int{1}}
	if p, err := single.pick("t", "any", 0); err != nil || p != 1 {
		t.Fatalf("single partition ignores key: %d %v", p, err)
	}
	legacy := &partitionSet{}
	if p, err := legacy.pick("t", "", 0); err != nil || p != 0 {
		t.Fatalf("legacy: %d %v", p, err)
	}
	// A number outside the station's partitions is refused whatever the
	// station's shape (memphis-py's text), never silently rerouted.
	for _, c := range []struct {
		set  *partitionSet
		num  int
		want string
	}{
		{single, 5, "Partition number is out of range"},
		{single, 2, "Partition number is out of range"},
		{legacy, 2, "Partition number is out of range"},
		{legacy, -1, "Partition number is out of range"},
	} {
		if _, err := c.set.pick("t", "", c.num); CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pick(%v, %d) = %v, want %q", c.set.list, c.num, err, c.want)
		}
	}
	if _, err := legacy.pick("t", "k", 1); err == nil || !strings.Contains(err.Error(), "both partition number and partition key") {
		t.Fatalf("legacy key and number: %v", err)
	}
	if p, err := single.pick("t", "", 1); err != nil || p != 1 {
		t.Fatalf("single, number 1: %d %v", p, err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNames(t *testing.T) {
	if got := internalName("Orders.EU"); got != "orders#eu" {
		t.Fatalf("internal name %q", got)
	}
	if got := produceSubject("orders#eu", 2); got != "orders#eu$2.final" {
		t.Fatalf("subject %q", got)
	}
	if got := produceSubject("orders#eu", 0); got != "orders#eu.final" {
		t.Fatalf("legacy subject %q", got)
	}
	if got := dlsSubject("orders#eu", "billing#v2"); got != "$memphis_dls_orders#eu.billing#v2" {
		t.Fatalf("dls subject %q", got)
	}
	bad := map[string]string{
		"":                       "Station name can not be empty",
		strings.Repeat("a", 129): "Station should be under 128 characters",
		"orders eu":              "Only alphanumeric and the '_', '-', '.' characters are allowed in Station",
		"orders#eu":              "Only alphanumeric",
		"-orders":                "Station name can not start or end with non alphanumeric character",
		"orders.":                "can not start or end",
	}
	for name, want := range bad {
		err := validateName("t", "Station", name)
		if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("validateName(%q) = %v, want %q", name, err, want)
		}
	}
	for _, ok := range []string{"Orders.EU", "a", "x_1-2.3", strings.Repeat("b", 128)} {
		if err := validateName("t", "Station", ok); err != nil {
			t.Errorf("validateName(%q) = %v", ok, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	c := DefaultConnectOptions()
	if c.Port != 6666 || c.MaxReconnect != 10 || c.Timeout != 1500*time.Millisecond ||
		c.ReconnectInterval != 1500*time.Millisecond || !c.Reconnect || c.AccountID != 1 {
		t.Errorf("connect defaults %+v", c)
	}
	s := DefaultStationOptions("s")
	if s.RetentionType != RetentionMessageAge || s.RetentionValue != 604800 || s.StorageType != StorageFile ||
		s.Replicas != 1 || s.IdempotencyWindow != 2*time.Minute || !s.SendPoisonMsgToDls ||
		!s.SendSchemaFailedMsgToDls || s.PartitionsNumber != 1 || s.TieredStorageEnabled {
		t.Errorf("station defaults %+v", s)
	}
	co := DefaultConsumerOptions("s", "c")
	if co.PullInterval != time.Second || co.BatchSize != 10 || co.BatchMaxWait != 5*time.Second ||
		co.MaxAckTime != 30*time.Second || co.MaxMsgDeliveries != 10 || co.StartConsumeFromSequence != 1 ||
		co.LastMessages != -1 || co.StationName != "s" || co.Name != "c" {
		t.Errorf("consumer defaults %+v", co)
	}
	p := DefaultProducerOptions("s", "p")
	// Both constructors take (station, name).
	if p.AckWait != 15*time.Second || p.MaxInFlight != DefaultMaxInFlight ||
		len(p.StationNames) != 1 || p.StationNames[0] != "s" || p.Name != "p" {
		t.Errorf("producer defaults %+v", p)
	}
}

func TestConnectOptionValidation(t *testing.T) {
	ctx := context.Background()
	base := DefaultConnectOptions()
	base.Host, base.Username = "localhost", "root"
	cases := []struct {
		mod  func(*ConnectOptions)
		want string
	}{
		{func(o *ConnectOptions) {}, "You have to connect with one of the following methods: connection token / password"},
		{func(o *ConnectOptions) { o.Password, o.ConnectionToken = "a", "b" }, "one of the following methods"},
		{func(o *ConnectOptions) { o.Password, o.Host = "a", "" }, "host is required"},
		{func(o *ConnectOptions) { o.Password, o.Username = "a", "" }, "username is required"},
		{func(o *ConnectOptions) { o.Password, o.Port = "a", 70000 }, "port"},
		{func(o *ConnectOptions) { o.Password, o.TLSKeyFile = "a", "k" }, "Must provide a TLS cert file"},
		{func(o *ConnectOptions) { o.Password, o.TLSCertFile = "a", "c" }, "Must provide a TLS key file"},
		{func(o *ConnectOptions) { o.Password, o.TLSCertFile, o.TLSKeyFile = "a", "c", "k" }, "Must provide a TLS ca file"},
	}
	for i, c := range cases {
		o := base
		c.mod(&o)
		_, err := Connect(ctx, o)
		if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: %v, want %q", i, err, c.want)
		}
	}
}

func TestConsumerOptionValidation(t *testing.T) {
	cases := []struct {
		mod  func(*ConsumerOptions)
		want string
	}{
		{func(o *ConsumerOptions) { o.BatchSize = 0 }, "Batch size can not be greater than 5000 or less than 1"},
		{func(o *ConsumerOptions) { o.BatchSize = 5001 }, "Batch size can not be greater than 5000 or less than 1"},
		{func(o *ConsumerOptions) { o.StartConsumeFromSequence = 0 }, "startConsumeFromSequence has to be a positive number"},
		{func(o *ConsumerOptions) { o.LastMessages = -2 }, "min value for LastMessages is -1"},
		{func(o *ConsumerOptions) { o.StartConsumeFromSequence, o.LastMessages = 5, 3 }, "can't contain both"},
		{func(o *ConsumerOptions) { o.Name = "" }, "Consumer name can not be empty"},
		{func(o *ConsumerOptions) { o.Group = "bad group" }, "Only alphanumeric"},
		{func(o *ConsumerOptions) { o.StationName = "" }, "Station name can not be empty"},
	}
	for i, c := range cases {
		o := DefaultConsumerOptions("s", "c")
		c.mod(&o)
		err := o.validate("create consumer")
		if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: %v, want %q", i, err, c.want)
		}
	}
	o := DefaultConsumerOptions("s", "c")
	if err := o.validate("x"); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
}

func TestHeaders(t *testing.T) {
	h := Headers{}
	if err := h.Add("$memphis_x", "v"); CodeOf(err) != CodeHeader ||
		!strings.Contains(err.Error(), "Keys in headers should not start with $memphis") {
		t.Fatalf("reserved key: %v", err)
	}
	if err := h.Add("trace", "1"); err != nil || h["trace"] != "1" {
		t.Fatalf("add: %v %v", err, h)
	}
	// What a "key: value" header line cannot carry is refused at Add,
	// and again at produce for maps filled without Add.
	for _, c := range []struct{ k, v, want string }{
		{"a b", "v", "keys are printable ASCII without spaces or ':'"},
		{"a:b", "v", "keys are printable ASCII without spaces or ':'"},
		{"a\tb", "v", "keys are printable ASCII"},
		{"clé", "v", "keys are printable ASCII"},
		{"", "v", "header key can not be empty"},
		{"k", "a\r\nInjected: 1", "contains a line break or NUL"},
		{"k", "a\x00b", "contains a line break or NUL"},
	} {
		if err := h.Add(c.k, c.v); CodeOf(err) != CodeHeader || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Add(%q, %q) = %v, want %q", c.k, c.v, err, c.want)
		}
		o := ProduceOptions{Headers: Headers{c.k: c.v}}
		if err := o.validate(); CodeOf(err) != CodeHeader {
			t.Errorf("validate with header %q: %v", c.k, err)
		}
	}
	if err := h.Add("tab-ok", "a\tb é"); err != nil {
		t.Fatalf("tab and UTF-8 in a value: %v", err)
	}
	if err := (&ProduceOptions{MsgID: "id\r\nx: y"}).validate(); CodeOf(err) != CodeHeader {
		t.Fatalf("msg id with a line break: %v", err)
	}
	if err := (&ProduceOptions{AckWait: -1}).validate(); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("negative ack wait: %v", err)
	}
}

func TestOptionRanges(t *testing.T) {
	co := DefaultConsumerOptions("s", "c")
	for _, n := range []int{0, 11, -1} {
		co.MaxMsgDeliveries = n
		if err := co.validate("x"); err == nil || !strings.Contains(err.Error(), "max_msg_deliveries must be between 1 and 10") {
			t.Errorf("MaxMsgDeliveries %d: %v", n, err)
		}
	}
	so := DefaultStationOptions("s")
	so.RetentionValue = -1
	if err := so.validate("x"); err == nil || !strings.Contains(err.Error(), "retention value must not be negative") {
		t.Errorf("negative retention: %v", err)
	}
	so = DefaultStationOptions("s")
	so.IdempotencyWindow = -time.Millisecond
	if err := so.validate("x"); err == nil || !strings.Contains(err.Error(), "idempotency window must not be negative") {
		t.Errorf("negative idempotency window: %v", err)
	}
	cn := DefaultConnectOptions()
	cn.Host, cn.Username, cn.Password = "h", "u", "p"
	for _, f := range []func(*ConnectOptions){
		func(o *ConnectOptions) { o.AccountID = -1 },
		func(o *ConnectOptions) { o.MaxReconnect = -2 },
		func(o *ConnectOptions) { o.Port = 0 },
	} {
		o := cn
		f(&o)
		if err := o.validate(); CodeOf(err) != CodeInvalidArgument {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestErrors(t *testing.T) {
	err := wrapErr("consume", &Error{Code: CodeNoMessages, Msg: "no messages"})
	if !errors.Is(err, ErrNoMessages) || errors.Is(err, ErrTimeout) {
		t.Fatalf("errors.Is on wrapped sentinel: %v", err)
	}
	if CodeOf(nil) != CodeOK || CodeOf(err) != CodeNoMessages || CodeOf(errors.New("x")) != CodeInternal {
		t.Fatal("CodeOf")
	}
	b := brokerErr("create station", "Station  does not exist")
	if b.Code != CodeNotFound || !strings.Contains(b.Error(), "Station  does not exist") {
		t.Fatalf("broker text kept: %v", b)
	}
	if CodeQueueFull.String() != "queue full" || Code(99).String() != "code(99)" {
		t.Fatal("Code.String")
	}
	if got := (&Error{Code: CodeTimeout}).Error(); got != "memphis: timeout" {
		t.Fatalf("bare error text %q", got)
	}
}

func TestQuickPubAck(t *testing.T) {
	cases := []struct {
		in      string
		seq     uint64
		dup, ok bool
	}{
		{`{"stream":"s$1","seq":42}`, 42, false, true},
		{`{"stream":"s$1","seq":7,"duplicate":true}`, 7, true, true},
		{`{"stream":"s$1","seq":7,"duplicate": true}`, 7, true, true},
		{`{"stream":"s$1","seq":7,"duplicate":false}`, 7, false, true},
		{`{"stream":"s$1","domain":"d","seq":18446744073709551615}`, 0, false, false}, // 20 digits: full decoder
		{`{"error":{"code":503,"description":"x"},"stream":"","seq":0}`, 0, false, false},
		{`{"stream":"s$1"}`, 0, false, false},
		{`garbage`, 0, false, false},
	}
	for _, c := range cases {
		seq, dup, ok := quickPubAck([]byte(c.in))
		if seq != c.seq || dup != c.dup || ok != c.ok {
			t.Errorf("%s: %d %v %v", c.in, seq, dup, ok)
		}
	}
}

// Methods on nil handles return an error instead of crashing.
func TestNilHandles(t *testing.T) {
	ctx := context.Background()
	var p *Producer
	var c *Consumer
	var m *Message
	var conn *Conn
	checks := map[string]error{
		"produce":       p.Produce(ctx, nil, ProduceOptions{}),
		"produce async": p.ProduceAsync(ctx, nil, ProduceOptions{}, nil),
		"produce batch": p.ProduceBatch(ctx, nil, nil),
		"flush":         p.Flush(ctx),
		"destroy p":     p.Destroy(ctx),
		"consume":       c.Consume(func([]*Message, error, any) {}, PartitionSelector{}),
		"stop":          c.StopConsume(),
		"destroy c":     c.Destroy(ctx),
		"nack":          m.Nack(),
		"delay":         m.Delay(time.Second),
		"dead letter":   m.DeadLetter("x"),
		"ack":           m.Ack(ctx),
		"create":        func() error { _, err := conn.CreateStation(ctx, DefaultStationOptions("s")); return err }(),
		"one-shot":      conn.Produce(ctx, "s", "p", nil, ProduceOptions{}),
		"one-shot get": func() error {
			_, err := conn.FetchMessages(ctx, DefaultConsumerOptions("s", "c"), PartitionSelector{})
			return err
		}(),
		"producer": func() error { _, err := conn.CreateProducer(ctx, DefaultProducerOptions("s", "p")); return err }(),
		"consumer": func() error { _, err := conn.CreateConsumer(ctx, DefaultConsumerOptions("s", "c")); return err }(),
	}
	// Accessors of a nil message give zero values instead of crashing.
	if m.Data() != nil || len(m.Headers()) != 0 || m.Header("k") != "" || m.SequenceNumber() != 0 ||
		m.DeliveryCount() != 0 || !m.TimeSent().IsZero() || m.Partition() != 0 || m.IsDLS() {
		t.Error("nil message accessors returned non-zero values")
	}
	if _, err := m.DataDeserialized(); CodeOf(err) != CodeInvalidArgument {
		t.Errorf("DataDeserialized on nil: %v", err)
	}
	_, fetchErr := c.Fetch(ctx, 1, PartitionSelector{})
	checks["fetch"] = fetchErr
	for name, err := range checks {
		if CodeOf(err) != CodeInvalidArgument {
			t.Errorf("%s on nil: %v", name, err)
		}
	}
	if conn.Close() != nil || conn.IsConnected() {
		t.Error("nil Conn Close/IsConnected")
	}
}

// Wherever the fast PubAck reader answers, it must agree with
// encoding/json on well-formed acks.
func FuzzQuickPubAck(f *testing.F) {
	for _, s := range []string{
		`{"stream":"s$1","seq":42}`,
		`{"stream":"s$1","seq":7,"duplicate": true}`,
		`{"stream":"s$1","domain":"x","seq":9,"duplicate":false}`,
		`{"error":{"code":503}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, dup, ok := quickPubAck(b)
		if !ok {
			return
		}
		var a pubAck
		if json.Unmarshal(b, &a) != nil || a.Error != nil ||
			strings.Count(string(b), `"seq"`) != 1 || strings.Count(string(b), `"duplicate"`) > 1 {
			// Not a well-formed ack (the server never repeats keys nor puts
			// them in stream names); the fast path only sees real ones.
			return
		}
		if a.Seq != seq || a.Duplicate != dup {
			t.Fatalf("%s: fast %d/%v, json %d/%v", b, seq, dup, a.Seq, a.Duplicate)
		}
	})
}
