package main

import (
	"sync"
	"sync/atomic"
)

// kind tags a handle with its C type so a handle of one type passed where
// another is expected is rejected instead of misused.
type kind uint64

const (
	kindConn kind = iota + 1
	kindConnOpts
	kindStation
	kindStationOpts
	kindProducer
	kindProducerOpts
	kindConsumer
	kindConsumerOpts
	kindMsg
	kindHeaders
	kindQueue
)

var kindNames = [...]string{
	kindConn:         "memphis_conn_t",
	kindConnOpts:     "memphis_conn_opts_t",
	kindStation:      "memphis_station_t",
	kindStationOpts:  "memphis_station_opts_t",
	kindProducer:     "memphis_producer_t",
	kindProducerOpts: "memphis_producer_opts_t",
	kindConsumer:     "memphis_consumer_t",
	kindConsumerOpts: "memphis_consumer_opts_t",
	kindMsg:          "memphis_msg_t",
	kindHeaders:      "memphis_headers_t",
	kindQueue:        "memphis_queue_t",
}

func (k kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "handle"
}

// The kind lives in the top byte. Ids are therefore far above any user-space
// address, so a handle is never mistaken for (or dereferenced as) memory,
// and the 56-bit counter cannot wrap in practice: ids are never reused.
const kindShift = 56

// The table is sharded by id so that threads producing, consuming and
// destroying messages concurrently rarely meet on one lock, and a plain map
// insert is cheaper than sync.Map's for the many short-lived message
// handles.
const shardCount = 64

type shard struct {
	mu sync.RWMutex
	m  map[uint64]any
}

var (
	lastID atomic.Uint64
	shards [shardCount]shard
)

func init() {
	for i := range shards {
		shards[i].m = make(map[uint64]any)
	}
}

func shardOf(id uint64) *shard { return &shards[id%shardCount] }

// newHandle registers v and returns its new, never reused id.
func newHandle(k kind, v any) uint64 {
	id := uint64(k)<<kindShift | lastID.Add(1)
	sh := shardOf(id)
	sh.mu.Lock()
	sh.m[id] = v
	sh.mu.Unlock()
	return id
}

// lookup returns the live object of kind k behind id.
func lookup[T any](id uint64, k kind) (T, bool) {
	var zero T
	if kind(id>>kindShift) != k {
		return zero, false
	}
	sh := shardOf(id)
	sh.mu.RLock()
	v, ok := sh.m[id]
	sh.mu.RUnlock()
	if !ok {
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// release removes id from the table and returns its object; only the first
// of concurrent or repeated releases succeeds, so double destroy is harmless.
func release[T any](id uint64, k kind) (T, bool) {
	var zero T
	if kind(id>>kindShift) != k {
		return zero, false
	}
	sh := shardOf(id)
	sh.mu.Lock()
	v, ok := sh.m[id]
	if ok {
		if _, typed := v.(T); typed {
			delete(sh.m, id)
		}
	}
	sh.mu.Unlock()
	if !ok {
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// each calls f for every live object of kind k (outside the table's locks,
// so f may use the table).
func each[T any](k kind, f func(T)) {
	var found []T
	for i := range shards {
		sh := &shards[i]
		sh.mu.RLock()
		for id, v := range sh.m {
			if kind(id>>kindShift) == k {
				if t, ok := v.(T); ok {
					found = append(found, t)
				}
			}
		}
		sh.mu.RUnlock()
	}
	for _, t := range found {
		f(t)
	}
}
