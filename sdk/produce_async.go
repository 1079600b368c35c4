package sdk

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// pubEntry is one produce to one station, from the call until its
// delivery result is final: the retained message (resent after a
// reconnect, retried after an overload answer), its deadline, and where
// the result goes.
type pubEntry struct {
	p         *Producer
	sp        *stationProducer
	data      []byte      // private copy of the payload
	headers   nats.Header // user headers (nil: none)
	msgID     string      // "" = none: the broker cannot de-duplicate a resend
	reply     string      // set at registration
	partition int
	size      int64     // bytes counted in the window
	start     time.Time // the produce call's time (ack latency)
	deadline  int64     // unix nanoseconds: the call's time plus the ack wait
	windowed  bool      // holds room in the producer's window
	pooled    bool      // from entryPool: recycled once its result is final, if safe
	viaReply  bool      // the final result is the broker's reply to a send
	awaited   bool      // ProduceOptions.Awaited: Flush does not count a failure
	// A sync produce waits for result (no user code runs for it); the
	// channel and timer stay with a recycled entry for the next one.
	sync      bool
	result    chan Delivery
	timer     *time.Timer
	done      func(Delivery)
	batchDone func(int, Delivery)
	idx       int

	id uint64 // reply-mux registration
	// Guarded by the reply mux's lock while registered.
	sentGen uint64 // connection generation it was last handed to nats.go in; 0 = not yet
	sends   int    // times handed to nats.go
	retryAt int64  // held for an overload backoff until then (unix ns); 0 = not held
	// Touched only by the reply path (one reply at a time per entry).
	backoff time.Duration
	lastErr error // last retried failure, reported if the deadline passes
}

// entryPool recycles produce entries together with their payload buffers,
// so a steady stream of produces allocates neither.
var entryPool = sync.Pool{New: func() any { return new(pubEntry) }}

func newEntry() *pubEntry {
	e := entryPool.Get().(*pubEntry)
	e.pooled = true
	return e
}

// keepDataCap bounds the payload buffer a recycled entry keeps.
const keepDataCap = 64 << 10

// recyclable reports whether no publisher can still read e once its
// result is final: the result came as the reply to its only send (the
// reply proves nats.go had copied the bytes).
func (e *pubEntry) recyclable() bool { return e.pooled && e.viaReply && e.sends <= 1 }

// recycle gives e back for reuse.
func (e *pubEntry) recycle() {
	buf := e.data[:0]
	if cap(buf) > keepDataCap {
		buf = nil
	}
	*e = pubEntry{data: buf, result: e.result, timer: e.timer}
	entryPool.Put(e)
}

// publish hands e to nats.go once.
func (e *pubEntry) publish(nc *nats.Conn) error {
	m := e.message()
	err := nc.PublishMsg(m)
	putMsg(m)
	return err
}

// Overload retries back off from retryFirst, doubling up to retryMax.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = time.Second
)

func (e *pubEntry) onReply(m *nats.Msg, err error) {
	d := Delivery{Station: e.sp.name, Partition: e.partition}
	switch {
	case errors.Is(err, ErrTimeout): // the sweeper: the deadline passed
		d.Err = e.deadlineErr()
	case err != nil:
		d.Err = &Error{Code: CodeOf(err), Op: opProduce, Msg: "no acknowledgement from the broker", Err: err}
	case !parsePubAck(m, &d):
		e.viaReply = true
		sync := e.sync
		e.complete(d)
		// A sync produce's caller recycles its entry once it has the result.
		if !sync && e.recyclable() {
			e.recycle()
		}
		return
	default: // a transient failure: retry within the deadline
		if CodeOf(d.Err) == CodeUnreachable {
			// No stream answered: an outage, or a station that is gone.
			// The stream check tells them apart and fails the messages
			// of a missing stream at once.
			e.p.conn.checkStream(e.sp, e.partition)
		}
		e.lastErr = d.Err
		e.backoff = min(max(2*e.backoff, retryFirst), retryMax)
		// Jitter spreads the retries of a burst that was refused together,
		// so they do not overrun the broker together again.
		at := time.Now().Add(e.backoff/2 + rand.N(e.backoff/2)).UnixNano()
		if at < e.deadline && e.p.conn.replies.retry(e, at) {
			e.p.conn.logOverload(d.Err)
			return
		}
		d.Err = e.deadlineErr()
	}
	e.complete(d)
}

// deadlineErr is the final error of a message whose deadline passed.
func (e *pubEntry) deadlineErr() error {
	switch {
	case e.lastErr != nil:
		return &Error{Code: CodeOf(e.lastErr), Op: opProduce, Msg: "still failing when the ack wait ran out", Err: e.lastErr}
	case e.sends == 0:
		return &Error{Code: CodeTimeout, Op: opProduce,
			Msg: "not sent within the ack wait: the connection to the broker was down (the message was not stored)"}
	}
	return &Error{Code: CodeTimeout, Op: opProduce,
		Msg: "no acknowledgement from the broker within the ack wait (the message may or may not have been stored)"}
}

// complete hands the final result to the caller and gives back the
// message's room in the window.
func (e *pubEntry) complete(d Delivery) {
	if e.sends > 1 {
		d.Retries = e.sends - 1
		d.PossibleDuplicate = e.msgID == ""
	}
	// The callback runs before the room is given back so that Flush
	// returns only after every callback has run.
	if e.sync {
		e.result <- d // the waiting caller owns e from here on (and counts d)
		return
	}
	// Counted before anyone is told, so statistics read after a callback
	// or a Flush include this result.
	e.p.stats.result(&d, e.start)
	if d.Err != nil {
		e.p.logFailure(e, &d)
	}
	switch {
	case e.done != nil:
		e.done(d)
	case e.batchDone != nil:
		e.batchDone(e.idx, d)
	}
	if e.windowed {
		e.p.win.finish(e.size, d.Err, !e.awaited)
	}
}

// discard drops a produce that was never registered or whose registration
// was cancelled: nothing is reported.
func (e *pubEntry) discard() {
	if e.windowed {
		e.p.win.release([]int64{e.size})
	}
}

// ProduceAsync publishes msg without waiting for the acknowledgement. done
// (may be nil) is called exactly once per station with the outcome, on a
// library goroutine; it must not block for long. A non-nil return means
// the message was not sent to that station and done will not be called
// for it. Flush reports failures too, also those handed to done, unless
// o.Awaited says the caller takes the result as its own.
//
// A message is failed only when its deadline (the ack wait, counted from
// this call) passes or the producer or connection is closed: when the
// connection drops, the messages awaiting their acknowledgement are sent
// again after the reconnect, in their original order, before any newer
// message (Delivery.Retries counts the resends).
//
// Like every produce call, ProduceAsync does not keep msg (or the option
// values) once it returns: it keeps a copy for resends, so the caller may
// reuse msg at once. The C API relies on this to produce straight from the
// caller's memory.
func (p *Producer) ProduceAsync(ctx context.Context, msg []byte, o ProduceOptions, done func(Delivery)) error {
	if p == nil {
		return newErr(CodeInvalidArgument, opProduce, "nil producer")
	}
	start := time.Now()
	for _, sp := range p.stations {
		e := newEntry()
		e.done = done
		if err := p.produceAsync(ctx, start, sp, msg, &o, e); err != nil {
			return err
		}
	}
	return nil
}

// produceAsync produces one message to one station without waiting. A
// refusal is counted here; an accepted message's result in complete.
func (p *Producer) produceAsync(ctx context.Context, start time.Time, sp *stationProducer, data []byte, o *ProduceOptions, e *pubEntry) error {
	err := p.prepare(ctx, start, sp, data, o, e)
	if err == nil {
		e.windowed = true
		err = p.win.acquire(ctx, e.size, time.Unix(0, e.deadline), p.closing)
	}
	if err != nil {
		p.stats.refused(len(data), err)
		return err
	}
	p.stats.produced.inc()
	p.stats.producedBytes.add(uint64(len(data)))
	if err := p.send(e); err != nil {
		p.stats.fail(err)
		return err
	}
	return nil
}

// logFailure logs the failed result of a nonblocking produce: a warning
// when nobody else is told (no callback), at most one a second per
// producer; debug otherwise.
func (p *Producer) logFailure(e *pubEntry, d *Delivery) {
	l := p.conn.log
	level := slog.LevelWarn
	if e.done != nil || e.batchDone != nil {
		level = slog.LevelDebug
	}
	if !logOn(l, level) {
		return
	}
	attrs := []slog.Attr{slog.String("producer", p.name), slog.String("station", d.Station), slog.Any("error", d.Err)}
	if level == slog.LevelWarn {
		ok, suppressed := p.failLog.allow()
		if !ok {
			return
		}
		if suppressed > 0 {
			attrs = append(attrs, slog.Uint64("more_failures", suppressed))
		}
	}
	logAttrs(l, level, "nonblocking produce failed", attrs...)
}

// send registers e and, unless a resend after a reconnect is under way,
// hands it to nats.go. A non-nil return means e was not accepted (and
// was discarded); otherwise its result will come exactly once.
func (p *Producer) send(e *pubEntry) error {
	direct, err := p.conn.replies.registerOut(e)
	if err != nil {
		e.discard()
		return &Error{Code: CodeOf(err), Op: opProduce, Msg: "connection is closed", Err: err}
	}
	if !direct {
		return nil // the resender sends it, in order, once connected
	}
	err = e.publish(p.conn.nc)
	if err == nil {
		return nil
	}
	if linkDown(err) {
		// A message that could not leave while the connection is down
		// is sent by the resender after the reconnect.
		if neverLeft(err) {
			p.conn.replies.notSent(e)
		}
		return nil
	}
	if !p.conn.replies.cancel(e.id) {
		// Close (or the sweeper) won the race and already reported
		// this message: a second report would break "exactly once".
		return nil
	}
	e.discard()
	return publishErr(err)
}

// neverLeft reports a publish nats.go refused without writing anything.
func neverLeft(err error) bool {
	return errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrDisconnected)
}

// linkDown reports a publish that failed because of the connection (down
// and being re-established, or a socket write error that takes it down):
// the message is kept and resent after the reconnect. Only errors that a
// resend cannot cure are final.
func linkDown(err error) bool {
	switch {
	case errors.Is(err, nats.ErrMaxPayload), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrBadSubject), errors.Is(err, nats.ErrHeadersNotSupported),
		errors.Is(err, nats.ErrInvalidConnection), errors.Is(err, nats.ErrConnectionDraining):
		return false
	}
	return true
}
