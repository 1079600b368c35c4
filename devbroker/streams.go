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
		err := retryUnavailable(ctx, func(ctx context.Context) error { // bounds each call
			_, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig(st, p))
			return err
		})
		if err != nil {
			b.deleteStreams(ctx, st.Name, st.PartitionsList[:i])
			return streamCreateError(streamName(st.Name, p), st.Replicas, err)
		}
	}
	return nil
}

// streamCreateError explains why JetStream refused a partition stream.
func streamCreateError(stream string, replicas int, err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsErrCodeReplicasNotSupported:
			return errReplicas
		case jsErrCodeNoSuitablePeers, jsErrCodeInsufficientResources:
			// The cluster is large enough (normaliseStation checked) but
			// too few of its nodes are up.
			return fmt.Errorf("station can not be created now: its %d replicas need %d nodes up, and fewer are (%s); retry when the nodes are back", replicas, replicas, apiErr.Description)
		}
	}
	if strings.Contains(strings.ToLower(err.Error()), "replicas") {
		return errReplicas
	}
	return fmt.Errorf("create stream %s: %w", stream, err)
}

// JetStream error codes nats.go has no name for.
const (
	jsErrCodeReplicasNotSupported  jetstream.ErrorCode = 10074 // "replicas > 1 not supported in non-clustered mode"
	jsErrCodeNoSuitablePeers       jetstream.ErrorCode = 10005 // "no suitable peers for placement"
	jsErrCodeInsufficientResources jetstream.ErrorCode = 10023 // "insufficient resources"
	// "JetStream system temporarily unavailable": no meta or stream leader.
	jsErrCodeClusterNotAvailable jetstream.ErrorCode = 10008
	// "expected last sequence per subject temporarily unavailable": a
	// compare-and-set write reached a stream leader that is still catching up.
	jsErrCodeLastSeqPerSubjectNotReady jetstream.ErrorCode = 10163
	// "wrong last sequence": a compare-and-set write lost the race
	// (10164 on a replicated stream).
	jsErrCodeWrongLastSequence           jetstream.ErrorCode = 10071
	jsErrCodeWrongLastSequenceReplicated jetstream.ErrorCode = 10164
)

// deleteStreams removes partition streams, tolerating missing ones.
func (b *Broker) deleteStreams(ctx context.Context, station string, partitions []int) error {
	var errs []error
	for _, p := range partitions {
		callCtx, cancel := jsCall(ctx)
		err := b.js.DeleteStream(callCtx, streamName(station, p))
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("delete stream %s: %w", streamName(station, p), err))
		}
	}
	return errors.Join(errs...)
}
