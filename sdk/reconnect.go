package sdk

import (
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// link follows the connection through losses and reconnects.
//
// Three facts drive what the client does across an outage:
//   - Conn.gen changes before every reconnect attempt, inside nats.go's
//     reconnect loop and under its connection lock, so no publish can
//     reach a new socket before the change is visible (see replyMux).
//   - While the connection is down, nats.go refuses publishes at once
//     (no reconnect buffer): produces stay with the client and are resent
//     in order after the reconnect; acks fail fast instead of waiting.
//   - While the broker is away, its port is probed every probeEvery and a
//     reconnect is attempted as soon as it accepts connections, instead of
//     only every ReconnectInterval, so work resumes within moments of the
//     broker being reachable again.
type link struct {
	mu       sync.Mutex
	change   chan struct{} // closed by the next disconnect, reconnect or close, then replaced
	changed  time.Time     // last disconnect or reconnect
	probeWon bool          // the last reconnect wait ended early on a probe
	server   string        // address of the node connected to last (logs name the one lost)
}

// setServer records the address of the node just connected to.
func (l *link) setServer(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.server = addr
}

// lastServer is the address of the node connected to last.
func (l *link) lastServer() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.server
}

// probeEvery is how often a lost broker's port is tried while reconnecting.
const probeEvery = 100 * time.Millisecond

// outageSettle is how long after a disconnect or reconnect a "no
// responders" answer is taken for the broker still starting up.
const outageSettle = 10 * time.Second

// linkOptions installs the reconnect behaviour on a (non-probe) connection.
func (c *Conn) linkOptions(o *nats.Options) {
	c.link.change = make(chan struct{})
	o.ReconnectBufSize = -1
	o.ReconnectToServerCB = func([]nats.Server, nats.ServerInfo) (*nats.Server, time.Duration) {
		// Called under nats.go's connection lock before every attempt;
		// nil, 0 keeps nats.go's own choice of server and timing.
		c.gen.Add(1)
		return nil, 0
	}
	o.CustomReconnectDelayCB = c.reconnectDelay
	o.DisconnectedErrCB = func(_ *nats.Conn, err error) {
		c.disconnects.Add(1)
		c.noteLinkChange()
		<-c.ready
		if !c.isClosed() { // Close itself is no outage
			c.stats.linkLost()
			// The node lost, not the whole list a cluster's client was given.
			server := c.link.lastServer()
			if server == "" {
				server = c.url()
			}
			attrs := []slog.Attr{slog.String("server", server)}
			if err != nil {
				attrs = append(attrs, slog.Any("error", err))
			}
			logAttrs(c.log, slog.LevelWarn, "disconnected from the broker", attrs...)
		}
		if c.replies != nil {
			c.replies.failWaiters(errAckLinkLost)
		}
	}
	o.ReconnectedCB = func(nc *nats.Conn) {
		c.noteLinkChange()
		<-c.ready
		c.stats.reconnects.inc()
		c.link.setServer(nc.ConnectedAddr())
		outage := c.stats.linkBack()
		logAttrs(c.log, slog.LevelInfo, "reconnected", slog.String("server", nc.ConnectedAddr()),
			slog.Duration("outage", outage))
		if c.replies != nil {
			c.replies.wakeResender()
		}
	}
	o.ClosedCB = func(*nats.Conn) {
		c.noteLinkChange()
		<-c.ready
		c.stats.linkBack()
		// Not after Close, nor for a Connect that gave up half-way.
		if !c.isClosed() && !c.stats.connectedAt.IsZero() {
			msg := "connection to the broker closed for good: the reconnect attempts ran out; connect again"
			if !c.opts.Reconnect {
				msg = "connection to the broker closed for good: reconnecting is off; connect again"
			}
			logAttrs(c.log, slog.LevelError, msg, slog.Int("max_reconnect", c.opts.MaxReconnect))
		}
		if c.replies != nil {
			// After Close this is a no-op; otherwise the reconnect
			// attempts ran out and nothing pending can complete.
			c.replies.close(errLinkClosed)
		}
	}
}

var (
	errAckLinkLost = &Error{Code: CodeNotConnected, Op: opAck,
		Msg: "connection to the broker was lost before the ack was confirmed; the message may be redelivered"}
	errLinkClosed = &Error{Code: CodeClosed,
		Msg: "connection to the broker closed after the reconnect attempts ran out; connect again"}
)

// noteLinkChange records a disconnect, reconnect or close.
func (c *Conn) noteLinkChange() {
	c.link.mu.Lock()
	defer c.link.mu.Unlock()
	c.link.changed = time.Now()
	close(c.link.change)
	c.link.change = make(chan struct{})
}

// linkChanged is closed by the next disconnect, reconnect or close: fetches
// and consume loops waiting on it react at once instead of timing out.
func (c *Conn) linkChanged() <-chan struct{} {
	c.link.mu.Lock()
	defer c.link.mu.Unlock()
	return c.link.change
}

// unsettled reports whether the link went down or came back recently, or
// is down now: a "no responders" answer then means an outage.
func (c *Conn) unsettled() bool {
	if !c.nc.IsConnected() {
		return true
	}
	c.link.mu.Lock()
	defer c.link.mu.Unlock()
	return !c.link.changed.IsZero() && time.Since(c.link.changed) < outageSettle
}

// reconnectDelay is nats.go's wait before a reconnect attempt. It probes
// the broker's port meanwhile and ends the wait once it accepts
// connections. After such an early attempt failed (the port is open but
// the broker is not ready), the next wait is the full interval, so a
// half-started broker is not hammered.
func (c *Conn) reconnectDelay(int) time.Duration {
	interval := c.opts.ReconnectInterval
	if interval <= 0 {
		interval = nats.DefaultReconnectWait
	}
	c.link.mu.Lock()
	early := !c.link.probeWon
	c.link.mu.Unlock()
	if !early {
		c.link.mu.Lock()
		c.link.probeWon = false
		c.link.mu.Unlock()
		return interval
	}
	won := c.waitReachable(interval)
	c.link.mu.Lock()
	c.link.probeWon = won
	c.link.mu.Unlock()
	return 0 // waitReachable used up the interval, or the port is open
}

// waitReachable probes the broker's port (in a cluster: every node's, the
// ones given in Host and the ones the cluster advertised) until one
// accepts a TCP connection (true) or d passes or the connection is closed
// (false).
func (c *Conn) waitReachable(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		for _, addr := range c.probeAddrs() {
			conn, err := net.DialTimeout("tcp", addr, min(probeEvery, left))
			if err == nil {
				_ = conn.Close()
				return true
			}
		}
		select {
		case <-c.closing:
			return false
		case <-time.After(min(probeEvery, time.Until(deadline))):
		}
	}
}

// probeAddrs lists the "host:port" of every server nats.go may reconnect
// to. nats.go calls reconnectDelay without its connection lock held.
func (c *Conn) probeAddrs() []string {
	<-c.ready // c.nc is set by then
	if c.nc == nil {
		return c.addrs
	}
	var out []string
	for _, u := range c.nc.Servers() {
		if p, err := url.Parse(u); err == nil && p.Host != "" {
			out = append(out, p.Host)
		}
	}
	if len(out) == 0 {
		return c.addrs
	}
	return out
}
