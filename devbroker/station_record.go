package devbroker

import (
	"context"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// Retention types and storage types accepted in station requests (§4.1).
const (
	retentionAge      = "message_age_sec"
	retentionMessages = "messages"
	retentionBytes    = "bytes"
	retentionAckBased = "ack_based"
	storageFile       = "file"
	storageMemory     = "memory"
)

// dlsConfig is a station's dead-letter configuration (internal/wire; JSON
// keys decode case-insensitively, so memphis.py's "Schemaverse" lands too).
type dlsConfig = wire.DLSConfig

// stationRecord is a station's metadata (bucket memphis_stations, key =
// external station name).
type stationRecord struct {
	Name                 string    `json:"name"` // external, lower-case
	RetentionType        string    `json:"retention_type"`
	RetentionValue       int64     `json:"retention_value"`
	StorageType          string    `json:"storage_type"`
	Replicas             int       `json:"replicas"`
	IdempotencyWindowMs  int64     `json:"idempotency_window_in_ms"`
	PartitionsList       []int     `json:"partitions_list"`
	SchemaName           string    `json:"schema_name"`    // "" = no schema attached
	SchemaVersion        int       `json:"schema_version"` // attached version number
	DlsConfiguration     dlsConfig `json:"dls_configuration"`
	DlsStation           string    `json:"dls_station"` // external name, "" = none
	TieredStorageEnabled bool      `json:"tiered_storage_enabled"`
	Version              int       `json:"version"` // always 2 (partitioned station)
	CreatedBy            string    `json:"created_by"`
	CreatedAt            time.Time `json:"created_at"`
}

// getStation loads a station by either name form. Caller holds the control lock.
func (b *Broker) getStation(ctx context.Context, name string) (*stationRecord, bool, error) {
	var st stationRecord
	found, err := b.meta.get(ctx, bucketStations, metaKey(externalName(name)), &st)
	if err != nil || !found {
		return nil, false, err
	}
	return &st, true, nil
}

// putStation stores a station record. Caller holds the control lock.
func (b *Broker) putStation(ctx context.Context, st *stationRecord) error {
	_, err := b.meta.put(ctx, bucketStations, metaKey(st.Name), st)
	return err
}

// listStations returns every station. Caller holds the control lock.
func (b *Broker) listStations(ctx context.Context) ([]*stationRecord, error) {
	_, recs, err := listRecords[stationRecord](ctx, b.meta, bucketStations, "")
	return recs, err
}
