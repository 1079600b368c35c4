package sdk

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

type idHandler uint64

func (idHandler) onReply(*nats.Msg, error) {}

// TestReplyTableMatchesMap drives a replyTable and a plain map through the
// same random registrations and removals (mostly in order, with
// stragglers that outlive the ring's span and so move to its map) and
// checks that they always agree.
func TestReplyTableMatchesMap(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const lane = 5
	tab := newReplyTable(lane)
	ref := map[uint64]pendingReply{}
	var next uint64 // local index of the next registration
	var live []uint64
	check := func(id uint64) {
		t.Helper()
		_, want := ref[id]
		if got := tab.has(id); got != want {
			t.Fatalf("has(%d) = %v, want %v (seed %d)", id, got, want, seed)
		}
	}
	sawOlder := false
	for step := range 200000 {
		sawOlder = sawOlder || len(tab.older) > 0
		switch r := rng.IntN(100); {
		case r < 50: // register the next id, sometimes after a gap
			next += 1 + uint64(rng.IntN(2))*uint64(rng.IntN(3))
			id := next<<replyShardBits | lane
			p := pendingReply{deadline: int64(step), h: idHandler(id)}
			tab.put(id, p)
			ref[id] = p
			live = append(live, id)
		case r < 95 && len(live) > 0: // take one, usually among the oldest
			i := rng.IntN(min(len(live), 8))
			if rng.IntN(20) == 0 {
				i = rng.IntN(len(live))
			}
			id := live[i]
			live = append(live[:i], live[i+1:]...)
			p, ok := tab.take(id)
			if !ok || p != ref[id] {
				t.Fatalf("take(%d) = %v, %v; want %v (seed %d)", id, p, ok, ref[id], seed)
			}
			delete(ref, id)
			if _, ok := tab.take(id); ok {
				t.Fatalf("take(%d) twice succeeded (seed %d)", id, seed)
			}
		case r < 96: // late registration of an id below the ring (a racing register)
			if next < 2 {
				continue
			}
			id := uint64(rng.IntN(int(next)))<<replyShardBits | lane
			if _, ok := ref[id]; ok {
				continue
			}
			p := pendingReply{deadline: int64(step), h: idHandler(id)}
			tab.put(id, p)
			ref[id] = p
			live = append(live, id)
		case r < 97: // remove a random subset through each
			seen := 0
			tab.each(func(id uint64, p pendingReply) bool {
				seen++
				if ref[id] != p {
					t.Fatalf("each: %d = %v, want %v (seed %d)", id, p, ref[id], seed)
				}
				if id%3 == 0 {
					delete(ref, id)
					return true
				}
				return false
			})
			if seen != len(ref)+countRemoved(live, ref) {
				t.Fatalf("each saw %d registrations, want %d (seed %d)", seen, len(ref)+countRemoved(live, ref), seed)
			}
			live = keepLive(live, ref)
		default:
			if len(live) > 0 {
				check(live[rng.IntN(len(live))])
			}
			check(next<<replyShardBits | lane + 1<<replyShardBits)
		}
	}
	if !sawOlder {
		t.Fatalf("no registration ever outlived the ring's span: the test misses that path (seed %d)", seed)
	}
	if len(tab.ring) > replyRingMax {
		t.Fatalf("ring grew to %d slots, beyond %d", len(tab.ring), replyRingMax)
	}
	for _, id := range live {
		if _, ok := tab.take(id); !ok {
			t.Fatalf("registration %d lost (seed %d)", id, seed)
		}
	}
	left := 0
	tab.each(func(uint64, pendingReply) bool { left++; return false })
	if left != 0 || len(tab.older) != 0 {
		t.Fatalf("%d registrations (%d in the map) left after taking all (seed %d)", left, len(tab.older), seed)
	}
}

func countRemoved(live []uint64, ref map[uint64]pendingReply) int {
	n := 0
	for _, id := range live {
		if _, ok := ref[id]; !ok {
			n++
		}
	}
	return n
}

func keepLive(live []uint64, ref map[uint64]pendingReply) []uint64 {
	out := live[:0]
	for _, id := range live {
		if _, ok := ref[id]; ok {
			out = append(out, id)
		}
	}
	return out
}
