package sdk

import (
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// replyHandler receives the reply to one request sent through a replyMux,
// or an error when the reply did not come in time or the mux closed.
type replyHandler interface {
	onReply(m *nats.Msg, err error)
}

type pendingReply struct {
	deadline int64 // unix nanoseconds
	h        replyHandler
	out      *pubEntry // a produce: resent after a reconnect, retried after overload
}

// replyMux routes replies of many pipelined requests (PubAcks of
// produces, confirmations of batch acks) through wildcard inbox
// subscriptions. Unlike a request per message it needs no channel,
// goroutine or subscription per message, and one sweeper enforces every
// deadline, so a lost reply always becomes a reported timeout.
//
// Replies that run user code (delivery callbacks of nonblocking produces)
// arrive on one subscription, those of callers waiting in the library
// (sync produce, ack confirmations) on another, each dispatched by its own
// goroutine: a delivery callback that calls Produce or AckAll waits for a
// reply the other goroutine delivers, instead of for itself.
//
// It also keeps produces alive across connection losses. Every produce
// stays registered with its retained message until its result is final.
// The connection's generation (gen) changes before every reconnect
// attempt, under nats.go's connection lock, so a message handed to
// nats.go in an older generation may have been lost with the old socket:
// after the reconnect the resender sends every such message again, in
// registration order, before any newer message goes out directly (okGen
// opens the direct path again once nothing older is left to resend). The
// broker de-duplicates resends that carry a msg id.
//
// The registrations are split over replyShards shards by id, each with its
// own lock, so that many producers on one connection and the reply
// goroutines do not queue on one lock. What must be seen alike by every
// registration (closed, okGen) is written with every shard locked
// (lockAll) and read with any one locked.
type replyMux struct {
	nc      *nats.Conn
	log     *slog.Logger
	gen     *atomic.Uint64 // Conn.gen
	prefix  string         // replies handed to user callbacks
	waitPfx string         // replies of callers waiting in the library
	subs    [2]*nats.Subscription
	next    atomic.Uint64 // last id handed out

	shards [replyShards]replyShard
	// Written under every shard's lock (lockAll), read under any one.
	closed bool
	// okGen is the generation in which produces may be handed to nats.go
	// directly: the resender sets it once every older produce was sent
	// again in the current one.
	okGen uint64

	kick      chan struct{} // wakes the resender
	loggedGen uint64        // generation whose resend was logged (resender only)
	stop      chan struct{}
	done      sync.WaitGroup // sweeper and resender
}

// replyShards is the number of independently locked parts of a replyMux:
// a registration's shard is its id's low replyShardBits bits.
const (
	replyShardBits = 4
	replyShards    = 1 << replyShardBits
)

// replyShard holds the registrations whose id falls in it.
type replyShard struct {
	mu      sync.Mutex
	pending replyTable
	// retrying counts pending produces held for an overload backoff, so
	// the sweeper looks for them only when there are some.
	retrying int
	// soonest is at or before the earliest deadline in pending (unix ns;
	// math.MaxInt64 when empty): the sweeper skips the shard until then
	// instead of reading every registration ten times a second.
	soonest int64
	_       [48]byte // two cache lines per shard: no false sharing of locks
}

// add registers p under id; s.mu must be held.
func (s *replyShard) add(id uint64, p pendingReply) {
	s.pending.put(id, p)
	s.soonest = min(s.soonest, p.deadline)
}

func (m *replyMux) shard(id uint64) *replyShard { return &m.shards[id&(replyShards-1)] }

// lockAll locks every shard, always in the same order.
func (m *replyMux) lockAll() {
	for i := range m.shards {
		m.shards[i].mu.Lock()
	}
}

func (m *replyMux) unlockAll() {
	for i := range m.shards {
		m.shards[i].mu.Unlock()
	}
}

// sweepEvery bounds how late a timeout is reported after its deadline and
// how late an overload retry is sent after its backoff.
const sweepEvery = 100 * time.Millisecond

func newReplyMux(nc *nats.Conn, gen *atomic.Uint64, log *slog.Logger) (*replyMux, error) {
	inbox := nc.NewInbox()
	m := &replyMux{
		nc:      nc,
		log:     log,
		gen:     gen,
		prefix:  inbox + ".",
		waitPfx: inbox + "-w.",
		okGen:   gen.Load(),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].pending = newReplyTable(uint64(i))
		m.shards[i].soonest = math.MaxInt64
	}
	for i, pfx := range []string{m.prefix, m.waitPfx} {
		sub, err := nc.Subscribe(pfx+"*", func(msg *nats.Msg) { m.dispatch(msg, len(pfx)) })
		if err != nil {
			if i > 0 {
				_ = m.subs[0].Unsubscribe()
			}
			return nil, err
		}
		// A nonblocking producer may have thousands of acks in flight; the
		// default pending limits are large enough, but never drop replies.
		_ = sub.SetPendingLimits(-1, -1)
		m.subs[i] = sub
	}
	m.done.Add(2)
	go m.sweep()
	go m.resendLoop()
	return m, nil
}

// register reserves a reply subject for h, failing h with a timeout if no
// reply arrives before deadline.
func (m *replyMux) register(h replyHandler, deadline time.Time) (uint64, string, error) {
	id := m.next.Add(1)
	s := m.shard(id)
	s.mu.Lock()
	if m.closed {
		s.mu.Unlock()
		return 0, "", ErrClosed
	}
	s.add(id, pendingReply{deadline: deadline.UnixNano(), h: h})
	s.mu.Unlock()
	return id, m.subject(id, true), nil
}

// registerOut registers the produces es (consecutive ids, their reply
// subjects set) and says whether the caller may hand them to nats.go now
// (direct) or the resender will, after the reconnect that is under way.
// Several produces are registered under every shard's lock, so that the
// resender sees all or none of them and they share one direct decision.
func (m *replyMux) registerOut(es ...*pubEntry) (direct bool, err error) {
	first := m.next.Add(uint64(len(es))) - uint64(len(es)) + 1
	for j, e := range es {
		e.id = first + uint64(j)
		e.reply = m.subject(e.id, e.sync || e.done == nil && e.batchDone == nil)
	}
	var s *replyShard
	if len(es) == 1 {
		s = m.shard(es[0].id)
		s.mu.Lock()
	} else {
		m.lockAll()
	}
	unlock := func() {
		if s != nil {
			s.mu.Unlock()
		} else {
			m.unlockAll()
		}
	}
	if m.closed {
		unlock()
		return false, ErrClosed
	}
	g := m.gen.Load()
	direct = g == m.okGen
	for _, e := range es {
		if direct {
			e.sentGen, e.sends = g, 1
		}
		m.shard(e.id).add(e.id, pendingReply{deadline: e.deadline, h: e, out: e})
	}
	unlock()
	if !direct {
		m.wakeResender()
	}
	return direct, nil
}

// retry registers e again, to be sent after its backoff (at, unix
// nanoseconds). It reports false once the mux is closed.
func (m *replyMux) retry(e *pubEntry, at int64) bool {
	s := m.shard(e.id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.closed {
		return false
	}
	e.sentGen, e.retryAt = 0, at
	s.retrying++
	s.add(e.id, pendingReply{deadline: e.deadline, h: e, out: e})
	return true
}

// subject is the reply subject of registration id: on the waiters'
// subscription when no user callback runs for it.
func (m *replyMux) subject(id uint64, waiter bool) string {
	var buf [20]byte
	pfx := m.prefix
	if waiter {
		pfx = m.waitPfx
	}
	return pfx + string(strconv.AppendUint(buf[:0], id, 36))
}

// cancel forgets a registration whose request could not be sent. It
// reports false when the registration was already gone: the sweeper or
// close has then handed its handler a timeout/ErrClosed, and the caller
// must not report the failure a second time.
func (m *replyMux) cancel(id uint64) bool {
	s := m.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.pending.take(id)
	return ok
}

func (m *replyMux) dispatch(msg *nats.Msg, pfxLen int) {
	tok := msg.Subject[pfxLen:]
	id, err := strconv.ParseUint(tok, 36, 64)
	if err != nil {
		return
	}
	s := m.shard(id)
	s.mu.Lock()
	p, ok := s.pending.take(id)
	s.mu.Unlock()
	if ok {
		p.h.onReply(msg, nil)
	}
}

func (m *replyMux) sweep() {
	defer m.done.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	var expired []replyHandler
	var due []*pubEntry
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			n := now.UnixNano()
			expired, due = expired[:0], due[:0]
			for i := range m.shards {
				expired, due = m.sweepShard(&m.shards[i], n, expired, due)
			}
			// Retries due in different shards go out in registration order.
			slices.SortFunc(due, func(a, b *pubEntry) int { return cmpUint64(a.id, b.id) })
			for _, h := range expired {
				h.onReply(nil, ErrTimeout)
			}
			m.sendAll(due)
			clear(expired)
			clear(due)
		}
	}
}

// sweepShard takes out of s the registrations whose deadline (unix ns n)
// passed, appending them to expired, and claims the produces whose
// overload backoff ended, appending them to due.
func (m *replyMux) sweepShard(s *replyShard, n int64, expired []replyHandler, due []*pubEntry) ([]replyHandler, []*pubEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := m.gen.Load()
	canSend := g == m.okGen
	// retrying is a hint (raised by retry, recounted here): only then
	// does the scan look into the entries themselves.
	scanRetries, held := s.retrying > 0, 0
	if !scanRetries && n < s.soonest {
		return expired, due
	}
	soonest := int64(math.MaxInt64)
	s.pending.each(func(_ uint64, p pendingReply) bool {
		switch {
		case p.deadline <= n:
			expired = append(expired, p.h)
			return true
		case scanRetries && p.out != nil && p.out.retryAt != 0:
			if canSend && p.out.retryAt <= n {
				due = append(due, m.claim(p.out, g))
			} else {
				held++
			}
		}
		soonest = min(soonest, p.deadline)
		return false
	})
	s.soonest = soonest
	if scanRetries {
		s.retrying = held
	}
	return expired, due
}

// claim marks e as sent in generation g; e's shard must be locked and e pending.
func (m *replyMux) claim(e *pubEntry, g uint64) *pubEntry {
	e.sentGen, e.retryAt = g, 0
	e.sends++
	return e
}

func (m *replyMux) wakeResender() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *replyMux) resendLoop() {
	defer m.done.Done()
	for {
		select {
		case <-m.stop:
			return
		case <-m.kick:
			m.resend()
		}
	}
}

// resend sends every produce that was not handed to nats.go in the current
// generation, oldest first, and repeats until none is left; then it opens
// the direct path. New produces registered meanwhile wait for it (their
// registerOut sees okGen behind), so nothing overtakes a resent message.
func (m *replyMux) resend() {
	for round := 0; ; round++ {
		if !m.nc.IsConnected() {
			return // the next reconnect wakes the resender again
		}
		m.lockAll()
		if m.closed {
			m.unlockAll()
			return
		}
		g := m.gen.Load()
		var stale []*pubEntry
		for i := range m.shards {
			m.shards[i].pending.each(func(_ uint64, p pendingReply) bool {
				if p.out != nil && p.out.sentGen != g {
					stale = append(stale, m.claim(p.out, g))
				}
				return false
			})
		}
		if len(stale) == 0 {
			m.okGen = g
			m.unlockAll()
			return
		}
		m.unlockAll()
		if round == 0 && m.loggedGen != g {
			m.loggedGen = g
			logAttrs(m.log, slog.LevelInfo, "sending the messages held or not acknowledged across the reconnect, in order",
				slog.Int("messages", len(stale)))
		}
		slices.SortFunc(stale, func(a, b *pubEntry) int { return cmpUint64(a.id, b.id) })
		if !m.sendAll(stale) {
			return
		}
	}
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sendAll publishes claimed entries in order. When the connection goes
// down midway it stops, hands the unsent rest back (the next generation's
// resend covers them) and reports false.
func (m *replyMux) sendAll(es []*pubEntry) bool {
	for i, e := range es {
		err := e.publish(m.nc)
		if err != nil && linkDown(err) {
			if !neverLeft(err) {
				i++ // it may have left: its send counts
			}
			m.unclaim(es[i:])
			return false
		}
		if err != nil && m.cancel(e.id) {
			// Cannot be sent at all (e.g. over the max payload of the
			// server reconnected to): final.
			e.complete(Delivery{Station: e.sp.name, Partition: e.partition, Err: publishErr(err)})
		}
	}
	return true
}

// notSent records that nats.go refused e's direct send while the
// connection was down: it never left the client, so its resend after the
// reconnect is its first send (not a retry, not a possible duplicate).
func (m *replyMux) notSent(e *pubEntry) {
	s := m.shard(e.id)
	s.mu.Lock()
	if s.pending.has(e.id) && e.sends > 0 {
		e.sends--
		e.sentGen = 0
	}
	s.mu.Unlock()
}

// unclaim undoes claim for entries that were not sent after all.
func (m *replyMux) unclaim(es []*pubEntry) {
	for _, e := range es {
		s := m.shard(e.id)
		s.mu.Lock()
		if s.pending.has(e.id) {
			e.sends--
			e.sentGen = 0
		}
		s.mu.Unlock()
	}
}

// failWaiters fails every registration that is not a produce (ack
// confirmations): after a disconnect their replies will not come, and
// waiting out their deadlines would stall consumers.
func (m *replyMux) failWaiters(err error) {
	var hs []replyHandler
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.pending.each(func(_ uint64, p pendingReply) bool {
			if p.out == nil {
				hs = append(hs, p.h)
				return true
			}
			return false
		})
		s.mu.Unlock()
	}
	for _, h := range hs {
		h.onReply(nil, err)
	}
}

// failProduces fails the pending produces for which match holds.
func (m *replyMux) failProduces(match func(*pubEntry) bool, err error) {
	var es []*pubEntry
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.pending.each(func(_ uint64, p pendingReply) bool {
			if p.out != nil && match(p.out) {
				es = append(es, p.out)
				return true
			}
			return false
		})
		s.mu.Unlock()
	}
	for _, e := range es {
		e.complete(Delivery{Station: e.sp.name, Partition: e.partition, Err: err})
	}
}

// close fails every outstanding registration with err (nil: ErrClosed)
// and ends the sweeper and resender; it waits for them so no goroutine
// outlives Close.
func (m *replyMux) close(err error) {
	if err == nil {
		err = ErrClosed
	}
	m.lockAll()
	if m.closed {
		m.unlockAll()
		return
	}
	m.closed = true
	var left []pendingReply
	for i := range m.shards {
		m.shards[i].pending.each(func(_ uint64, p pendingReply) bool {
			left = append(left, p)
			return true
		})
	}
	m.unlockAll()
	close(m.stop)
	m.done.Wait()
	for _, sub := range m.subs {
		_ = sub.Unsubscribe()
	}
	for _, p := range left {
		p.h.onReply(nil, err)
	}
}
