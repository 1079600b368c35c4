package devbroker

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
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

var allBuckets = []string{bucketStations, bucketProducers, bucketConsumers, bucketSchemas, bucketDLS, bucketControl}

// metaStore is the broker's metadata database: one JetStream KV bucket per
// kind of record, replicated like any stream in a cluster. Callers hold the
// control lock (control_lock.go) around read-modify-write sequences.
//
// Writes go through nats.go's KV. Reads go to each bucket's stream leader
// (JetStream's STREAM.MSG.GET and STREAM.INFO), not through the KV's
// direct get, which any replica answers: a replica may not yet have
// applied the last write another node made under the lock, and a
// read-modify-write on such a stale value would undo it.
type metaStore struct {
	kvs    map[string]jetstream.KeyValue
	js     jetstream.JetStream
	leader nats.JetStreamContext // for leader reads (GetLastMsg without DirectGet)
}

// metaRetry bounds how long a single metadata call waits out a stream
// leader election (after a node of the cluster died) before giving up.
const metaRetry = 15 * time.Second

// openMetaStore opens (creating or updating them when creator says so)
// the metadata buckets.
func openMetaStore(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, memory bool, replicas int, creator func() bool) (*metaStore, error) {
	storage := jetstream.FileStorage
	if memory {
		storage = jetstream.MemoryStorage
	}
	legacy, err := nc.JetStream()
	if err != nil {
		return nil, fmt.Errorf("devbroker: jetstream context: %w", err)
	}
	m := &metaStore{kvs: make(map[string]jetstream.KeyValue, len(allBuckets)), js: js, leader: legacy}
	for _, name := range allBuckets {
		cfg := jetstream.KeyValueConfig{
			Bucket:      name,
			Description: "memphis-devbroker metadata",
			History:     1,
			Storage:     storage,
			Replicas:    replicas,
		}
		if name == bucketDLS {
			// Dead letters expire like the real broker's rows
			// (dls_retention_hours, default 3), so unhandled ones do not
			// pile up forever.
			cfg.TTL = dlsRetention
		}
		kv, err := openBucket(ctx, js, cfg, creator)
		if err != nil {
			return nil, fmt.Errorf("devbroker: open metadata bucket %s: %w", name, err)
		}
		m.kvs[name] = kv
	}
	return m, nil
}

// bucketBindWait is how long a node that is not to create the buckets
// waits for them before it creates them itself.
const bucketBindWait = 10 * time.Second

// openBucket creates or updates a bucket when creator() says this node is
// the one to (a single node; in a cluster, the node of JetStream's meta
// leader), else binds to it once it exists. Nodes of a new cluster start
// together, and when several create the same stream at once, nats-server
// leaves their requests unanswered until they time out.
func openBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, creator func() bool) (jetstream.KeyValue, error) {
	deadline := time.Now().Add(bucketBindWait)
	for {
		if creator() || time.Now().After(deadline) {
			var kv jetstream.KeyValue
			err := retryUnavailable(ctx, func(ctx context.Context) (err error) {
				kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
				return err
			})
			return kv, err
		}
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		kv, err := js.KeyValue(callCtx, cfg.Bucket)
		cancel()
		if err == nil {
			return kv, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retryUnavailable runs f until it succeeds, fails for another reason than
// an unavailable cluster, or metaRetry (or ctx) runs out. Elections after a
// node dies take a few seconds; requests in that window wait them out.
func retryUnavailable(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, metaRetry)
	defer cancel()
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(callCtx)
		callCancel()
		if err == nil || !unavailable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%v)", errUnavailable, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func kvSubject(bucket, key string) string { return "$KV." + bucket + "." + key }

// get loads key from bucket into v; found is false when the key is absent.
func (m *metaStore) get(ctx context.Context, bucket, key string, v any) (found bool, err error) {
	data, found, err := m.getRaw(ctx, bucket, key)
	if err != nil || !found {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// getRaw reads the live value of key from the bucket's stream leader.
func (m *metaStore) getRaw(ctx context.Context, bucket, key string) (data []byte, found bool, err error) {
	var msg *nats.RawStreamMsg
	err = retryUnavailable(ctx, func(ctx context.Context) (err error) {
		msg, err = m.leader.GetLastMsg("KV_"+bucket, kvSubject(bucket, key), nats.Context(ctx))
		if errors.Is(err, nats.ErrMsgNotFound) {
			msg, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read %s/%s: %w", bucket, key, err)
	}
	if msg == nil {
		return nil, false, nil
	}
	switch msg.Header.Get("KV-Operation") { // nats.go's KV markers
	case "DEL", "PURGE":
		return nil, false, nil
	}
	return msg.Data, true, nil
}

// put stores v as JSON and returns the bucket revision of the write (unique
// and increasing within the bucket).
func (m *metaStore) put(ctx context.Context, bucket, key string, v any) (uint64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	var rev uint64
	err = retryUnavailable(ctx, func(ctx context.Context) (err error) {
		rev, err = m.kvs[bucket].Put(ctx, key, data)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("write %s/%s: %w", bucket, key, err)
	}
	return rev, nil
}

// del removes key; a missing key is not an error.
func (m *metaStore) del(ctx context.Context, bucket, key string) error {
	err := retryUnavailable(ctx, func(ctx context.Context) error {
		return m.kvs[bucket].Purge(ctx, key)
	})
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	return nil
}

// revision is the bucket's last revision (the stream leader's last
// sequence): every write made so far is at or below it.
func (m *metaStore) revision(ctx context.Context, bucket string) (uint64, error) {
	var rev uint64
	err := retryUnavailable(ctx, func(ctx context.Context) error {
		s, err := m.js.Stream(ctx, "KV_"+bucket)
		if err != nil {
			return err
		}
		rev = s.CachedInfo().State.LastSeq
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", bucket, err)
	}
	return rev, nil
}

// keys lists the live keys of bucket that start with prefix, in order.
func (m *metaStore) keys(ctx context.Context, bucket, prefix string) ([]string, error) {
	entries, err := m.entries(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.key
	}
	return out, nil
}

// metaEntry is a live key and its value.
type metaEntry struct {
	key   string
	value []byte
}

// entries lists the live entries of bucket whose keys start with prefix,
// sorted by key: the keys from the stream leader's subject list, each
// value read from the leader too (deleted keys keep a marker message,
// which is skipped).
func (m *metaStore) entries(ctx context.Context, bucket, prefix string) ([]metaEntry, error) {
	var subjects map[string]uint64
	err := retryUnavailable(ctx, func(ctx context.Context) error {
		s, err := m.js.Stream(ctx, "KV_"+bucket)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(kvSubject(bucket, ">")))
		if err != nil {
			return err
		}
		subjects = info.State.Subjects
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	keys := make([]string, 0, len(subjects))
	for subj := range subjects {
		if k := strings.TrimPrefix(subj, kvSubject(bucket, "")); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]metaEntry, 0, len(keys))
	for _, k := range keys {
		data, found, err := m.getRaw(ctx, bucket, k)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, metaEntry{key: k, value: data})
		}
	}
	return out, nil
}

// listRecords decodes the live entries of bucket under prefix.
func listRecords[T any](ctx context.Context, m *metaStore, bucket, prefix string) (keys []string, recs []*T, err error) {
	entries, err := m.entries(ctx, bucket, prefix)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		v := new(T)
		if err := json.Unmarshal(e.value, v); err != nil {
			return nil, nil, fmt.Errorf("decode %s/%s: %w", bucket, e.key, err)
		}
		keys, recs = append(keys, e.key), append(recs, v)
	}
	return keys, recs, nil
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

// decodeKeyPart is keyPart's inverse.
func decodeKeyPart(p string) string {
	if h, ok := strings.CutPrefix(p, "="); ok {
		if raw, err := hex.DecodeString(h); err == nil {
			return string(raw)
		}
	}
	return p
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
