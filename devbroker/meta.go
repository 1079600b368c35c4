package devbroker

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Metadata buckets. Each holds JSON documents keyed by metaKey(...).
const (
	bucketStations  = "memphis_stations"  // key: station (external name) -> stationRecord
	bucketProducers = "memphis_producers" // key: station/name/connection id -> producerRecord
	bucketConsumers = "memphis_consumers" // key: station/name/connection id -> consumerRecord
	bucketSchemas   = "memphis_schemas"   // owned by schemas*.go
	bucketDLS       = "memphis_dls"       // DLS rows and their id index (dls_store.go)
)

// dlsRetention is how long a dead-letter row is kept.
const dlsRetention = 3 * time.Hour

var allBuckets = []string{bucketStations, bucketProducers, bucketConsumers, bucketSchemas, bucketDLS}

// metaStore is the broker's metadata database: one JetStream KV bucket per
// kind of record. Callers hold Broker.mu around read-modify-write sequences.
type metaStore struct {
	kvs map[string]jetstream.KeyValue
}

func openMetaStore(ctx context.Context, js jetstream.JetStream, memory bool) (*metaStore, error) {
	storage := jetstream.FileStorage
	if memory {
		storage = jetstream.MemoryStorage
	}
	m := &metaStore{kvs: make(map[string]jetstream.KeyValue, len(allBuckets))}
	for _, name := range allBuckets {
		cfg := jetstream.KeyValueConfig{
			Bucket:      name,
			Description: "memphis-devbroker metadata",
			History:     1,
			Storage:     storage,
		}
		if name == bucketDLS {
			// Dead letters expire like the real broker's rows
			// (dls_retention_hours, default 3), so unhandled ones do not
			// pile up forever.
			cfg.TTL = dlsRetention
		}
		kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("devbroker: open metadata bucket %s: %w", name, err)
		}
		m.kvs[name] = kv
	}
	return m, nil
}

// get loads key from bucket into v; found is false when the key is absent.
func (m *metaStore) get(ctx context.Context, bucket, key string, v any) (found bool, err error) {
	e, err := m.kvs[bucket].Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s/%s: %w", bucket, key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// put stores v as JSON and returns the bucket revision of the write (unique
// and increasing within the bucket).
func (m *metaStore) put(ctx context.Context, bucket, key string, v any) (uint64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	rev, err := m.kvs[bucket].Put(ctx, key, data)
	if err != nil {
		return 0, fmt.Errorf("write %s/%s: %w", bucket, key, err)
	}
	return rev, nil
}

// del removes key; a missing key is not an error.
func (m *metaStore) del(ctx context.Context, bucket, key string) error {
	err := m.kvs[bucket].Purge(ctx, key)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	return nil
}

// keys lists the live keys of bucket that start with prefix.
func (m *metaStore) keys(ctx context.Context, bucket, prefix string) ([]string, error) {
	all, err := m.kvs[bucket].Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	out := all[:0]
	for _, k := range all {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out, nil
}

// metaKey joins parts into a KV key with "/" separators. Parts that are not
// plain names (empty, or with characters KV keys do not allow) are hex
// encoded behind a "=" marker, which never occurs in valid names.
func metaKey(parts ...string) string {
	enc := make([]string, len(parts))
	for i, p := range parts {
		enc[i] = keyPart(p)
	}
	return strings.Join(enc, "/")
}

func keyPart(p string) string {
	ok := p != "" && p[0] != '.' && p[len(p)-1] != '.' && !strings.Contains(p, "..")
	for i := 0; ok && i < len(p); i++ {
		c := p[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if ok {
		return p
	}
	return "=" + hex.EncodeToString([]byte(p))
}
