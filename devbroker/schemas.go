package devbroker

// Schemaverse control plane (protocol doc §9). This file and any
// schemas_*.go belong to the Schemaverse engineer; it starts as a
// placeholder that answers "schemaverse is not available yet".
//
// What the rest of the broker offers this file:
//
// Locking: every control-plane read-modify-write holds b.mu. The schema
// request handlers below are called WITHOUT b.mu held and must take it
// (b.mu.Lock(); defer b.mu.Unlock()) around metadata access.
// schemaUpdateFor and checkStationSchema are called WITH b.mu held and must
// not take it again.
//
// Metadata store (meta.go): JetStream KV buckets holding JSON documents.
//
//	b.meta.get(ctx, bucket, key, &v) (found bool, err error)
//	b.meta.put(ctx, bucket, key, v) (revision uint64, err error)
//	b.meta.del(ctx, bucket, key) error            // missing key is fine
//	b.meta.keys(ctx, bucket, prefix) ([]string, error)
//	metaKey(parts...) string  // builds a safe KV key; use it for schema
//	                          // names, which the SDK path does not validate
//
// Bucket bucketSchemas ("memphis_schemas") is reserved for schemas; its
// record layout is yours to define. Stations live in bucketStations:
//
//	st, found, err := b.getStation(ctx, name)   // name: external or internal form
//	err = b.putStation(ctx, st)
//	all, err := b.listStations(ctx)
//
// stationRecord.SchemaName ("" = none) and stationRecord.SchemaVersion hold
// the attached schema and version. Station creation with schema_name calls
// checkStationSchema and stores the name and returned version. Producer and
// consumer creation put schemaUpdateFor(station) into their responses.
//
// Broadcasts: publish on the internal connection b.nc, e.g.
// b.nc.Publish(subjSchemaUpdatesPre+internalName(station), payload).
// Request handlers have the requestHandler signature and are registered in
// serve.go under their subjects and queue groups.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// errSchemaverseUnavailable is the placeholder answer until the Schemaverse
// control plane lands.
var errSchemaverseUnavailable = errors.New("schemaverse is not available yet")

// schemaUpdate is the schema_update / init object of §9.6. Its zero value
// marshals to the "no schema" object the SDKs expect.
type schemaUpdate struct {
	SchemaName    string              `json:"schema_name"`
	ActiveVersion schemaVersionUpdate `json:"active_version"`
	Type          string              `json:"type"`
}

type schemaVersionUpdate struct {
	VersionNumber     int    `json:"version_number"`
	Descriptor        string `json:"descriptor"`
	SchemaContent     string `json:"schema_content"`
	MessageStructName string `json:"message_struct_name"`
}

// schemaUpdateFor returns the schema snapshot for a station's producers and
// consumers. Caller holds b.mu.
func (b *Broker) schemaUpdateFor(stationName string) schemaUpdate {
	return schemaUpdate{}
}

// checkStationSchema is called by station creation when schema_name is set
// and returns the version to attach. Caller holds b.mu.
func (b *Broker) checkStationSchema(ctx context.Context, schemaName string) (version int, err error) {
	return 0, fmt.Errorf("Schema %s does not exist", schemaName)
}

// handleSchemaCreate answers $memphis_schema_creations (style B).
func (b *Broker) handleSchemaCreate(ctx context.Context, data []byte) []byte {
	out, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{errSchemaverseUnavailable.Error()})
	return out
}

// handleSchemaAttach answers $memphis_schema_attachments (style A).
func (b *Broker) handleSchemaAttach(ctx context.Context, data []byte) []byte {
	return styleA(errSchemaverseUnavailable)
}

// handleSchemaDetach answers $memphis_schema_detachments (style A).
func (b *Broker) handleSchemaDetach(ctx context.Context, data []byte) []byte {
	return styleA(errSchemaverseUnavailable)
}
