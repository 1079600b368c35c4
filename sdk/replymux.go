package sdk

import (
	"strconv"
	"sync"
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
}

// replyMux routes replies of many pipelined requests (PubAcks of
// nonblocking produces, confirmations of batch acks) through one wildcard
// inbox subscription. Unlike a request per message it needs no channel,
// goroutine or subscription per message, and one sweeper enforces every
// deadline, so a lost reply always becomes a reported timeout.
type replyMux struct {
	nc     *nats.Conn
	prefix string
	sub    *nats.Subscription

	mu      sync.Mutex
	next    uint64
	pending map[uint64]pendingReply
	closed  bool

	stop chan struct{}
	done chan struct{}
}

// sweepEvery bounds how late a timeout is reported after its deadline.
const sweepEvery = 100 * time.Millisecond

func newReplyMux(nc *nats.Conn) (*replyMux, error) {
	m := &replyMux{
		nc:      nc,
		prefix:  nc.NewInbox() + ".",
		pending: make(map[uint64]pendingReply, 1024),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	sub, err := nc.Subscribe(m.prefix+"*", m.dispatch)
	if err != nil {
		return nil, err
	}
	// A nonblocking producer may have thousands of acks in flight; the
	// default pending limits are large enough, but never drop replies.
	_ = sub.SetPendingLimits(-1, -1)
	m.sub = sub
	go m.sweep()
	return m, nil
}

// register reserves a reply subject for h, failing h with a timeout if no
// reply arrives before deadline.
func (m *replyMux) register(h replyHandler, deadline time.Time) (uint64, string, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return 0, "", ErrClosed
	}
	m.next++
	id := m.next
	m.pending[id] = pendingReply{deadline: deadline.UnixNano(), h: h}
	m.mu.Unlock()
	return id, m.subject(id), nil
}

// registerRange registers n handlers under one lock acquisition; they get
// the consecutive ids first..first+n-1. entry(j) gives the j-th handler and
// its deadline; it runs with the mux locked and must not call back into it.
func (m *replyMux) registerRange(n int, entry func(j int) pendingReply) (first uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	first = m.next + 1
	for j := range n {
		m.pending[first+uint64(j)] = entry(j)
	}
	m.next += uint64(n)
	return first, nil
}

// subject is the reply subject of registration id.
func (m *replyMux) subject(id uint64) string {
	var buf [20]byte
	return m.prefix + string(strconv.AppendUint(buf[:0], id, 36))
}

// cancel forgets a registration whose request could not be sent. It
// reports false when the registration was already gone: the sweeper or
// close has then handed its handler a timeout/ErrClosed, and the caller
// must not report the failure a second time.
func (m *replyMux) cancel(id uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[id]; !ok {
		return false
	}
	delete(m.pending, id)
	return true
}

func (m *replyMux) dispatch(msg *nats.Msg) {
	tok := msg.Subject[len(m.prefix):]
	id, err := strconv.ParseUint(tok, 36, 64)
	if err != nil {
		return
	}
	m.mu.Lock()
	p, ok := m.pending[id]
	if ok {
		delete(m.pending, id)
	}
	m.mu.Unlock()
	if ok {
		p.h.onReply(msg, nil)
	}
}

func (m *replyMux) sweep() {
	defer close(m.done)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	var expired []replyHandler
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			n := now.UnixNano()
			expired = expired[:0]
			m.mu.Lock()
			for id, p := range m.pending {
				if p.deadline <= n {
					expired = append(expired, p.h)
					delete(m.pending, id)
				}
			}
			m.mu.Unlock()
			for _, h := range expired {
				h.onReply(nil, ErrTimeout)
			}
		}
	}
}

// close fails every outstanding registration with ErrClosed and ends the
// sweeper; it waits for the sweeper so no goroutine outlives Close.
func (m *replyMux) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	left := m.pending
	m.pending = nil
	m.mu.Unlock()
	close(m.stop)
	<-m.done
	_ = m.sub.Unsubscribe()
	for _, p := range left {
		p.h.onReply(nil, ErrClosed)
	}
}
