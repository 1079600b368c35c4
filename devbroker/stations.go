package devbroker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// Limits from the protocol doc §4.1 / §13.
const (
	defaultRetentionValue = 3600
	defaultIdempotencyMs  = 120000
	minIdempotencyMs      = 100
	maxIdempotencyMs      = 24 * 60 * 60 * 1000
	maxPartitions         = 10000
)

var errReplicas = errors.New("station can not be created, probably since replicas count is larger than the cluster size")

// The §4 request bodies shared with the SDK (internal/wire).
// Decoded requests are defined types, not aliases, so a malformed request
// still gets the error text it always had ("Go struct field createXxxReq...").
type (
	createStationReq  wire.CreateStationReq
	destroyStationReq wire.DestroyStationReq
)

// defaultStationReq is the station auto-created for producers, consumers
// and dls_station targets (§4.3).
func defaultStationReq(name, user string) createStationReq {
	return createStationReq{
		Name: name, RetentionType: retentionAge, RetentionValue: defaultRetentionValue,
		StorageType: storageFile, Replicas: 1, IdempotencyWindowMs: defaultIdempotencyMs,
		DlsConfiguration: &dlsConfig{Poison: true, Schemaverse: true},
		Username:         user, PartitionsNumber: 1,
	}
}

// createStation validates and creates a station, its DLS station if named,
// and one stream per partition. An existing station is a success that
// changes nothing. Caller holds the control lock.
func (b *Broker) createStation(ctx context.Context, req createStationReq) error {
	name := strings.ToLower(req.Name)
	if err := validateName(name, objStation); err != nil {
		return err
	}
	if _, found, err := b.getStation(ctx, name); err != nil {
		return err
	} else if found {
		return nil
	}
	st, err := b.normaliseStation(name, req)
	if err != nil {
		return err
	}
	if req.SchemaName != "" {
		st.SchemaName = strings.ToLower(req.SchemaName)
		if st.SchemaVersion, err = b.checkStationSchema(ctx, st.SchemaName); err != nil {
			return err
		}
	}
	if st.DlsStation != "" && st.DlsStation != name {
		if err := b.createStation(ctx, defaultStationReq(st.DlsStation, req.Username)); err != nil {
			return fmt.Errorf("dls station %s: %w", st.DlsStation, err)
		}
	}
	if err := b.createStreams(ctx, st); err != nil {
		return err
	}
	if err := b.putStation(ctx, st); err != nil {
		// A write that went unanswered may still have been applied: its
		// streams stay for the retry (withControl) to find, rather than
		// leaving a station record without them.
		if !unavailable(err) {
			b.deleteStreams(ctx, st.Name, st.PartitionsList)
		}
		return err
	}
	return nil
}

// normaliseStation applies the broker's defaults and limits (§4.1).
func (b *Broker) normaliseStation(name string, req createStationReq) (*stationRecord, error) {
	if req.PartitionsNumber == 0 {
		return nil, errors.New("you are using an old SDK, make sure to update your SDK")
	}
	if req.PartitionsNumber < 1 || req.PartitionsNumber > maxPartitions {
		return nil, fmt.Errorf("cannot create station with %d partitions (max:%d min:1): Station -  %s, ", req.PartitionsNumber, maxPartitions, name)
	}
	rt := strings.ToLower(req.RetentionType)
	switch rt {
	case "":
		rt = retentionAge
	case retentionAge, retentionMessages, retentionBytes, retentionAckBased:
	default:
		return nil, errors.New("retention type can be one of the following message_age_sec/messages/bytes/ack_based")
	}
	rv := req.RetentionValue
	if rv <= 0 && rt != retentionAckBased {
		rt, rv = retentionAge, defaultRetentionValue
	}
	storage := strings.ToLower(req.StorageType)
	switch storage {
	case "":
		storage = storageFile
	case storageFile, storageMemory:
	default:
		return nil, errors.New("storage type can be one of the following file/memory")
	}
	replicas := req.Replicas
	switch {
	case replicas <= 0:
		replicas = 1
	case replicas == 2 || replicas == 4:
		replicas = 3
	case replicas > 5:
		replicas = 5
	}
	if replicas > b.clusterSize() {
		return nil, errReplicas // as the real broker: one replica per node at most
	}
	idem := req.IdempotencyWindowMs
	switch {
	case idem <= 0:
		idem = defaultIdempotencyMs
	case idem < minIdempotencyMs:
		idem = minIdempotencyMs
	case idem > maxIdempotencyMs:
		return nil, errors.New("idempotency window can not exceed 24 hours")
	}
	if rt == retentionAge && idem > rv*1000 {
		return nil, errors.New("idempotency window cannot be greater than the station retention")
	}
	dls := dlsConfig{Poison: true, Schemaverse: true}
	if req.DlsConfiguration != nil {
		dls = *req.DlsConfiguration
	}
	dlsStation := strings.ToLower(req.DlsStation)
	if dlsStation != "" {
		if err := validateName(dlsStation, objStation); err != nil {
			return nil, err
		}
	}
	parts := make([]int, req.PartitionsNumber)
	for i := range parts {
		parts[i] = i + 1
	}
	return &stationRecord{
		Name: name, RetentionType: rt, RetentionValue: rv, StorageType: storage,
		Replicas: replicas, IdempotencyWindowMs: idem, PartitionsList: parts,
		DlsConfiguration: dls, DlsStation: dlsStation,
		TieredStorageEnabled: req.TieredStorageEnabled, Version: 2,
		CreatedBy: stripAccountID(req.Username), CreatedAt: time.Now().UTC(),
	}, nil
}

// destroyStation removes a station's streams and every record that refers
// to it. Caller holds the control lock.
func (b *Broker) destroyStation(ctx context.Context, name string) error {
	st, found, err := b.getStation(ctx, name)
	if err != nil {
		return err
	}
	if !found {
		// The real broker prints an empty name here (§4.4); naming the
		// station is clearer and still contains "does not exist".
		return fmt.Errorf("Station %s does not exist", externalName(name))
	}
	if err := b.deleteStreams(ctx, st.Name, st.PartitionsList); err != nil {
		return err
	}
	prefix := metaKey(st.Name) + "/"
	for _, bucket := range []string{bucketProducers, bucketConsumers} {
		keys, err := b.meta.keys(ctx, bucket, prefix)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.meta.del(ctx, bucket, k); err != nil {
				return err
			}
		}
	}
	// With its producers gone, this node no longer routes the station
	// through the msg-id ingest (the other nodes follow).
	if err := b.waitMsgIDRouting(ctx, st.Name); err != nil {
		return err
	}
	if err := b.deleteStationDLS(ctx, st.Name); err != nil {
		return err
	}
	// Other stations stop forwarding their dead letters here.
	all, err := b.listStations(ctx)
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.DlsStation == st.Name && other.Name != st.Name {
			other.DlsStation = ""
			if err := b.putStation(ctx, other); err != nil {
				return err
			}
		}
	}
	return b.meta.del(ctx, bucketStations, metaKey(st.Name))
}
