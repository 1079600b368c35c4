package devbroker

import (
	"context"
	"strings"
	"time"
)

// schemaRecord is one schema and all its versions (bucket memphis_schemas,
// key = metaKey(lower-case schema name)). Versions are numbered from 1 in
// slice order; exactly one is active.
type schemaRecord struct {
	Name      string                `json:"name"`
	Type      string                `json:"type"`
	CreatedBy string                `json:"created_by"`
	CreatedAt time.Time             `json:"created_at"`
	Versions  []schemaVersionRecord `json:"versions"`
}

type schemaVersionRecord struct {
	Number            int       `json:"version_number"`
	Active            bool      `json:"active"`
	Content           string    `json:"schema_content"`
	Descriptor        string    `json:"descriptor"` // base64 FileDescriptorSet, protobuf only
	MessageStructName string    `json:"message_struct_name"`
	CreatedBy         string    `json:"created_by"`
	CreatedAt         time.Time `json:"created_at"`
}

// version returns version n, or nil.
func (s *schemaRecord) version(n int) *schemaVersionRecord {
	if n < 1 || n > len(s.Versions) {
		return nil
	}
	return &s.Versions[n-1]
}

// activeVersion returns the active version number (0 if none, which a stored
// record never has).
func (s *schemaRecord) activeVersion() int {
	for _, v := range s.Versions {
		if v.Active {
			return v.Number
		}
	}
	return 0
}

// getSchema loads a schema by name (case-insensitive). Caller holds the control lock.
func (b *Broker) getSchema(ctx context.Context, name string) (*schemaRecord, bool, error) {
	var s schemaRecord
	found, err := b.meta.get(ctx, bucketSchemas, metaKey(strings.ToLower(name)), &s)
	if err != nil || !found {
		return nil, false, err
	}
	return &s, true, nil
}

// putSchema stores a schema record. Caller holds the control lock.
func (b *Broker) putSchema(ctx context.Context, s *schemaRecord) error {
	_, err := b.meta.put(ctx, bucketSchemas, metaKey(s.Name), s)
	return err
}
