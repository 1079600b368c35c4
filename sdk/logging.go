package sdk

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// The library's events go to ConnectOptions.Logger (nil: nowhere). What is
// logged, at which level:
//
//	Info   connected; reconnected (with the outage's length); resending
//	       messages after a reconnect; a station's schema changed; closed
//	Warn   disconnected; a slow consumer dropped messages; a nonblocking
//	       produce failed and no callback was told (at most one record per
//	       second per producer, counting the others); the broker was
//	       overloaded and produces are retried (one per second per
//	       connection); a control request timed out and is retried; the
//	       poison-message buffer overflowed
//	Error  the connection closed for good (reconnect attempts ran out)
//	Debug  failures also reported to a callback or handler
//
// Records carry the connection id (connection_id) and the event's details
// as attributes. The logger's handler runs on library goroutines, never
// while the library holds one of its locks; it must not block for long.
// Nothing is ever printed by the library itself.

// discardLogger stands in for a nil ConnectOptions.Logger.
var discardLogger = slog.New(slog.DiscardHandler)

func newConnLogger(l *slog.Logger, connID string) *slog.Logger {
	if l == nil {
		return discardLogger
	}
	return l.With(slog.String("connection_id", connID))
}

// logOn reports whether l records level: callers check it before building
// a record's attributes on paths that run per message.
func logOn(l *slog.Logger, level slog.Level) bool {
	return l.Enabled(context.Background(), level)
}

func logAttrs(l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	l.LogAttrs(context.Background(), level, msg, attrs...)
}

// logLimit lets one record through per second and counts the rest, for
// events that can come in floods (a failed burst of produces).
type logLimit struct {
	next       atomic.Int64 // Unix ns before which records are suppressed
	suppressed atomic.Uint64
}

// allow reports whether a record may be logged now and, if so, how many
// were suppressed since the last one.
func (l *logLimit) allow() (bool, uint64) {
	now := time.Now().UnixNano()
	n := l.next.Load()
	if now < n || !l.next.CompareAndSwap(n, now+int64(time.Second)) {
		l.suppressed.Add(1)
		return false, 0
	}
	return true, l.suppressed.Swap(0)
}

// logOverload logs that produces are retried after an overload answer
// (429, no responders): one record a second per connection.
func (c *Conn) logOverload(err error) {
	if !logOn(c.log, slog.LevelWarn) {
		return
	}
	ok, suppressed := c.overloadLog.allow()
	if !ok {
		return
	}
	logAttrs(c.log, slog.LevelWarn, "broker overloaded or unavailable; retrying produces within their ack wait",
		slog.Any("error", err), slog.Uint64("more_retries", suppressed))
}
