package devbroker

// Schemaverse control plane (protocol doc §9): schema creation with content
// checks and versions, attach/detach, the schema_update snapshot of producer
// and consumer creation responses, and the $memphis_schema_updates_<station>
// broadcasts that let live SDK producers switch schemas.
//
// Locking: the request handlers take the control lock; schemaUpdateFor and
// checkStationSchema are called by the station/producer/consumer code WITH
// the lock held and do not take it. Records live in bucketSchemas
// (schemas_store.go); a station keeps the attached schema's name and version
// in stationRecord.SchemaName/SchemaVersion, so creating a new version does
// not change what an attached station enforces.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/libmemphis/libmemphis/internal/schemaverse"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// Schema update kinds broadcast on $memphis_schema_updates_<station> (§9.5).
const (
	schemaUpdateInit = wire.SchemaUpdateInit
	schemaUpdateDrop = wire.SchemaUpdateDrop
)

// The §9 bodies shared with the SDK (internal/wire).
// Decoded requests are defined types, not aliases, so a malformed request
// still gets the error text it always had ("Go struct field createXxxReq...").
type (
	schemaUpdate        = wire.SchemaUpdate
	schemaVersionUpdate = wire.SchemaVersionUpdate
	schemaUpdateMsg     = wire.SchemaUpdateMsg
	createSchemaReq     wire.CreateSchemaReq
	attachSchemaReq     wire.AttachSchemaReq
	detachSchemaReq     wire.DetachSchemaReq
)

func snapshot(s *schemaRecord, version int) schemaUpdate {
	v := s.version(version)
	if v == nil {
		return schemaUpdate{}
	}
	return schemaUpdate{
		SchemaName: s.Name,
		Type:       s.Type,
		ActiveVersion: schemaVersionUpdate{
			VersionNumber: v.Number, Descriptor: v.Descriptor,
			SchemaContent: v.Content, MessageStructName: v.MessageStructName,
		},
	}
}

// schemaUpdateFor returns the schema snapshot for a station's producers and
// consumers: the version attached to the station, not the schema's latest.
// Caller holds the control lock. A metadata read failure is logged and reported as "no
// schema", because the creation responses have no way to carry it.
func (b *Broker) schemaUpdateFor(stationName string) schemaUpdate {
	ctx, cancel := context.WithTimeout(b.ctx, requestTimeout)
	defer cancel()
	st, found, err := b.getStation(ctx, stationName)
	if err != nil || !found || st.SchemaName == "" {
		if err != nil {
			b.logf("devbroker: schema snapshot for station %s: %v", stationName, err)
		}
		return schemaUpdate{}
	}
	s, found, err := b.getSchema(ctx, st.SchemaName)
	if err != nil || !found {
		if err != nil {
			b.logf("devbroker: schema snapshot for station %s: %v", stationName, err)
		}
		return schemaUpdate{}
	}
	return snapshot(s, st.SchemaVersion)
}

// checkStationSchema is called by station creation when schema_name is set
// and returns the version to attach. Unlike the real broker (which silently
// succeeds without a schema), an unknown schema fails the creation. Caller
// holds the control lock.
func (b *Broker) checkStationSchema(ctx context.Context, schemaName string) (version int, err error) {
	s, found, err := b.getSchema(ctx, schemaName)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("Schema %s does not exist", schemaName)
	}
	return s.activeVersion(), nil
}

// handleSchemaCreate answers $memphis_schema_creations (style B).
func (b *Broker) handleSchemaCreate(ctx context.Context, data []byte) []byte {
	var req createSchemaReq
	err := json.Unmarshal(data, &req)
	if err != nil {
		err = fmt.Errorf("invalid schema creation request: %v", err)
	} else {
		err = b.withControl(ctx, func(ctx context.Context) error {
			return b.createSchema(ctx, req)
		})
	}
	resp := struct {
		Error string `json:"error"`
	}{}
	if err != nil {
		resp.Error = err.Error()
	}
	out, _ := json.Marshal(resp)
	return out
}

// createSchema validates and stores a schema or a new version of it (§9.1).
// Caller holds the control lock.
func (b *Broker) createSchema(ctx context.Context, req createSchemaReq) error {
	// The real broker's SDK path validates neither; the SDKs do it client
	// side. Doing it here keeps non-SDK clients from storing names that no
	// station could ever reference.
	name := strings.ToLower(req.Name)
	if err := validateName(name, objSchema); err != nil {
		return err
	}
	typ := schemaverse.Type(strings.ToLower(req.Type))
	if err := schemaverse.CheckContent(typ, req.SchemaContent); err != nil {
		return err
	}
	s, found, err := b.getSchema(ctx, name)
	if err != nil {
		return err
	}
	next := 1
	if found {
		if s.Type != string(typ) {
			return fmt.Errorf("%s already exist with type - %s", name, s.Type)
		}
		if latest := s.Versions[len(s.Versions)-1]; latest.Content == req.SchemaContent {
			return fmt.Errorf("%s already exists in the db with the same schema content", name)
		}
		next = len(s.Versions) + 1
	} else {
		s = &schemaRecord{Name: name, Type: string(typ), CreatedBy: stripAccountID(req.CreatedByUsername), CreatedAt: time.Now().UTC()}
	}
	v := schemaVersionRecord{
		Number: next, Active: next == 1, Content: req.SchemaContent,
		CreatedBy: stripAccountID(req.CreatedByUsername), CreatedAt: time.Now().UTC(),
	}
	if typ == schemaverse.Protobuf {
		// Unlike the real broker (always "<name>_1.proto" on this path, §16)
		// the descriptor file carries the real version, which is the name
		// clients look up.
		if v.Descriptor, v.MessageStructName, err = schemaverse.ProtobufDescriptor(name, next, req.SchemaContent); err != nil {
			return err
		}
	}
	s.Versions = append(s.Versions, v)
	return b.putSchema(ctx, s)
}

// attachSchema stores the schema's active version on the station and tells
// the station's producers and consumers. Caller holds the control lock.
func (b *Broker) attachSchema(ctx context.Context, req attachSchemaReq) error {
	st, found, err := b.getStation(ctx, req.StationName)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("memphis: Station %s does not exist", req.StationName)
	}
	s, found, err := b.getSchema(ctx, req.Name)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("Schema %s does not exist", req.Name)
	}
	st.SchemaName, st.SchemaVersion = s.Name, s.activeVersion()
	if err := b.putStation(ctx, st); err != nil {
		return err
	}
	return b.broadcastSchemaUpdate(st.Name, schemaUpdateMsg{UpdateType: schemaUpdateInit, Init: snapshot(s, st.SchemaVersion)})
}

// detachSchema clears the station's schema and broadcasts a drop. Caller
// holds the control lock.
func (b *Broker) detachSchema(ctx context.Context, req detachSchemaReq) error {
	st, found, err := b.getStation(ctx, req.StationName)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("station %s does not exist", req.StationName)
	}
	st.SchemaName, st.SchemaVersion = "", 0
	if err := b.putStation(ctx, st); err != nil {
		return err
	}
	return b.broadcastSchemaUpdate(st.Name, schemaUpdateMsg{UpdateType: schemaUpdateDrop})
}

// broadcastSchemaUpdate publishes on $memphis_schema_updates_<internal
// station>. It is published before the request's reply on the same
// connection, so it reaches an SDK before the reply does (the SDK still has
// to wait for its update handler: NATS clients dispatch the two on
// different goroutines).
func (b *Broker) broadcastSchemaUpdate(station string, msg schemaUpdateMsg) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode schema update for %s: %w", station, err)
	}
	if err := b.nc.Publish(wire.SchemaUpdatesSubject(internalName(station)), data); err != nil {
		return fmt.Errorf("broadcast schema update for %s: %w", station, err)
	}
	return nil
}
