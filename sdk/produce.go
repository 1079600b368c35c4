package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// ProduceOptions are per-message settings.
type ProduceOptions struct {
	Headers         Headers
	MsgID           string        // idempotency key, de-duplicated within the station's window
	PartitionKey    string        // murmur3 routing key (§6.1)
	PartitionNumber int           // explicit partition, 1-based; 0 = not set
	AckWait         time.Duration // 0 = producer default (15 s)
	// Awaited marks a nonblocking produce whose caller waits for the
	// result itself, as the caller of a synchronous produce does (an event
	// loop that must not block produces this way): the failure is the
	// caller's, handed to the callback only, and Flush does not count it.
	Awaited bool
}

// Delivery is the outcome of one produce to one station. "Delivered"
// (Err == nil) means the broker acknowledged that it stored the message.
type Delivery struct {
	Station   string
	Partition int
	Sequence  uint64 // stream sequence assigned by the broker
	Duplicate bool   // the msg-id was already stored; nothing new was stored
	// Retries counts how often the message was sent again after its first
	// send: after a reconnect (it may have been lost with the connection)
	// or after an overload answer (429, no responders).
	Retries int
	// PossibleDuplicate is set when the message was sent more than once
	// without a msg id (neither ProduceOptions.MsgID nor an idempotent
	// producer): the broker may have stored it twice.
	PossibleDuplicate bool
	Err               error
}

// BatchMessage is one element of ProduceBatch.
type BatchMessage struct {
	Data    []byte
	Options ProduceOptions
}

const opProduce = "produce"

// msgPool recycles outgoing messages and their header maps: a message is
// built from its produce's entry right before each publish and given back
// right after (nats.go encodes it during the publish), so one hot message
// serves a whole stream of produces.
var msgPool = sync.Pool{New: func() any { return &nats.Msg{Header: make(nats.Header, 8)} }}

func putMsg(m *nats.Msg) {
	clear(m.Header)
	m.Subject, m.Reply, m.Data = "", "", nil
	msgPool.Put(m)
}

// fixedHeaderBytes estimates the wire size of the headers every message
// carries besides the user's, for the byte window.
const fixedHeaderBytes = 64

// prepare validates one message for one station and records in e what
// goes on the wire: a private copy of the payload (kept for resends), the
// user headers and msg id, the subject, size and deadline (start plus the
// ack wait).
func (p *Producer) prepare(ctx context.Context, start time.Time, sp *stationProducer, data []byte, o *ProduceOptions, e *pubEntry) error {
	if p.destroyed.Load() {
		return &Error{Code: CodeClosed, Op: opProduce, Msg: "producer is destroyed"}
	}
	if err := o.validate(); err != nil {
		return err
	}
	partition, err := sp.parts.pick(opProduce, o.PartitionKey, o.PartitionNumber)
	if err != nil {
		return err
	}
	size := int64(fixedHeaderBytes + len(p.name) + len(p.conn.connID))
	var hdr nats.Header
	if len(o.Headers) > 0 {
		hdr = make(nats.Header, len(o.Headers))
		for k, v := range o.Headers {
			hdr[k] = []string{v}
			size += int64(len(k) + len(v) + 4)
		}
	}
	msgID := o.MsgID
	if msgID == "" && p.ids.on() {
		msgID = p.ids.id()
	}
	if msgID != "" {
		size += int64(2*len(msgID) + 24)
	}
	e.p, e.sp, e.partition, e.headers, e.msgID, e.awaited = p, sp, partition, hdr, msgID, o.Awaited
	out, err := p.conn.validateMessage(ctx, p, sp.internal, data, e.allHeaders)
	if err != nil {
		return err
	}
	// A private copy: the caller may reuse data as soon as the call returns.
	e.data = append(e.data[:0], out...)
	e.size = size + int64(len(out))
	e.start = start
	e.deadline = start.Add(p.ackWait(o)).UnixNano()
	return nil
}

// message builds the wire form of e from a pooled message; the caller
// publishes it and gives it back with putMsg.
func (e *pubEntry) message() *nats.Msg {
	m := msgPool.Get().(*nats.Msg)
	h := m.Header
	for k, v := range e.headers {
		h[k] = v
	}
	h["$memphis_producedBy"] = e.p.producedBy
	h["$memphis_connectionId"] = e.p.connID
	if e.msgID != "" {
		// The real broker de-duplicates on msg-id (its JetStream fork
		// renamed the header); vanilla JetStream on Nats-Msg-Id (§6.5).
		ids := []string{e.msgID}
		h["msg-id"] = ids
		h[nats.MsgIdHdr] = ids
	}
	m.Subject, m.Reply, m.Data = e.sp.subjects[e.partition], e.reply, e.data
	return m
}

// allHeaders is the full header set of e (for a schema failure report).
func (e *pubEntry) allHeaders() nats.Header {
	m := e.message()
	h := make(nats.Header, len(m.Header))
	for k, v := range m.Header {
		h[k] = v
	}
	putMsg(m)
	return h
}

func (p *Producer) ackWait(o *ProduceOptions) time.Duration {
	if o.AckWait > 0 {
		return o.AckWait
	}
	return p.opts.AckWait
}

// Produce publishes msg to every station of the producer and waits for the
// broker's acknowledgement, bounded by the ack wait (counted from the
// call) and ctx. Across a reconnect or an overload answer it resends the
// message within that time, as ProduceAsync does.
func (p *Producer) Produce(ctx context.Context, msg []byte, o ProduceOptions) error {
	if p == nil {
		return newErr(CodeInvalidArgument, opProduce, "nil producer")
	}
	start := time.Now()
	if len(p.stations) == 1 {
		_, err := p.produceSync(ctx, start, p.stations[0], msg, &o)
		return err
	}
	var errs []error
	for _, sp := range p.stations {
		if _, err := p.produceSync(ctx, start, sp, msg, &o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// produceSync produces one message to one station and waits for its
// result, which it counts in the producer's statistics.
func (p *Producer) produceSync(ctx context.Context, start time.Time, sp *stationProducer, data []byte, o *ProduceOptions) (Delivery, error) {
	p.stats.produced.inc()
	p.stats.producedBytes.add(uint64(len(data)))
	d, err := p.sendSync(ctx, start, sp, data, o)
	if err != nil && d.Err == nil {
		d.Err = err
	}
	p.stats.result(&d, start)
	return d, err
}

func (p *Producer) sendSync(ctx context.Context, start time.Time, sp *stationProducer, data []byte, o *ProduceOptions) (Delivery, error) {
	e := newEntry()
	e.sync = true
	if e.result == nil {
		e.result = make(chan Delivery, 1)
	}
	if err := p.prepare(ctx, start, sp, data, o, e); err != nil {
		return Delivery{}, err
	}
	if dl, ok := ctx.Deadline(); ok && dl.UnixNano() < e.deadline {
		e.deadline = dl.UnixNano()
	}
	if err := p.send(e); err != nil {
		return Delivery{}, err
	}
	id, result := e.id, e.result
	// The sweeper reports the deadline; the timer is a backstop for a
	// sweeper held up by a callback that called Produce.
	wait := time.Until(time.Unix(0, e.deadline)) + 2*sweepEvery
	if e.timer == nil {
		e.timer = time.NewTimer(wait)
	} else {
		e.timer.Reset(wait)
	}
	timer := e.timer
	ownDeadline := false
	select {
	case d := <-result:
		timer.Stop()
		if e.recyclable() {
			e.recycle()
		}
		return d, d.Err
	case <-ctx.Done():
	case <-timer.C:
		ownDeadline = true
	}
	timer.Stop()
	// A message between a failed attempt and its retry is briefly not
	// registered: try again until one side wins.
	for {
		if p.conn.replies.cancel(id) {
			if ownDeadline {
				return Delivery{}, e.deadlineErr()
			}
			return Delivery{}, &Error{Code: CodeTimeout, Op: opProduce, Msg: "waiting for the acknowledgement", Err: ctx.Err()}
		}
		select {
		case d := <-result:
			return d, d.Err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// publishErr explains a publish nats.go refused.
func publishErr(err error) error {
	switch {
	case errors.Is(err, nats.ErrMaxPayload):
		return &Error{Code: CodePayloadTooLarge, Op: opProduce, Msg: "message exceeds the broker's max payload", Err: err}
	case errors.Is(err, nats.ErrConnectionClosed):
		return &Error{Code: CodeClosed, Op: opProduce, Msg: "connection to the broker is closed", Err: err}
	}
	return wrapErr(opProduce, err)
}

// errNoStream is a produce nobody answered (no responders): an outage
// while it is retried; final only at the deadline, or when the stream
// check finds the stream missing (errStreamMissing).
var errNoStream = &Error{Code: CodeUnreachable, Op: opProduce,
	Msg: "broker unavailable: no stream answered (the broker was restarting, shutting down or electing a stream leader)"}

type pubAck struct {
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
	Error     *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// parsePubAck fills d from a JetStream PubAck (or its status/error forms).
// transient reports a failure worth retrying within the deadline: no
// stream answered (503), the stream's ingest queue was full (429), or
// JetStream was temporarily unavailable (503 in the body).
func parsePubAck(m *nats.Msg, d *Delivery) (transient bool) {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			d.Err = errNoStream
			return true
		}
		d.Err = &Error{Code: CodeBroker, Op: opProduce, Msg: "empty acknowledgement " + m.Header.Get("Description")}
		return false
	}
	if seq, dup, ok := quickPubAck(m.Data); ok {
		d.Sequence, d.Duplicate = seq, dup
		return false
	}
	var a pubAck
	if err := json.Unmarshal(m.Data, &a); err != nil {
		d.Err = &Error{Code: CodeBroker, Op: opProduce, Msg: "unreadable acknowledgement", Err: err}
		return false
	}
	if a.Error != nil {
		code := CodeBroker
		if a.Error.Code == 413 || a.Error.Code == 400 && a.Error.ErrCode == 10054 {
			code = CodePayloadTooLarge
		}
		d.Err = &Error{Code: code, Op: opProduce, Msg: a.Error.Description}
		return a.Error.Code == 429 || a.Error.Code == 503
	}
	d.Sequence, d.Duplicate = a.Seq, a.Duplicate
	return false
}

var (
	seqKey   = []byte(`"seq":`)
	dupKey   = []byte(`"duplicate"`)
	errorKey = []byte(`"error"`)
)

// quickPubAck reads the common successful PubAck
// ({"stream":"s$1","seq":42[,"duplicate":true]}) without encoding/json,
// which is the largest client-side cost per acknowledged message. Any
// other shape is left to the full decoder.
func quickPubAck(b []byte) (seq uint64, dup, ok bool) {
	if len(b) < 2 || b[0] != '{' || bytes.Contains(b, errorKey) {
		return 0, false, false
	}
	i := bytes.Index(b, seqKey)
	if i < 0 {
		return 0, false, false
	}
	j := i + len(seqKey)
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		seq = seq*10 + uint64(b[j]-'0')
		j++
	}
	if j == start || j-start > 19 || j >= len(b) || (b[j] != ',' && b[j] != '}') {
		return 0, false, false
	}
	if k := bytes.Index(b, dupKey); k >= 0 {
		// The server writes `"duplicate": true` (with a space) by hand;
		// accept any spacing.
		rest := bytes.TrimLeft(b[k+len(dupKey):], ": \t\r\n")
		dup = bytes.HasPrefix(rest, []byte("true"))
	}
	return seq, dup, true
}
