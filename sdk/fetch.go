package sdk

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// PartitionSelector chooses the partition a fetch reads. The zero value
// means round robin over the station's partitions.
type PartitionSelector struct {
	Key    string // murmur3 routing key, as for produce
	Number int    // explicit partition, 1-based
}

const opFetch = "fetch"

// pullGrace is how much longer than the pull's own expiry the client waits
// for the broker's end-of-batch status before giving up on it.
const pullGrace = 2 * time.Second

// Fetch returns up to batchSize messages: buffered DLS resends first,
// otherwise what the station holds now, or, when it holds nothing, what
// arrives within the consumer's BatchMaxWait (or ctx's deadline, if sooner;
// that wait ends early only once batchSize messages arrived). An empty
// station gives an empty slice and no error.
func (c *Consumer) Fetch(ctx context.Context, batchSize int, p PartitionSelector) ([]*Message, error) {
	if c == nil {
		return nil, newErr(CodeInvalidArgument, opFetch, "nil consumer")
	}
	if batchSize < 1 || batchSize > MaxBatchSize {
		return nil, newErr(CodeInvalidArgument, opFetch, "Batch size can not be greater than 5000 or less than 1")
	}
	if c.isDestroyed() {
		return nil, &Error{Code: CodeClosed, Op: opFetch, Err: errConsumerDestroyed}
	}
	msgs := c.takeDLS(batchSize)
	var err error
	if len(msgs) == 0 {
		msgs, err = c.fetchBatch(ctx, opFetch, batchSize, p)
	}
	c.stats.delivered.add(uint64(len(msgs)))
	return msgs, err
}

// minPartitionSlice bounds how briefly one partition is long-polled when a
// round-robin fetch shares its wait between partitions.
const minPartitionSlice = 50 * time.Millisecond

// fetchBatch pulls one batch. With one partition (or a key or number) it
// takes what that partition holds now, or long-polls it when it is empty.
// Round robin over several partitions first sweeps them all
// without waiting (starting at the round-robin cursor), then long-polls
// the cursor's partition for a share of the wait, and repeats until the
// wait is used up: messages on any partition are returned promptly instead
// of after a full wait on an empty one.
func (c *Consumer) fetchBatch(ctx context.Context, op string, batch int, p PartitionSelector) ([]*Message, error) {
	list := c.parts.list
	wait := c.opts.BatchMaxWait
	if len(list) <= 1 || p.Key != "" || p.Number > 0 {
		part, err := c.parts.pick(op, p.Key, p.Number)
		if err != nil {
			return nil, err
		}
		// What the partition holds now comes back at once: a long poll
		// ends only when the batch is full or the wait is over, so a
		// station with fewer messages than the batch would otherwise
		// hold them back for the whole wait. Only an empty partition is
		// long-polled.
		msgs, err := c.pull(ctx, part, batch, 0, true)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		return c.pull(ctx, part, batch, wait, false)
	}
	deadline := time.Now().Add(wait)
	slice := max(wait/time.Duration(len(list)), minPartitionSlice)
	for {
		start := int((c.parts.next.Add(1) - 1) % uint64(len(list)))
		for i := range list {
			msgs, err := c.pull(ctx, list[(start+i)%len(list)], batch, 0, true)
			if err != nil || len(msgs) > 0 {
				return msgs, err
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		msgs, err := c.pull(ctx, list[start], batch, min(slice, left), false)
		if err != nil || len(msgs) > 0 || time.Until(deadline) <= 0 {
			return msgs, err
		}
	}
}

// pull runs one JetStream pull request on partition's stream: a long poll
// of up to wait, or with noWait only what is available now. It uses a
// short-lived synchronous subscription, so no goroutine is involved and
// cancelling ctx ends it at once.
func (c *Consumer) pull(ctx context.Context, partition, batch int, wait time.Duration, noWait bool) (msgs []*Message, err error) {
	conn := c.conn
	if err := conn.checkOpen(opFetch); err != nil {
		return nil, err
	}
	if conn.nc.IsClosed() {
		return nil, &Error{Code: CodeClosed, Op: opFetch,
			Msg: "connection to the broker closed after the reconnect attempts ran out; connect again"}
	}
	if !conn.nc.IsConnected() {
		return nil, &Error{Code: CodeNotConnected, Op: opFetch, Msg: "connection to the broker is down (" + conn.nc.Status().String() + ")"}
	}
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl) - 50*time.Millisecond; d < wait {
			wait = d
		}
	}
	if wait < time.Millisecond && !noWait {
		wait = time.Millisecond
	}
	epoch := conn.disconnects.Load()
	gen := conn.gen.Load()
	change := conn.linkChanged()
	// NewInbox, not NewRespInbox: nats.go hands a message on an unknown
	// response-inbox token to its only pending request, which would let a
	// pulled message answer a concurrent control request.
	inbox := conn.nc.NewInbox()
	// A channel sized for this batch: the server sends at most batch
	// messages plus an end-of-batch status. (SubscribeSync would allocate
	// a 64k-slot channel, half a megabyte, on every fetch.)
	ch := make(chan *nats.Msg, batch+pullStatusSlack)
	sub, err := conn.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, wrapErr(opFetch, err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort; the inbox is unique
	subject := "$JS.API.CONSUMER.MSG.NEXT." + streamName(c.internalStation, partition) + "." + c.internalGroup
	req := strconv.AppendInt([]byte(`{"batch":`), int64(batch), 10)
	if noWait {
		req = append(req, `,"no_wait":true}`...)
		wait = 0
	} else {
		req = append(req, `,"expires":`...)
		req = strconv.AppendInt(req, int64(wait), 10)
		req = append(req, '}')
	}
	if err := conn.nc.PublishRequest(subject, inbox, req); err != nil {
		return nil, wrapErr(opFetch, err)
	}
	sentAt := time.Now()
	defer func() { c.stats.pullEnded(len(msgs), err) }()
	timer := time.NewTimer(wait + pullGrace)
	defer timer.Stop()
	msgs = make([]*Message, 0, batch)
	for len(msgs) < batch {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			if len(msgs) > 0 {
				return msgs, nil
			}
			return nil, &Error{Code: CodeTimeout, Op: opFetch, Err: ctx.Err()}
		case <-conn.closing:
			if len(msgs) > 0 {
				return msgs, nil
			}
			return nil, &Error{Code: CodeClosed, Op: opFetch, Msg: "connection is closed"}
		case <-change:
			if len(msgs) > 0 {
				return msgs, nil
			}
			return nil, &Error{Code: CodeNotConnected, Op: opFetch, Msg: "connection to the broker was lost during the fetch"}
		case <-timer.C:
			if len(msgs) > 0 {
				return msgs, nil
			}
			if conn.disconnects.Load() != epoch {
				return nil, &Error{Code: CodeNotConnected, Op: opFetch, Msg: "connection to the broker was lost during the fetch"}
			}
			// The broker ends every pull with a status; silence means
			// it is stalled, or nobody served the pull (a broker that
			// does not answer "no responders"). Never an empty batch
			// for a durable that is missing.
			return nil, c.silentPull(ctx, partition)
		}
		if len(m.Data) == 0 && m.Header != nil && m.Header.Get("Status") != "" {
			done, err := pullStatus(m)
			if errors.Is(err, errPullNoResponders) {
				err = c.explainNoResponders(ctx, partition)
			}
			if err != nil {
				return msgs, err
			}
			if done {
				return msgs, nil
			}
			continue
		}
		if statsOn && len(msgs) == 0 {
			c.stats.pullLatency.record(time.Since(sentAt))
		}
		c.stats.received(m)
		msgs = append(msgs, &Message{cons: c, msg: m, partition: partition, gen: gen})
	}
	return msgs, nil
}

// pullEnded counts one pull request's outcome.
func (s *consumerCounters) pullEnded(n int, err error) {
	s.pulls.inc()
	switch {
	case err != nil:
		s.pullFailures.inc()
	case n == 0:
		s.emptyPulls.inc()
	}
}

// received counts one station message a pull brought.
func (s *consumerCounters) received(m *nats.Msg) {
	if !statsOn {
		return
	}
	s.fetched.inc()
	s.fetchedBytes.add(uint64(len(m.Data)))
	if redelivery(m.Reply) {
		s.redelivered.inc()
	}
}

// redelivery reports whether a JetStream message's ack subject says it was
// delivered before: its delivery count token is not "1". The subject is
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer
// seq>.<time>.<pending> (9 tokens), or with a domain and an account hash
// after $JS.ACK (12 tokens); reading the one token beats parsing the
// metadata of every message.
func redelivery(reply string) bool {
	pos := 6
	if strings.Count(reply, ".") == 8 {
		pos = 4
	}
	for i := 0; i < pos; i++ {
		dot := strings.IndexByte(reply, '.')
		if dot < 0 {
			return false
		}
		reply = reply[dot+1:]
	}
	if dot := strings.IndexByte(reply, '.'); dot >= 0 {
		reply = reply[:dot]
	}
	return reply != "1" && reply != ""
}

// pullStatusSlack is room for status messages beyond the batch itself.
const pullStatusSlack = 4

// pullStatus interprets a status message ending (or not) a pull request.
func pullStatus(m *nats.Msg) (done bool, err error) {
	status, desc := m.Header.Get("Status"), m.Header.Get("Description")
	switch status {
	case "100": // idle heartbeat
		return false, nil
	case "404", "408": // no messages / request expired
		return true, nil
	case "409":
		if desc == "Exceeded MaxWaiting" || desc == "Batch Completed" || desc == "Message Size Exceeds MaxBytes" {
			return true, nil
		}
		if desc == "Server Shutdown" || desc == "Leadership Change" {
			// The broker is going away, not the group: the consume loop
			// treats this as an outage and resumes once it is back.
			return true, &Error{Code: CodeNotConnected, Op: opFetch, Msg: "broker interrupted the pull: " + desc}
		}
		return true, &Error{Code: CodeNotFound, Op: opFetch, Msg: "consumer group is gone: " + desc}
	case "503":
		return true, errPullNoResponders
	}
	return true, &Error{Code: CodeBroker, Op: opFetch, Msg: "pull ended with status " + status + " " + desc}
}

// errPullNoResponders is a pull nobody served; pull replaces it with what
// explainNoResponders finds out.
var errPullNoResponders = &Error{Code: CodeUnreachable, Op: opFetch, Msg: "no responders"}

// explainNoResponders tells why nobody served a pull: the broker is away
// (restarting, shutting down, electing a leader: CodeUnreachable, and the
// consume loop retries) or the group's durable or the stream is missing
// (CodeNotFound, saying which).
func (c *Consumer) explainNoResponders(ctx context.Context, partition int) error {
	stream := streamName(c.internalStation, partition)
	if !c.conn.unsettled() {
		switch c.conn.jsLookup(ctx, stream, c.internalGroup) {
		case jsConsumerMissing:
			return &Error{Code: CodeNotFound, Op: opFetch, Msg: "consumer group " + c.group + " has no durable consumer on stream " +
				stream + " (it was deleted, or the broker never created it); create the consumer again"}
		case jsStreamMissing:
			return &Error{Code: CodeNotFound, Op: opFetch, Msg: "station " + c.opts.StationName + " does not exist on the broker (no stream " + stream + ")"}
		}
	}
	return &Error{Code: CodeUnreachable, Op: opFetch,
		Msg: "broker unavailable: nobody served the pull (the broker is restarting, shutting down or electing a leader)"}
}

// silentPull explains a pull that ended without any status from the
// broker.
func (c *Consumer) silentPull(ctx context.Context, partition int) error {
	stream := streamName(c.internalStation, partition)
	switch c.conn.jsLookup(ctx, stream, c.internalGroup) {
	case jsConsumerMissing, jsStreamMissing:
		return c.explainNoResponders(ctx, partition)
	case jsUnavailable:
		return &Error{Code: CodeUnreachable, Op: opFetch, Msg: "broker unavailable: it did not answer the pull"}
	}
	return nil // a late or lost end-of-batch status: an empty fetch
}

// FetchMessages is the one-shot form: it fetches opts.BatchSize messages
// through a consumer registered on the first call and cached afterwards
// (key "<internal station>_<name>").
func (c *Conn) FetchMessages(ctx context.Context, opts ConsumerOptions, p PartitionSelector) ([]*Message, error) {
	if err := c.checkOpen(opFetch); err != nil {
		return nil, err
	}
	cons, err := c.cachedConsumer(ctx, opts)
	if err != nil {
		return nil, err
	}
	return cons.Fetch(ctx, opts.BatchSize, p)
}

func (c *Conn) cachedConsumer(ctx context.Context, opts ConsumerOptions) (*Consumer, error) {
	return cached(c, consumerCache, internalName(opts.StationName)+"_"+internalName(opts.Name),
		func() (*Consumer, error) { return c.CreateConsumer(ctx, opts) },
		func(cons *Consumer) {
			cons.shutdown()
			c.untrack(cons)
			c.releaseSchema(cons.internalStation)
		})
}
