package sdk

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// Message is a consumed message: a JetStream message of a station, or a
// poison message the broker resent to the group (IsDLS).
type Message struct {
	cons      *Consumer
	msg       *nats.Msg
	partition int
	dls       bool
	gen       uint64 // connection generation it was delivered in

	metaOnce sync.Once
	meta     *nats.MsgMetadata
}

// Data returns the payload (nil for a nil message).
func (m *Message) Data() []byte {
	if m == nil || m.msg == nil {
		return nil
	}
	return m.msg.Data
}

// Headers returns the user headers plus the $memphis_* headers as received
// (first value of each key).
func (m *Message) Headers() map[string]string {
	if m == nil || m.msg == nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m.msg.Header))
	for k, v := range m.msg.Header {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// Header returns one header value ("" when absent).
func (m *Message) Header(key string) string {
	if m == nil || m.msg == nil {
		return ""
	}
	return m.msg.Header.Get(key)
}

func (m *Message) metadata() *nats.MsgMetadata {
	if m == nil || m.msg == nil {
		return nil
	}
	m.metaOnce.Do(func() {
		if !m.dls {
			m.meta, _ = m.msg.Metadata()
		}
	})
	return m.meta
}

// SequenceNumber is the message's stream sequence (0 for DLS resends,
// which are not stream messages).
func (m *Message) SequenceNumber() uint64 {
	if md := m.metadata(); md != nil {
		return md.Sequence.Stream
	}
	return 0
}

// DeliveryCount is how often the broker has delivered this message.
func (m *Message) DeliveryCount() uint64 {
	if md := m.metadata(); md != nil {
		return md.NumDelivered
	}
	return 0
}

// TimeSent is when the broker stored the message (zero for DLS resends).
func (m *Message) TimeSent() time.Time {
	if md := m.metadata(); md != nil {
		return md.Timestamp
	}
	return time.Time{}
}

// Partition is the partition the message was fetched from (1-based; 0 for
// legacy stations and DLS resends).
func (m *Message) Partition() int {
	if m == nil {
		return 0
	}
	return m.partition
}

// IsDLS reports whether this is a poison message resent by the broker.
func (m *Message) IsDLS() bool { return m != nil && m.dls }

const opAck = "ack"

// Ack acknowledges the message and waits for the broker to confirm it, so
// an acknowledged message is never redelivered after a restart. A DLS
// resend is acknowledged on $memphis_pm_acks instead (§8.6).
//
// The ack of a message delivered before the connection was lost returns
// at once with CodeNotConnected ("stale delivery"): it is still sent, but
// the broker may have restarted and lost the delivery, so it cannot be
// confirmed and the message may be redelivered. An ack waiting for its
// confirmation when the connection drops fails at once the same way.
func (m *Message) Ack(ctx context.Context) error {
	return AckAll(ctx, []*Message{m})
}

// pmAck is the §8.6 poison-message acknowledgement.
type pmAck struct {
	ID     int    `json:"id"`
	CgName string `json:"cg_name"`
}

func (m *Message) publishPMAck() error {
	id, err := strconv.Atoi(m.msg.Header.Get("$memphis_pm_id"))
	if err != nil {
		m.cons.stats.ackFailures.inc()
		return newErr(CodeInvalidArgument, opAck, "DLS message carries no valid $memphis_pm_id")
	}
	body, _ := json.Marshal(pmAck{ID: id, CgName: m.msg.Header.Get("$memphis_pm_cg_name")})
	if err := m.cons.conn.nc.Publish(wire.SubjPMAcks, body); err != nil {
		m.cons.stats.ackFailures.inc()
		return wrapErr(opAck, err)
	}
	m.cons.stats.acked.inc()
	return nil
}

// ackWaiter collects the confirmations of one AckAll call.
type ackWaiter struct {
	remaining atomic.Int64
	done      chan struct{}
	mu        sync.Mutex
	err       error
}

// settle records one expected confirmation (err: it failed).
func (w *ackWaiter) settle(err error) {
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	if w.remaining.Add(-1) == 0 {
		close(w.done)
	}
}

// ackConfirm is one confirmation AckAll asks for: it covers the acks of n
// messages of one JetStream consumer (the server handles one connection's
// acks of a consumer in order), which it counts as acknowledged or failed
// once the broker answered.
type ackConfirm struct {
	w    *ackWaiter
	cons *Consumer
	n    uint64
}

func (a *ackConfirm) onReply(m *nats.Msg, err error) {
	if err == nil && m != nil && len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		// No responders: the consumer is gone, or JetStream is shutting
		// down or electing a leader (it drops consumers before the
		// connection closes). The answer cannot tell which, so it is not
		// reported as a missing object.
		err = errAckNoResponders
	}
	if err != nil {
		a.cons.stats.ackFailures.add(a.n)
	} else {
		a.cons.stats.acked.add(a.n)
	}
	a.w.settle(err)
}

// errAckNoResponders is a confirmed ack nobody took.
var errAckNoResponders = &Error{Code: CodeUnreachable, Op: opAck,
	Msg: "broker did not take the ack (no responders): the consumer was removed, or the broker is shutting down or electing a leader; the message may be redelivered"}

// errStale is the error AckAll reports for stale deliveries.
var errStale = &Error{Code: CodeNotConnected, Op: opAck,
	Msg: "stale delivery: the message was delivered before the connection to the broker was lost; the ack was sent but cannot be confirmed, and the message may be redelivered"}

// ackConfirmWait bounds an ack confirmation when ctx has no deadline.
const ackConfirmWait = 10 * time.Second

// ackStream identifies one JetStream consumer: a group on one partition.
type ackStream struct {
	cons      *Consumer
	partition int
}

// ackPlan maps the messages of an AckAll call onto their JetStream
// consumers (group and partition): stream[i] is message i's index in last
// (-1: not a station message), last[k] the index of that consumer's last
// message. Batches usually span one or a few partitions, so a slice beats
// a map here.
func ackPlan(msgs []*Message) (stream, last []int) {
	var keys []ackStream
	stream = make([]int, len(msgs))
	for i, m := range msgs {
		stream[i] = -1
		if m == nil || m.cons == nil || m.dls {
			continue
		}
		k := ackStream{m.cons, m.partition}
		j := slices.Index(keys, k)
		if j < 0 {
			j = len(keys)
			keys = append(keys, k)
			last = append(last, i)
		}
		last[j] = i
		stream[i] = j
	}
	return stream, last
}

// AckAll acknowledges many messages in one call and waits until the broker
// confirms them, so a batch costs about one round trip instead of one per
// message. Per JetStream consumer (group and partition) only the last ack
// asks for a confirmation: the server processes one connection's acks of
// one consumer in order, so that confirmation covers the earlier ones.
func AckAll(ctx context.Context, msgs []*Message) error {
	stream, lastIdx := ackPlan(msgs)
	// covered[k]: acks of consumer k sent so far, awaiting its confirmation.
	covered := make([]uint64, len(lastIdx))
	var firstErr error
	note := func(err error) {
		if firstErr == nil && err != nil {
			firstErr = err
		}
	}
	w := &ackWaiter{done: make(chan struct{})}
	deadline := time.Now().Add(ackConfirmWait)
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
	}
	w.remaining.Store(1) // guard so done cannot close while sending
	var flushConns []*Conn
	for i, m := range msgs {
		if m == nil || m.cons == nil {
			note(newErr(CodeInvalidArgument, opAck, "not a consumed message"))
			continue
		}
		conn := m.cons.conn
		if err := conn.checkOpen(opAck); err != nil {
			m.cons.stats.ackFailures.inc()
			note(err)
			continue
		}
		if m.dls {
			note(m.publishPMAck())
			flushConns = appendConn(flushConns, conn)
			continue
		}
		k := stream[i]
		last := lastIdx[k] == i
		if m.gen != conn.gen.Load() {
			// Best effort: after a reconnect to the same broker process
			// the ack still counts; after a restart nobody answers.
			_ = conn.nc.Publish(m.msg.Reply, ackPayload)
			m.cons.stats.ackFailures.inc()
			note(errStale)
			if last {
				// The earlier acks of this consumer get no confirmation:
				// they were sent, as AckNoWait sends them.
				m.cons.stats.acked.add(covered[k])
			}
			continue
		}
		if !last {
			if err := conn.nc.Publish(m.msg.Reply, ackPayload); err != nil {
				m.cons.stats.ackFailures.inc()
				note(wrapErr(opAck, err))
			} else {
				covered[k]++
			}
			continue
		}
		w.remaining.Add(1)
		confirm := &ackConfirm{w: w, cons: m.cons, n: covered[k] + 1}
		id, reply, err := conn.replies.register(confirm, deadline)
		if err != nil {
			confirm.onReply(nil, err)
			continue
		}
		if err := conn.nc.PublishRequest(m.msg.Reply, reply, ackPayload); err != nil {
			if conn.replies.cancel(id) { // else Close already failed it
				confirm.onReply(nil, wrapErr(opAck, err))
			}
			continue
		}
	}
	w.settle(nil) // drop the guard
	for _, c := range flushConns {
		// pm acks are fire-and-forget core messages; a flush at least
		// proves they reached the broker.
		fctx, cancel := context.WithTimeout(ctx, ackConfirmWait)
		note(wrapErr(opAck, c.nc.FlushWithContext(fctx)))
		cancel()
	}
	// The sweeper reports the deadline; the timer is a backstop for a
	// sweeper held up by a delivery callback that called AckAll.
	t := time.NewTimer(time.Until(deadline) + 2*sweepEvery)
	defer t.Stop()
	select {
	case <-w.done:
	case <-ctx.Done():
		note(&Error{Code: CodeTimeout, Op: opAck, Msg: "waiting for ack confirmations", Err: ctx.Err()})
		return firstErr
	case <-t.C:
		note(&Error{Code: CodeTimeout, Op: opAck, Msg: "the broker did not confirm the ack in time"})
		return firstErr
	}
	w.mu.Lock()
	if w.err != nil {
		note(&Error{Code: CodeOf(w.err), Op: opAck, Msg: "broker did not confirm the ack", Err: w.err})
	}
	w.mu.Unlock()
	return firstErr
}

var (
	ackPayload  = []byte("+ACK")
	nakPayload  = []byte("-NAK")
	termPayload = []byte("+TERM")
)

func appendConn(list []*Conn, c *Conn) []*Conn {
	for _, x := range list {
		if x == c {
			return list
		}
	}
	return append(list, c)
}

// Send-only acknowledgements. Ack/AckAll wait for the broker's confirmation
// (one round trip); AckNoWait only buffers the ack on the connection, like
// the plain +ACK of memphis-py and nats.go's Msg.Ack. The ack is therefore
// at-least-once: if the connection drops before the buffered ack is
// written, the message is redelivered after max_ack_time. Conn.Close
// writes buffered acks out (nats.go flushes its write buffer on close), and
// Consumer.Destroy's de-registration request follows the acks on the same
// connection, so the broker sees the acks first.

// AckNoWait acknowledges the message without waiting for the broker. A DLS
// resend is acknowledged on $memphis_pm_acks (§8.6), also without waiting.
func (m *Message) AckNoWait() error {
	if m == nil || m.msg == nil || m.cons == nil {
		return newErr(CodeInvalidArgument, opAck, "not a consumed message")
	}
	conn := m.cons.conn
	if err := conn.checkOpen(opAck); err != nil {
		return err
	}
	if m.dls {
		return m.publishPMAck()
	}
	if m.msg.Reply == "" {
		return newErr(CodeInvalidArgument, opAck, "message has no reply subject")
	}
	if err := conn.nc.Publish(m.msg.Reply, ackPayload); err != nil {
		m.cons.stats.ackFailures.inc()
		return wrapErr(opAck, err)
	}
	m.cons.stats.acked.inc()
	return nil
}

// AckAllNoWait sends every ack of msgs without waiting for confirmations.
// All messages are attempted; the first failure is returned.
func AckAllNoWait(msgs []*Message) error {
	var first error
	for _, m := range msgs {
		if err := m.AckNoWait(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Nack asks for immediate redelivery (counts towards max deliveries). On a
// DLS resend it does nothing: the broker keeps the poison message.
func (m *Message) Nack() error {
	if m == nil {
		return newErr(CodeInvalidArgument, "nack", "nil message")
	}
	if m.dls {
		return nil
	}
	if err := m.reply("nack", nakPayload); err != nil {
		return err
	}
	m.cons.stats.nacked.inc()
	return nil
}

// Delay asks for redelivery after d. Not possible for DLS resends.
func (m *Message) Delay(d time.Duration) error {
	const op = "delay"
	if m == nil {
		return newErr(CodeInvalidArgument, op, "nil message")
	}
	if m.dls {
		return newErr(CodeInvalidArgument, op, "cannot delay DLS message")
	}
	if d < 0 {
		return newErr(CodeInvalidArgument, op, "delay must not be negative")
	}
	body := []byte(`-NAK {"delay":` + strconv.FormatInt(int64(d), 10) + `}`)
	if err := m.reply(op, body); err != nil {
		return err
	}
	m.cons.stats.delayed.inc()
	return nil
}

// nackedDLS is the §8.4 report of a consumer-requested dead letter.
type nackedDLS = wire.NackedDLS

// DeadLetter terminates the message (no more redeliveries; the broker
// confirms it before DeadLetter returns) and records it in the station's
// dead-letter store with reason. On a DLS resend it does nothing.
func (m *Message) DeadLetter(reason string) error {
	const op = "dead letter"
	if m == nil {
		return newErr(CodeInvalidArgument, op, "nil message")
	}
	if m.dls {
		return nil
	}
	if m.cons == nil || m.msg.Reply == "" {
		return newErr(CodeInvalidArgument, op, "not a consumed message")
	}
	if err := m.cons.conn.checkOpen(op); err != nil {
		return err
	}
	if _, err := m.cons.conn.nc.Request(m.msg.Reply, termPayload, ackConfirmWait); err != nil {
		return &Error{Code: CodeOf(err), Op: op, Msg: "broker did not confirm the termination", Err: err}
	}
	part := m.partition
	if part == 0 {
		part = 1
	}
	body, _ := json.Marshal(nackedDLS{
		StationName: m.cons.internalStation,
		Error:       reason,
		Partition:   part,
		CgName:      m.cons.group,
		Seq:         m.SequenceNumber(),
	})
	if err := m.cons.conn.nc.Publish(wire.SubjNackedDLS, body); err != nil {
		return wrapErr(op, err)
	}
	m.cons.stats.deadLettered.inc()
	return nil
}

func (m *Message) reply(op string, body []byte) error {
	if m.cons == nil || m.msg.Reply == "" {
		return newErr(CodeInvalidArgument, op, "not a consumed message")
	}
	if err := m.cons.conn.checkOpen(op); err != nil {
		return err
	}
	if err := m.cons.conn.nc.Publish(m.msg.Reply, body); err != nil {
		return wrapErr(op, err)
	}
	return nil
}
