package sdk

import (
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
)

// maxDLSBuffered bounds the resent poison messages held for one consumer,
// like memphis.go. When full the oldest is dropped: it stays in the
// broker's dead-letter store and can be resent again.
const maxDLSBuffered = 10000

// dlsBuffer holds poison messages resent to the group until the consume
// loop or Fetch picks them up.
type dlsBuffer struct {
	mu     sync.Mutex
	msgs   []*nats.Msg
	notify chan struct{} // capacity 1: wakes a waiting consume loop
	closed bool
}

func (b *dlsBuffer) init() { b.notify = make(chan struct{}, 1) }

// push buffers m and reports whether the oldest message was dropped to
// make room.
func (b *dlsBuffer) push(m *nats.Msg) (dropped bool) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	if len(b.msgs) >= maxDLSBuffered {
		b.msgs = b.msgs[1:]
		dropped = true
	}
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return dropped
}

// take removes up to n buffered messages.
func (b *dlsBuffer) take(n int) []*nats.Msg {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.msgs) == 0 {
		return nil
	}
	if n > len(b.msgs) {
		n = len(b.msgs)
	}
	out := append([]*nats.Msg(nil), b.msgs[:n]...)
	b.msgs = b.msgs[n:]
	return out
}

func (b *dlsBuffer) close() {
	b.mu.Lock()
	b.closed = true
	b.msgs = nil
	b.mu.Unlock()
}

// onDLS receives a resend from $memphis_dls_<station>.<group>.
func (c *Consumer) onDLS(m *nats.Msg) {
	c.stats.dlsMessages.inc()
	if !c.dls.push(m) {
		return
	}
	c.stats.dlsDropped.inc()
	if logOn(c.conn.log, slog.LevelWarn) {
		if ok, suppressed := c.dlsLog.allow(); ok {
			logAttrs(c.conn.log, slog.LevelWarn, "poison-message resends arrive faster than they are consumed: the oldest buffered one was dropped (it stays in the dead-letter station)",
				slog.String("consumer", c.name), slog.String("station", c.opts.StationName), slog.Int("buffered", maxDLSBuffered),
				slog.Uint64("more_dropped", suppressed))
		}
	}
}

// takeDLS wraps up to n buffered resends as Messages.
func (c *Consumer) takeDLS(n int) []*Message {
	raw := c.dls.take(n)
	if len(raw) == 0 {
		return nil
	}
	out := make([]*Message, len(raw))
	for i, m := range raw {
		out[i] = &Message{cons: c, msg: m, dls: true}
	}
	return out
}
