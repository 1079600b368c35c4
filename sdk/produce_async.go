package sdk

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
)

// pubEntry is one nonblocking produce awaiting its PubAck.
type pubEntry struct {
	p         *Producer
	station   string
	partition int
	done      func(Delivery)
	batchDone func(int, Delivery)
	idx       int
}

func (e *pubEntry) onReply(m *nats.Msg, err error) {
	d := Delivery{Station: e.station, Partition: e.partition}
	if err != nil {
		d.Err = &Error{Code: CodeOf(err), Op: opProduce, Msg: "no acknowledgement from the broker", Err: err}
	} else {
		parsePubAck(m, &d)
	}
	// The callback runs before the slot is released so that Flush returns
	// only after every callback has run.
	switch {
	case e.done != nil:
		e.done(d)
	case e.batchDone != nil:
		e.batchDone(e.idx, d)
	}
	e.p.finish(d.Err)
}

// finish releases one window slot and records the outcome for Flush.
func (p *Producer) finish(err error) {
	<-p.window
	p.mu.Lock()
	if p.room != nil && len(p.window) <= p.lowWater {
		close(p.room)
		p.room = nil
	}
	if err != nil {
		if p.failed == 0 {
			p.firstErr = err
		}
		p.failed++
	}
	p.inflight--
	if p.inflight == 0 {
		close(p.idle)
	}
	p.mu.Unlock()
}

// acquire takes a window slot, blocking up to wait when the window is full.
func (p *Producer) acquire(ctx context.Context, wait time.Duration) error {
	select {
	case p.window <- struct{}{}:
	default:
		if err := p.waitSlot(ctx, wait); err != nil {
			return err
		}
	}
	p.addInflight(1)
	return nil
}

// lowWater is how far a full window of size n must drain before blocked
// producers resume: an eighth of it. Resuming at every single freed slot
// would wake the producer once per acknowledgement, and a producer on a
// foreign (cgo) thread pays two thread switches per wake-up.
func lowWater(n int) int { return n - max(1, n/8) }

// waitSlot blocks up to wait for one window slot (the slow path). It
// sleeps until the window has drained to lowWater, so a producer that
// outruns the broker resumes once per batch of acknowledgements.
func (p *Producer) waitSlot(ctx context.Context, wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		p.mu.Lock()
		var room chan struct{}
		if len(p.window) > p.lowWater {
			// finish checks the same condition under p.mu, so the
			// drain that crosses lowWater cannot be missed.
			if p.room == nil {
				p.room = make(chan struct{})
			}
			room = p.room
		}
		p.mu.Unlock()
		if room != nil {
			select {
			case <-room:
			case <-t.C:
				// A slot may have freed without the window draining far.
				select {
				case p.window <- struct{}{}:
					return nil
				default:
				}
				return &Error{Code: CodeQueueFull, Op: opProduce,
					Msg: "in-flight window of " + itoa(cap(p.window)) + " messages stayed full for " + wait.String()}
			case <-ctx.Done():
				return &Error{Code: CodeTimeout, Op: opProduce, Msg: "waiting for room in the in-flight window", Err: ctx.Err()}
			case <-p.closing:
				return &Error{Code: CodeClosed, Op: opProduce, Msg: "producer is destroyed"}
			}
		}
		select {
		case p.window <- struct{}{}:
			return nil
		default: // other producers took the room first: wait again
		}
	}
}

// addInflight counts n window slots just taken as in flight for Flush.
func (p *Producer) addInflight(n int) {
	p.mu.Lock()
	if p.inflight == 0 {
		p.idle = make(chan struct{})
	}
	p.inflight += n
	p.mu.Unlock()
}

// release undoes acquire for a message that was never sent.
func (p *Producer) release() { p.finish(nil) }

// ProduceAsync publishes msg without waiting for the acknowledgement. done
// (may be nil) is called exactly once per station with the outcome, on a
// library goroutine; it must not block for long. A non-nil return means
// the message was not sent to that station and done will not be called
// for it. Errors of messages without a callback are reported by Flush.
//
// Like every produce call, ProduceAsync does not keep msg (or the option
// values) once it returns: the bytes are on their way in the connection's
// own buffer, so the caller may reuse msg at once. The C API relies on this
// to publish straight from the caller's memory.
func (p *Producer) ProduceAsync(ctx context.Context, msg []byte, o ProduceOptions, done func(Delivery)) error {
	if p == nil {
		return newErr(CodeInvalidArgument, opProduce, "nil producer")
	}
	for _, sp := range p.stations {
		if err := p.produceAsync(ctx, sp, msg, &o, &pubEntry{p: p, station: sp.name, done: done}); err != nil {
			return err
		}
	}
	return nil
}

func (p *Producer) produceAsync(ctx context.Context, sp *stationProducer, data []byte, o *ProduceOptions, e *pubEntry) error {
	m, partition, err := p.prepare(ctx, sp, data, o)
	if err != nil {
		return err
	}
	wait := p.ackWait(o)
	if err := p.acquire(ctx, wait); err != nil {
		putMsg(m)
		return err
	}
	e.partition = partition
	id, reply, err := p.conn.replies.register(e, time.Now().Add(wait))
	if err != nil {
		putMsg(m)
		p.release()
		return wrapErr(opProduce, err)
	}
	m.Reply = reply
	err = p.conn.nc.PublishMsg(m)
	putMsg(m)
	if err != nil {
		if !p.conn.replies.cancel(id) {
			// Close (or the sweeper) won the race and already reported
			// this message to done and released its slot: a second
			// report would break "exactly once" and free a foreign slot.
			return nil
		}
		p.release()
		return publishErr(err)
	}
	return nil
}
