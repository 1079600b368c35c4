package devbroker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// streamConfig maps a station partition onto JetStream (§4.2).
func (b *Broker) streamConfig(st *stationRecord, partition int) jetstream.StreamConfig {
	name := streamName(st.Name, partition)
	cfg := jetstream.StreamConfig{
		Name:              name,
		Subjects:          []string{name + ".>"},
		Retention:         jetstream.LimitsPolicy,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: -1,
		MaxConsumers:      -1,
		Storage:           jetstream.FileStorage,
		Replicas:          st.Replicas,
		Duplicates:        time.Duration(st.IdempotencyWindowMs) * time.Millisecond,
	}
	switch st.RetentionType {
	case retentionAckBased:
		cfg.Retention = jetstream.InterestPolicy
	case retentionAge:
		cfg.MaxAge = time.Duration(st.RetentionValue) * time.Second
	case retentionMessages:
		cfg.MaxMsgs = st.RetentionValue
	case retentionBytes:
		cfg.MaxBytes = st.RetentionValue
	}
	if st.StorageType == storageMemory || b.opts.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// createStreams creates every partition stream, removing the ones already
// made when one fails.
func (b *Broker) createStreams(ctx context.Context, st *stationRecord) error {
	for i, p := range st.PartitionsList {
		if _, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig(st, p)); err != nil {
			b.deleteStreams(ctx, st.Name, st.PartitionsList[:i])
			if strings.Contains(strings.ToLower(err.Error()), "replicas") {
				return errReplicas
			}
			return fmt.Errorf("create stream %s: %w", streamName(st.Name, p), err)
		}
	}
	return nil
}

// deleteStreams removes partition streams, tolerating missing ones.
func (b *Broker) deleteStreams(ctx context.Context, station string, partitions []int) error {
	var errs []error
	for _, p := range partitions {
		err := b.js.DeleteStream(ctx, streamName(station, p))
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("delete stream %s: %w", streamName(station, p), err))
		}
	}
	return errors.Join(errs...)
}
