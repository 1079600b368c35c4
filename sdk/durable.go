package sdk

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ensureDurables works around the real broker 1.4.x bug where a consumer
// created with last_messages > 0 on a one-partition station gets no
// JetStream durable at all (its consumer creation takes the
// multi-partition branch with an empty partition map), after which every
// fetch would come back empty. For each partition whose durable is
// missing it creates the durable exactly as the broker should have (§7.3:
// start at the last LastMessages messages of that partition), or fails
// with CodeNotFound saying why.
func (c *Consumer) ensureDurables(ctx context.Context) error {
	const op = "create consumer"
	parts := c.parts.list
	if len(parts) == 0 {
		parts = []int{0} // a legacy station: one stream named after it
	}
	for _, part := range parts {
		stream := streamName(c.internalStation, part)
		switch c.conn.jsLookup(ctx, stream, c.internalGroup) {
		case jsFound:
			continue
		case jsStreamMissing:
			return &Error{Code: CodeNotFound, Op: op, Msg: "station " + c.opts.StationName + " has no stream " + stream + " on the broker"}
		case jsUnavailable:
			return &Error{Code: CodeUnreachable, Op: op, Msg: "broker unavailable while checking the consumer group's durable on " + stream}
		}
		if err := c.createDurable(ctx, stream); err != nil {
			// Another member of the group may have created it meanwhile.
			if c.conn.jsLookup(ctx, stream, c.internalGroup) == jsFound {
				continue
			}
			return &Error{Code: CodeNotFound, Op: op, Msg: "the broker did not create consumer group " + c.group + "'s durable on " + stream +
				" (a known Memphis 1.4.x bug with last_messages), and creating it failed", Err: err}
		}
	}
	return nil
}

// createDurable creates the group's durable on stream with the broker's
// configuration (§7.3), starting at the last LastMessages messages.
func (c *Consumer) createDurable(ctx context.Context, stream string) error {
	s, err := c.conn.js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	start := uint64(1)
	if last, n := s.CachedInfo().State.LastSeq, uint64(c.opts.LastMessages); last >= n {
		start = last - n + 1
	}
	deliveries := c.opts.MaxMsgDeliveries
	if deliveries <= 0 || deliveries > 10 {
		deliveries = 10
	}
	_, err = c.conn.js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       c.internalGroup,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.opts.MaxAckTime.Round(time.Millisecond),
		MaxDeliver:    deliveries,
		FilterSubject: stream + ".final",
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxAckPending: -1,
	})
	return err
}
