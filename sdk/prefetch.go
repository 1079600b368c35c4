package sdk

import (
	"context"
	"time"
)

// The consume loop fetches the next batch while the handler works on the
// one before, so the broker's round trip overlaps the handler instead of
// adding to it (JetStream's own consume does the same). It does so only
// when the station has a backlog (the batch just fetched was full) and the
// handler is quick next to the ack wait: a message fetched ahead waits up
// to one handler call and one pull interval before its handler runs, and
// its ack-wait clock is already running. A batch fetched ahead that is
// never handed to the handler (the loop stopped) is given back to the
// broker at once, so the group's other consumers get it without waiting
// out the ack wait.

// prefetchAckShare is the largest share of the ack wait that the previous
// handler call plus the pull interval may take for the loop to fetch ahead.
const prefetchAckShare = 4

// prefetch is one batch being fetched while the handler runs.
type prefetch struct {
	done   chan struct{}
	change <-chan struct{} // the link-change signal the fetch started under
	msgs   []*Message
	err    error
}

// prefetchWorthwhile says whether to fetch ahead after a batch of n
// messages whose predecessor's handler took handlerTime.
func (c *Consumer) prefetchWorthwhile(n int, handlerTime time.Duration) bool {
	return n >= c.opts.BatchSize && (handlerTime+c.opts.PullInterval)*prefetchAckShare < c.opts.MaxAckTime
}

// startPrefetch starts fetching the next batch; the loop takes it with wait.
func (c *Consumer) startPrefetch(ctx context.Context, p PartitionSelector) *prefetch {
	f := &prefetch{done: make(chan struct{}), change: c.conn.linkChanged()}
	go func() {
		defer close(f.done)
		f.msgs, f.err = c.fetchBatch(ctx, "consume", c.opts.BatchSize, p)
	}()
	return f
}

// wait returns the batch fetched ahead, once its fetch has ended (a
// stopped loop's context ends it at once).
func (f *prefetch) wait() ([]*Message, <-chan struct{}, error) {
	<-f.done
	return f.msgs, f.change, f.err
}

// release gives a batch fetched ahead, and never handed over, back to the
// broker. Safe on nil.
func (f *prefetch) release() {
	if f == nil {
		return
	}
	<-f.done
	releaseUnhanded(f.msgs)
}

// releaseUnhanded asks the broker to redeliver messages the handler never
// saw. Best effort: a message whose answer is lost (the connection is
// closing) comes back after the ack wait, as it would have anyway. It is
// not counted as a nack: the application never had it.
func releaseUnhanded(msgs []*Message) {
	for _, m := range msgs {
		if !m.dls {
			_ = m.reply("release", nakPayload) //nolint:errcheck // best effort, see above
		}
	}
}
