package sdk

import (
	"context"
	"strings"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// RetentionType selects how a station expires messages.
type RetentionType string

// Retention types (§4.1).
const (
	RetentionMessageAge RetentionType = "message_age_sec"
	RetentionMessages   RetentionType = "messages"
	RetentionBytes      RetentionType = "bytes"
	RetentionAckBased   RetentionType = "ack_based"
)

// StorageType selects the station's storage.
type StorageType string

// Storage types (§4.1).
const (
	StorageFile   StorageType = "file"
	StorageMemory StorageType = "memory"
)

// StationOptions configures CreateStation. Start from DefaultStationOptions.
type StationOptions struct {
	Name                     string
	RetentionType            RetentionType
	RetentionValue           int
	StorageType              StorageType
	Replicas                 int
	IdempotencyWindow        time.Duration
	SchemaName               string
	SendPoisonMsgToDls       bool
	SendSchemaFailedMsgToDls bool
	TieredStorageEnabled     bool
	PartitionsNumber         int
	DlsStation               string
}

// DefaultStationOptions returns the documented defaults: message-age
// retention of 604800 s (7 days), file storage, 1 replica, 2 min
// idempotency window, both DLS flags on, 1 partition.
func DefaultStationOptions(name string) StationOptions {
	return StationOptions{
		Name:                     name,
		RetentionType:            RetentionMessageAge,
		RetentionValue:           604800,
		StorageType:              StorageFile,
		Replicas:                 1,
		IdempotencyWindow:        2 * time.Minute,
		SendPoisonMsgToDls:       true,
		SendSchemaFailedMsgToDls: true,
		PartitionsNumber:         1,
	}
}

// Station is a created station.
type Station struct {
	conn *Conn
	Name string // as given by the user
}

// The §4 bodies shared with the broker (internal/wire).
type (
	dlsConfiguration  = wire.DLSConfig
	createStationReq  = wire.CreateStationReq
	destroyStationReq = wire.DestroyStationReq
)

func (o *StationOptions) validate(op string) error {
	if err := validateName(op, "Station", o.Name); err != nil {
		return err
	}
	switch o.RetentionType {
	case "", RetentionMessageAge, RetentionMessages, RetentionBytes, RetentionAckBased:
	default:
		return newErr(CodeInvalidArgument, op, "retention type can be one of the following message_age_sec/messages/bytes/ack_based")
	}
	switch o.StorageType {
	case "", StorageFile, StorageMemory:
	default:
		return newErr(CodeInvalidArgument, op, "storage type can be one of the following file/memory")
	}
	if o.PartitionsNumber < 0 || o.PartitionsNumber > 10000 {
		return newErr(CodeInvalidArgument, op, "partitions number must be between 1 and 10000")
	}
	if o.IdempotencyWindow > 24*time.Hour {
		return newErr(CodeInvalidArgument, op, "idempotency window can not exceed 24 hours")
	}
	if o.IdempotencyWindow < 0 {
		return newErr(CodeInvalidArgument, op, "idempotency window must not be negative")
	}
	if o.RetentionValue < 0 {
		return newErr(CodeInvalidArgument, op, "retention value must not be negative")
	}
	if o.DlsStation != "" {
		if err := validateName(op, "Station", o.DlsStation); err != nil {
			return err
		}
	}
	return nil
}

// CreateStation creates a station; an existing station is success (§4.3).
func (c *Conn) CreateStation(ctx context.Context, opts StationOptions) (*Station, error) {
	const op = "create station"
	if err := c.checkOpen(op); err != nil {
		return nil, err
	}
	if err := opts.validate(op); err != nil {
		return nil, err
	}
	parts := opts.PartitionsNumber
	if parts == 0 {
		parts = 1 // the SDKs map 0 to 1; the broker would call 0 an old SDK
	}
	req := createStationReq{
		Name:                 opts.Name,
		RetentionType:        string(opts.RetentionType),
		RetentionValue:       int64(opts.RetentionValue),
		StorageType:          string(opts.StorageType),
		Replicas:             opts.Replicas,
		IdempotencyWindowMs:  opts.IdempotencyWindow.Milliseconds(),
		SchemaName:           opts.SchemaName,
		DlsConfiguration:     &dlsConfiguration{Poison: opts.SendPoisonMsgToDls, Schemaverse: opts.SendSchemaFailedMsgToDls},
		Username:             c.username,
		TieredStorageEnabled: opts.TieredStorageEnabled,
		PartitionsNumber:     parts,
		DlsStation:           opts.DlsStation,
	}
	err := c.requestEmptyOK(ctx, op, wire.SubjStationCreate, req)
	if err != nil && !strings.Contains(err.Error(), "already exist") {
		return nil, err
	}
	c.setSchemaverseToDLS(internalName(opts.Name), opts.SendSchemaFailedMsgToDls)
	return &Station{conn: c, Name: opts.Name}, nil
}

// Destroy removes the station and everything in it. A station that is
// already gone is success, as in the official SDKs.
func (s *Station) Destroy(ctx context.Context) error {
	const op = "destroy station"
	if s == nil || s.conn == nil {
		return newErr(CodeInvalidArgument, op, "nil station")
	}
	err := s.conn.requestEmptyOK(ctx, op, wire.SubjStationDestroy,
		destroyStationReq{StationName: s.Name, Username: s.conn.username})
	if err != nil && !strings.Contains(err.Error(), "not exist") {
		return err
	}
	s.conn.dropCached(internalName(s.Name))
	return nil
}
