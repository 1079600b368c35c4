package sdk

import (
	"context"
	"time"
)

// batchRun carries one ProduceBatch call's outcome across its stations.
type batchRun struct {
	done  func(int, Delivery)
	first error
	// stop selects cut-off semantics (ProduceBatchStopOnError): the
	// first message that cannot be handed to the broker ends the batch
	// and neither it nor any later message is reported.
	stop  bool
	start time.Time   // the call's time: every message's deadline counts from it
	items []*pubEntry // reused for every station
}

// fail reports message i (of size bytes) as not sent to station and
// counts it (counted: it already counts as produced).
func (b *batchRun) fail(p *Producer, i, size int, counted bool, station string, err error) {
	if b.first == nil {
		b.first = err
	}
	if counted {
		p.stats.fail(err)
	} else {
		p.stats.refused(size, err)
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
	b := batchRun{done: done, start: time.Now()}
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
	start := time.Now()
	if len(p.stations) == 1 {
		b := batchRun{done: done, stop: true, start: start}
		return p.batchTo(ctx, p.stations[0], msgs, &b)
	}
	for i := range msgs {
		for _, sp := range p.stations {
			e := &pubEntry{batchDone: done, idx: i}
			if err := p.produceAsync(ctx, start, sp, msgs[i].Data, &msgs[i].Options, e); err != nil {
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
	// One allocation for every entry of this station: the reply mux holds
	// pointers into it until the last result is final.
	entries := make([]pubEntry, len(msgs))
	// And one buffer for the private copies of all payloads.
	total := 0
	for i := range msgs {
		total += len(msgs[i].Data)
	}
	arena := make([]byte, total)
	items := b.items[:0]
	sent, cut := len(msgs), error(nil)
	for i := range msgs {
		e := &entries[len(items)]
		e.batchDone, e.idx = b.done, i
		n := len(msgs[i].Data)
		e.data, arena = arena[:0:n], arena[n:]
		if err := p.prepare(ctx, b.start, sp, msgs[i].Data, &msgs[i].Options, e); err != nil {
			if b.stop {
				// Validating ahead is fine: nothing is sent before the
				// loop below, which then sends only msgs[:i].
				sent, cut = i, err
				break
			}
			b.fail(p, i, n, false, sp.name, err)
			continue
		}
		e.windowed = true
		items = append(items, e)
	}
	b.items = items
	size := func(e *pubEntry) int { return len(msgs[e.idx].Data) }
	for len(items) > 0 {
		n, err := p.win.acquireUpTo(ctx, len(items), func(j int) int64 { return items[j].size },
			time.Unix(0, items[0].deadline), p.closing)
		if err == nil {
			// Counted as produced before any can get its result.
			chunkBytes := 0
			for _, e := range items[:n] {
				chunkBytes += size(e)
			}
			p.stats.produced.add(uint64(n))
			p.stats.producedBytes.add(uint64(chunkBytes))
			if err = p.sendChunk(sp, items[:n], b, size); err == nil {
				items = items[n:]
				continue
			}
			p.stats.produced.sub(uint64(n)) // none of them went out after all
			p.stats.producedBytes.sub(uint64(chunkBytes))
			for _, e := range items[:n] {
				p.win.release([]int64{e.size})
			}
		}
		// Nothing of items was sent: the window stayed full, ctx ended or
		// the producer/connection closed. Report each message once, or,
		// cut off, none of them.
		if b.stop {
			// With b.stop items hold no gaps: items[0] is msgs[sent].
			sent, cut = items[0].idx, err
			p.stats.refused(size(items[0]), err)
		}
		if !b.stop {
			for _, e := range items {
				b.fail(p, e.idx, size(e), false, sp.name, err)
			}
		}
		break
	}
	if b.stop && cut != nil && len(items) == 0 && sent < len(msgs) {
		// Cut off by a message that did not validate: it was refused.
		p.stats.refused(len(msgs[sent].Data), cut)
	}
	clear(b.items) // drop references to the entries
	return sent, cut
}

// sendChunk registers chunk, whose window room the caller holds, under one
// lock and publishes it. A non-nil return means nothing was registered or
// sent (the room is the caller's to give back); otherwise every message is
// accounted for.
func (p *Producer) sendChunk(sp *stationProducer, chunk []*pubEntry, b *batchRun, size func(*pubEntry) int) error {
	direct, err := p.conn.replies.registerOut(chunk...)
	if err != nil {
		return &Error{Code: CodeOf(err), Op: opProduce, Msg: "connection is closed", Err: err}
	}
	if !direct {
		return nil // the resender sends them, in order, once connected
	}
	nc := p.conn.nc
	for _, e := range chunk {
		err := e.publish(nc)
		if err != nil && neverLeft(err) {
			p.conn.replies.notSent(e)
		}
		if err == nil || linkDown(err) || !p.conn.replies.cancel(e.id) {
			// Sent, kept for the resend, or already reported by Close
			// or the sweeper (see Producer.send).
			continue
		}
		err = publishErr(err)
		if b.stop {
			// Cut off, the message counts as sent: report it like a
			// failed acknowledgement, to done and to Flush.
			e.complete(Delivery{Station: sp.name, Partition: e.partition, Err: err})
			continue
		}
		p.win.release([]int64{e.size})
		b.fail(p, e.idx, size(e), true, sp.name, err)
	}
	return nil
}
