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
}

// Delivery is the outcome of one produce to one station.
type Delivery struct {
	Station   string
	Partition int
	Sequence  uint64 // stream sequence assigned by the broker
	Duplicate bool   // the msg-id was already stored; nothing new was stored
	Err       error
}

// BatchMessage is one element of ProduceBatch.
type BatchMessage struct {
	Data    []byte
	Options ProduceOptions
}

const opProduce = "produce"

// msgPool recycles outgoing messages and their header maps: nats.go
// encodes headers during PublishMsg, so both are free again on return.
var msgPool = sync.Pool{New: func() any { return &nats.Msg{Header: make(nats.Header, 8)} }}

func putMsg(m *nats.Msg) {
	clear(m.Header)
	m.Subject, m.Reply, m.Data = "", "", nil
	msgPool.Put(m)
}

// prepare validates one message for one station and builds what goes on
// the wire. The caller returns the *nats.Msg to the pool after publishing.
func (p *Producer) prepare(ctx context.Context, sp *stationProducer, data []byte, o *ProduceOptions) (*nats.Msg, int, error) {
	if p.destroyed.Load() {
		return nil, 0, &Error{Code: CodeClosed, Op: opProduce, Msg: "producer is destroyed"}
	}
	if err := o.validate(); err != nil {
		return nil, 0, err
	}
	partition, err := sp.parts.pick(opProduce, o.PartitionKey, o.PartitionNumber)
	if err != nil {
		return nil, 0, err
	}
	m := msgPool.Get().(*nats.Msg)
	h := m.Header
	for k, v := range o.Headers {
		h[k] = []string{v}
	}
	h["$memphis_producedBy"] = p.producedBy
	h["$memphis_connectionId"] = p.connID
	if o.MsgID != "" {
		// The real broker de-duplicates on msg-id (its JetStream fork
		// renamed the header); vanilla JetStream on Nats-Msg-Id (§6.5).
		ids := []string{o.MsgID}
		h["msg-id"] = ids
		h[nats.MsgIdHdr] = ids
	}
	out, err := p.conn.validateMessage(ctx, p, sp.internal, data, h)
	if err != nil {
		putMsg(m)
		return nil, 0, err
	}
	m.Subject = sp.subjects[partition]
	m.Data = out
	return m, partition, nil
}

func (p *Producer) ackWait(o *ProduceOptions) time.Duration {
	if o.AckWait > 0 {
		return o.AckWait
	}
	return p.opts.AckWait
}

// Produce publishes msg to every station of the producer and waits for the
// broker's acknowledgement (bounded by the ack wait and ctx).
func (p *Producer) Produce(ctx context.Context, msg []byte, o ProduceOptions) error {
	if p == nil {
		return newErr(CodeInvalidArgument, opProduce, "nil producer")
	}
	if len(p.stations) == 1 {
		_, err := p.produceSync(ctx, p.stations[0], msg, &o)
		return err
	}
	var errs []error
	for _, sp := range p.stations {
		if _, err := p.produceSync(ctx, sp, msg, &o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *Producer) produceSync(ctx context.Context, sp *stationProducer, data []byte, o *ProduceOptions) (Delivery, error) {
	m, partition, err := p.prepare(ctx, sp, data, o)
	if err != nil {
		return Delivery{}, err
	}
	actx, cancel := context.WithTimeout(ctx, p.ackWait(o))
	resp, err := p.conn.nc.RequestMsgWithContext(actx, m)
	cancel()
	putMsg(m)
	d := Delivery{Station: sp.name, Partition: partition}
	if err != nil {
		d.Err = publishErr(err)
		return d, d.Err
	}
	parsePubAck(resp, &d)
	return d, d.Err
}

// publishErr explains a failed publish request.
func publishErr(err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return &Error{Code: CodeNotFound, Op: opProduce, Msg: "no stream answered: the station (or partition) does not exist", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return &Error{Code: CodeTimeout, Op: opProduce, Msg: "no acknowledgement from the broker within the ack wait", Err: err}
	case errors.Is(err, nats.ErrMaxPayload):
		return &Error{Code: CodePayloadTooLarge, Op: opProduce, Msg: "message exceeds the broker's max payload", Err: err}
	}
	return wrapErr(opProduce, err)
}

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
func parsePubAck(m *nats.Msg, d *Delivery) {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			d.Err = publishErr(nats.ErrNoResponders)
		} else {
			d.Err = &Error{Code: CodeBroker, Op: opProduce, Msg: "empty acknowledgement " + m.Header.Get("Description")}
		}
		return
	}
	if seq, dup, ok := quickPubAck(m.Data); ok {
		d.Sequence, d.Duplicate = seq, dup
		return
	}
	var a pubAck
	if err := json.Unmarshal(m.Data, &a); err != nil {
		d.Err = &Error{Code: CodeBroker, Op: opProduce, Msg: "unreadable acknowledgement", Err: err}
		return
	}
	if a.Error != nil {
		code := CodeBroker
		if a.Error.Code == 413 || a.Error.Code == 400 && a.Error.ErrCode == 10054 {
			code = CodePayloadTooLarge
		}
		d.Err = &Error{Code: code, Op: opProduce, Msg: a.Error.Description}
		return
	}
	d.Sequence, d.Duplicate = a.Seq, a.Duplicate
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
