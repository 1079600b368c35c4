package sdk

// replyTable holds the registrations of one replyMux shard by id. Ids
// are handed out in sequence and most replies come back in about that
// order, so the registrations live in a ring indexed by id, where a
// lookup is an index instead of a hash probe (with tens of thousands of
// produces in flight, probing a map was the largest cost of routing an
// acknowledgement). A registration that falls behind the ring's span (a
// produce held for a long backoff, a slow confirmation) moves to a small
// map.
//
// A shard holds the ids whose low replyShardBits bits are its lane; its
// local index of an id is the rest (id >> replyShardBits). The caller
// holds the shard's lock.
type replyTable struct {
	lane uint64
	// ring[k&(len-1)] holds local index k, for base <= k < top; top-base
	// never exceeds len(ring). An empty slot has a nil handler.
	ring      []pendingReply
	base, top uint64
	older     map[uint64]pendingReply // by id: registrations below base
}

// The ring starts small (a quiet connection keeps little) and grows to
// replyRingMax slots per shard before it pushes registrations out.
const (
	replyRingMin = 64
	replyRingMax = 8192
)

func newReplyTable(lane uint64) replyTable {
	return replyTable{lane: lane, ring: make([]pendingReply, replyRingMin)}
}

func (t *replyTable) id(k uint64) uint64 { return k<<replyShardBits | t.lane }

func (t *replyTable) put(id uint64, p pendingReply) {
	k := id >> replyShardBits
	if k < t.base {
		t.putOlder(id, p)
		return
	}
	if t.base == t.top {
		t.base, t.top = k, k // empty: start the span here
	}
	for k-t.base >= uint64(len(t.ring)) && len(t.ring) < replyRingMax {
		t.grow()
	}
	if k-t.base >= uint64(len(t.ring)) {
		// Make room: the oldest registrations move to the map.
		need := k - uint64(len(t.ring)) + 1
		for ; t.base < need && t.base < t.top; t.base++ {
			s := &t.ring[t.base&uint64(len(t.ring)-1)]
			if s.h != nil {
				t.putOlder(t.id(t.base), *s)
				*s = pendingReply{}
			}
		}
		t.base = max(t.base, need)
	}
	t.ring[k&uint64(len(t.ring)-1)] = p
	t.top = max(t.top, k+1, t.base)
}

func (t *replyTable) putOlder(id uint64, p pendingReply) {
	if t.older == nil {
		t.older = make(map[uint64]pendingReply)
	}
	t.older[id] = p
}

// grow doubles the ring, keeping every slot at its index.
func (t *replyTable) grow() {
	ring := make([]pendingReply, 2*len(t.ring))
	for k := t.base; k < t.top; k++ {
		ring[k&uint64(len(ring)-1)] = t.ring[k&uint64(len(t.ring)-1)]
	}
	t.ring = ring
}

// slot is where id lives in the ring, or nil when it is not there.
func (t *replyTable) slot(id uint64) *pendingReply {
	k := id >> replyShardBits
	if k < t.base || k >= t.top {
		return nil
	}
	return &t.ring[k&uint64(len(t.ring)-1)]
}

func (t *replyTable) has(id uint64) bool {
	if s := t.slot(id); s != nil {
		return s.h != nil
	}
	_, ok := t.older[id]
	return ok
}

// take removes and returns the registration of id.
func (t *replyTable) take(id uint64) (pendingReply, bool) {
	if s := t.slot(id); s != nil {
		p := *s
		if p.h == nil {
			return p, false
		}
		*s = pendingReply{}
		t.trim()
		return p, true
	}
	if id>>replyShardBits >= t.base {
		return pendingReply{}, false
	}
	p, ok := t.older[id]
	if ok {
		delete(t.older, id)
	}
	return p, ok
}

// trim moves base past empty slots.
func (t *replyTable) trim() {
	for t.base < t.top && t.ring[t.base&uint64(len(t.ring)-1)].h == nil {
		t.base++
	}
}

// each calls f for every registration, removing those for which it
// returns true. f must not use the table.
func (t *replyTable) each(f func(id uint64, p pendingReply) (remove bool)) {
	for k := t.base; k < t.top; k++ {
		s := &t.ring[k&uint64(len(t.ring)-1)]
		if s.h != nil && f(t.id(k), *s) {
			*s = pendingReply{}
		}
	}
	t.trim()
	for id, p := range t.older {
		if f(id, p) {
			delete(t.older, id)
		}
	}
}
