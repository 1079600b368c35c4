package sdk

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

// ConsumeHandler receives each batch, or an error and no messages. err is
// ErrNoMessages (match with errors.Is) when the station had nothing within
// the batch wait; other errors report an outage, after which the loop keeps
// trying until the broker is back. userCtx is the value of SetContext.
type ConsumeHandler func(msgs []*Message, err error, userCtx any)

// consumeLoop is one running Consume.
type consumeLoop struct {
	cancel context.CancelFunc
	done   chan struct{}
	goid   atomic.Uint64 // goroutine running the loop (and the handler)
}

// maxRetryWait caps the pause between attempts while the broker is away
// (or stalled); a reconnect ends the pause at once.
const maxRetryWait = time.Second

// Consume starts the consume loop and returns at once. The loop fetches a
// batch (DLS resends first), calls h, pauses PullInterval, and repeats.
// While the station has a backlog and h is quick next to MaxAckTime, the
// next batch is fetched while h works on the current one (prefetch.go);
// a stopped loop gives such a batch back to the broker at once.
// It never ends by itself: errors go to h and the loop carries on; only
// StopConsume, Destroy or Conn.Close end it.
func (c *Consumer) Consume(h ConsumeHandler, p PartitionSelector) error {
	const op = "consume"
	if c == nil {
		return newErr(CodeInvalidArgument, op, "nil consumer")
	}
	if h == nil {
		return newErr(CodeInvalidArgument, op, "handler is nil")
	}
	if _, err := c.parts.pick(op, p.Key, p.Number); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return &Error{Code: CodeClosed, Op: op, Err: errConsumerDestroyed}
	}
	if c.loop != nil {
		return newErr(CodeInvalidArgument, op, "consumer is already consuming")
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &consumeLoop{cancel: cancel, done: make(chan struct{})}
	c.loop = l
	go c.run(ctx, l, h, p)
	return nil
}

// StopConsume ends the consume loop and waits until the handler has
// returned (unless called from within the handler itself). Stopping a
// consumer that is not consuming is an error, as in memphis.go.
func (c *Consumer) StopConsume() error {
	if c == nil {
		return newErr(CodeInvalidArgument, "stop consume", "nil consumer")
	}
	c.mu.Lock()
	l := c.loop
	c.loop = nil
	c.mu.Unlock()
	if l == nil {
		return newErr(CodeInvalidArgument, "stop consume", "consumer is inactive")
	}
	l.stopAndWait()
	return nil
}

func (l *consumeLoop) stopAndWait() {
	l.cancel()
	if l.goid.Load() == curGoroutineID() {
		return // called from the handler: the loop ends when it returns
	}
	<-l.done
}

func (c *Consumer) run(ctx context.Context, l *consumeLoop, h ConsumeHandler, p PartitionSelector) {
	l.goid.Store(curGoroutineID())
	defer close(l.done)
	var ahead *prefetch
	defer func() { ahead.release() }()
	retryWait := time.Duration(0)
	handlerTime := time.Duration(0)
	epoch := c.conn.disconnects.Load()
	for ctx.Err() == nil {
		// A reconnect between two fetches would otherwise go unnoticed:
		// report every outage, even one that healed in between.
		if cur := c.conn.disconnects.Load(); cur != epoch {
			epoch = cur
			h(nil, &Error{Code: CodeNotConnected, Op: "consume",
				Msg: "connection to the broker was lost; consuming resumes when it is back"}, c.context())
			if ctx.Err() != nil {
				return
			}
		}
		change := c.conn.linkChanged() // closed by a reconnect (or disconnect) during this round
		// DLS resends go first, even before a batch fetched ahead.
		msgs := c.takeDLS(c.opts.BatchSize)
		fetched := false
		var err error
		if len(msgs) == 0 {
			fetched = true
			if ahead != nil {
				msgs, change, err = ahead.wait()
				ahead = nil
			} else {
				msgs, err = c.fetchBatch(ctx, "consume", c.opts.BatchSize, p)
			}
		}
		if ctx.Err() != nil {
			// Stopped mid-fetch: whatever arrived goes back at once (it
			// was never handed to the user).
			releaseUnhanded(msgs)
			return
		}
		switch {
		case len(msgs) > 0:
			retryWait = 0
			if fetched && ahead == nil && c.prefetchWorthwhile(len(msgs), handlerTime) {
				ahead = c.startPrefetch(ctx, p)
			}
			c.stats.delivered.add(uint64(len(msgs)))
			start := time.Now()
			h(msgs, nil, c.context())
			handlerTime = time.Since(start)
			c.stats.handler.record(handlerTime)
			c.pause(ctx, c.opts.PullInterval, nil)
		case err != nil:
			if logOn(c.conn.log, slog.LevelDebug) {
				logAttrs(c.conn.log, slog.LevelDebug, "consume: fetch failed; retrying", slog.String("consumer", c.name),
					slog.String("station", c.opts.StationName), slog.Any("error", err))
			}
			h(nil, err, c.context())
			// Back off while the broker is away, but keep trying forever,
			// and try again as soon as the connection is back.
			retryWait = min(max(2*retryWait, c.opts.PullInterval/4, 50*time.Millisecond), maxRetryWait)
			if c.pause(ctx, retryWait, change) {
				retryWait = 0
			}
		default:
			retryWait = 0
			h(nil, ErrNoMessages, c.context())
			if c.opts.BatchMaxWait < c.opts.PullInterval {
				c.pause(ctx, c.opts.PullInterval, nil)
			}
		}
	}
}

// pause waits d, ending early on stop, when a DLS resend arrives or when
// change is closed (it then reports true).
func (c *Consumer) pause(ctx context.Context, d time.Duration, change <-chan struct{}) bool {
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-c.dls.notify:
		// A poison-message resend arrived: deliver it without waiting.
	case <-change:
		return true
	}
	return false
}

// curGoroutineID parses the running goroutine's id from its stack header
// ("goroutine 42 [running]:"). Only used on the rare stop path, to avoid a
// handler deadlocking on its own loop.
func curGoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
