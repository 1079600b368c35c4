package devbroker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ensureDurables makes sure the group's durable pull consumer exists on
// every partition stream (§7.3). An existing durable keeps its position and
// deliver policy; only ack wait and max deliveries are updated when they
// differ, as the real broker does for later group members.
func (b *Broker) ensureDurables(ctx context.Context, st *stationRecord, rec *consumerRecord) error {
	durable := internalName(rec.Group)
	ackWait := time.Duration(rec.MaxAckTimeMs) * time.Millisecond
	for _, p := range st.PartitionsList {
		stream := streamName(st.Name, p)
		callCtx, cancel := jsCall(ctx)
		existing, err := b.js.Consumer(callCtx, stream, durable)
		cancel()
		switch {
		case err == nil:
			cfg := existing.CachedInfo().Config
			if cfg.AckWait == ackWait && cfg.MaxDeliver == rec.MaxMsgDeliveries {
				continue
			}
			cfg.AckWait, cfg.MaxDeliver = ackWait, rec.MaxMsgDeliveries
			callCtx, cancel := jsCall(ctx)
			_, err := b.js.UpdateConsumer(callCtx, stream, cfg)
			cancel()
			if err != nil {
				return fmt.Errorf("update consumer %s on %s: %w", durable, stream, err)
			}
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			cfg, err := b.durableConfig(ctx, stream, durable, rec, ackWait)
			if err != nil {
				return err
			}
			callCtx, cancel := jsCall(ctx)
			_, err = b.js.CreateConsumer(callCtx, stream, cfg)
			cancel()
			if err != nil {
				return fmt.Errorf("create consumer %s on %s: %w", durable, stream, err)
			}
		default:
			return fmt.Errorf("look up consumer %s on %s: %w", durable, stream, err)
		}
	}
	return nil
}

// durableConfig builds the consumer config of §7.3 for one partition.
func (b *Broker) durableConfig(ctx context.Context, stream, durable string, rec *consumerRecord, ackWait time.Duration) (jetstream.ConsumerConfig, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       durable,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    rec.MaxMsgDeliveries,
		FilterSubject: stream + ".final",
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxAckPending: -1,
	}
	switch {
	case rec.LastMessages == 0 && rec.StartSequence == 1:
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	case rec.LastMessages > 0:
		callCtx, cancel := jsCall(ctx)
		s, err := b.js.Stream(callCtx, stream)
		cancel()
		if err != nil {
			return cfg, fmt.Errorf("stream %s: %w", stream, err)
		}
		lastSeq := s.CachedInfo().State.LastSeq
		start := uint64(1)
		if n := uint64(rec.LastMessages); lastSeq >= n {
			start = lastSeq - n + 1
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	case rec.StartSequence > 1:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, rec.StartSequence
	}
	return cfg, nil
}

// deleteDurables removes a group's durable from every partition stream.
func (b *Broker) deleteDurables(ctx context.Context, st *stationRecord, group string) error {
	durable := internalName(group)
	var errs []error
	for _, p := range st.PartitionsList {
		callCtx, cancel := jsCall(ctx)
		err := b.js.DeleteConsumer(callCtx, streamName(st.Name, p), durable)
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("delete consumer %s on %s: %w", durable, streamName(st.Name, p), err))
		}
	}
	return errors.Join(errs...)
}
