package sdk

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
)

// batchItem is one prepared message of a ProduceBatch for one station.
type batchItem struct {
	m    *nats.Msg
	wait time.Duration
	e    *pubEntry
}

// batchRun carries one ProduceBatch call's outcome across its stations.
type batchRun struct {
	done  func(int, Delivery)
	first error
	// stop selects cut-off semantics (ProduceBatchStopOnError): the
	// first message that cannot be handed to the broker ends the batch
	// and neither it nor any later message is reported.
	stop  bool
	items []batchItem // reused for every station
}

// fail reports message i as not sent to station.
func (b *batchRun) fail(i int, station string, err error) {
	if b.first == nil {
		b.first = err
	}
	if b.done != nil {
		b.done(i, Delivery{Station: station, Err: err})
	}
}

// ProduceBatch publishes many messages in one call without waiting for
// acknowledgements (bindings cross the FFI boundary once per batch). done
// is called exactly once for every message and station — also for the
// messages that could not be sent, with the error; the return value is the
// first such error (nil when every message was sent).
//
// Unlike a loop over ProduceAsync it validates the whole batch first, then
// takes window slots, registers acknowledgements and publishes in chunks
// as large as the window allows, so the per-message locking and channel
// traffic is paid once per chunk.
func (p *Producer) ProduceBatch(ctx context.Context, msgs []BatchMessage, done func(i int, d Delivery)) error {
	if p == nil {
		return newErr(CodeInvalidArgument, opProduce, "nil producer")
	}
	if len(msgs) == 0 {
		return nil
	}
	b := batchRun{done: done}
	for _, sp := range p.stations {
		p.batchTo(ctx, sp, msgs, &b)
	}
	return b.first
}

// ProduceBatchStopOnError is ProduceBatch with the cut-off semantics of a
// loop over ProduceAsync that stops at the first refusal: it sends msgs in
// order and stops at the first message that cannot be handed to the broker
// (invalid header, schema or partition; the window stayed full or ctx
// ended; the producer or connection closed). It returns how many messages
// were sent and, when that is fewer than len(msgs), why. done (may be nil;
// failures then count for Flush) is called exactly once per station for
// each of msgs[:sent] — with the acknowledgement, or the error when the
// publish itself or the acknowledgement failed — and never for msgs[sent:].
//
// With one station this is the bulk path of ProduceBatch. With several,
// messages go one by one to every station, so a message refused by a later
// station has already been sent to the earlier ones (whose done calls
// still come) although it is not counted as sent.
func (p *Producer) ProduceBatchStopOnError(ctx context.Context, msgs []BatchMessage, done func(i int, d Delivery)) (sent int, err error) {
	if p == nil {
		return 0, newErr(CodeInvalidArgument, opProduce, "nil producer")
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if len(p.stations) == 1 {
		b := batchRun{done: done, stop: true}
		return p.batchTo(ctx, p.stations[0], msgs, &b)
	}
	for i := range msgs {
		for _, sp := range p.stations {
			e := &pubEntry{p: p, station: sp.name, batchDone: done, idx: i}
			if err := p.produceAsync(ctx, sp, msgs[i].Data, &msgs[i].Options, e); err != nil {
				return i, err
			}
		}
	}
	return len(msgs), nil
}

// batchTo produces msgs to one station. Without b.stop every message is
// sent or reported failed, and it returns len(msgs), nil. With b.stop it
// returns the number of leading messages sent and the reason the next one
// was not; only the sent ones are reported.
func (p *Producer) batchTo(ctx context.Context, sp *stationProducer, msgs []BatchMessage, b *batchRun) (int, error) {
	// One allocation for every acknowledgement handler of this station:
	// the mux holds pointers into it until the last ack arrives.
	entries := make([]pubEntry, len(msgs))
	items := b.items[:0]
	sent, cut := len(msgs), error(nil)
	for i := range msgs {
		m, partition, err := p.prepare(ctx, sp, msgs[i].Data, &msgs[i].Options)
		if err != nil {
			if b.stop {
				// Validating ahead is fine: nothing is sent before the
				// loop below, which then sends only msgs[:i].
				sent, cut = i, err
				break
			}
			b.fail(i, sp.name, err)
			continue
		}
		e := &entries[len(items)]
		*e = pubEntry{p: p, station: sp.name, partition: partition, batchDone: b.done, idx: i}
		items = append(items, batchItem{m: m, wait: p.ackWait(&msgs[i].Options), e: e})
	}
	b.items = items
	for len(items) > 0 {
		n, err := p.acquireUpTo(ctx, len(items), items[0].wait)
		if err == nil {
			err = p.sendChunk(sp, items[:n], b)
			if err != nil {
				p.releaseN(n)
			} else {
				items = items[n:]
				continue
			}
		}
		// Nothing of items was sent: the window stayed full, ctx ended or
		// the producer/connection closed. Report each message once, or,
		// cut off, none of them.
		if b.stop {
			// With b.stop items hold no gaps: items[0] is msgs[sent].
			sent, cut = items[0].e.idx, err
		}
		for _, it := range items {
			putMsg(it.m)
			if !b.stop {
				b.fail(it.e.idx, sp.name, err)
			}
		}
		break
	}
	clear(b.items) // drop references to the pooled messages
	return sent, cut
}

// acquireUpTo takes between 1 and n window slots: all that are free, or,
// when none is, the first one that frees up within wait.
func (p *Producer) acquireUpTo(ctx context.Context, n int, wait time.Duration) (int, error) {
	k := 0
	for k < n {
		select {
		case p.window <- struct{}{}:
			k++
			continue
		default:
		}
		break
	}
	if k == 0 {
		if err := p.waitSlot(ctx, wait); err != nil {
			return 0, err
		}
		k = 1
	}
	p.addInflight(k)
	return k, nil
}

// releaseN undoes acquireUpTo for n slots whose messages were never sent.
func (p *Producer) releaseN(n int) {
	for range n {
		<-p.window
	}
	p.mu.Lock()
	p.inflight -= n
	if p.inflight == 0 {
		close(p.idle)
	}
	p.mu.Unlock()
}

// sendChunk registers every acknowledgement of chunk under one lock and
// publishes the chunk, whose window slots the caller holds. A non-nil
// return means nothing was registered or sent (the slots are the
// caller's to release); otherwise every message is accounted for.
func (p *Producer) sendChunk(sp *stationProducer, chunk []batchItem, b *batchRun) error {
	now := time.Now()
	first, err := p.conn.replies.registerRange(len(chunk), func(j int) pendingReply {
		return pendingReply{deadline: now.Add(chunk[j].wait).UnixNano(), h: chunk[j].e}
	})
	if err != nil {
		return wrapErr(opProduce, err)
	}
	nc := p.conn.nc
	for j := range chunk {
		id := first + uint64(j)
		m := chunk[j].m
		m.Reply = p.conn.replies.subject(id)
		err := nc.PublishMsg(m)
		putMsg(m)
		if err != nil && p.conn.replies.cancel(id) {
			// Otherwise Close or the sweeper already reported it and
			// released its slot (see produceAsync).
			err = publishErr(err)
			e := chunk[j].e
			if b.stop {
				// Cut off, the message counts as sent: report it like
				// a failed acknowledgement, to done and to Flush.
				if b.done != nil {
					b.done(e.idx, Delivery{Station: sp.name, Partition: e.partition, Err: err})
				}
				p.finish(err)
				continue
			}
			p.release()
			b.fail(e.idx, sp.name, err)
		}
	}
	return nil
}
