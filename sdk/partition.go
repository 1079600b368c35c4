package sdk

import (
	"strconv"
	"sync/atomic"

	"github.com/spaolacci/murmur3"
)

// partitionSeed is the murmur3 seed both official SDKs use (§6.1).
const partitionSeed = 31

// partitionIndexForKey maps a key onto an index into a partitions list of
// length n. The hash is kept as uint32 so 32-bit platforms agree (§6.1).
func partitionIndexForKey(key string, n int) int {
	h := murmur3.Sum32WithSeed([]byte(key), partitionSeed)
	return int(h % uint32(n))
}

// partitionSet is the partitions list of one station as the broker sent it,
// plus the round-robin cursor used when no key or number is given.
type partitionSet struct {
	station string // internal station name, for error texts
	list    []int  // empty = legacy station
	next    atomic.Uint64
}

// pick chooses the partition for one produce/fetch (§6.1, §8.1).
func (ps *partitionSet) pick(op, key string, number int) (int, error) {
	n := len(ps.list)
	if key != "" && number > 0 {
		return 0, newErr(CodeInvalidArgument, op, "Can not use both partition number and partition key")
	}
	// A legacy station (no partitions list) is one stream: partition 1.
	if number < 0 || number > max(n, 1) {
		return 0, newErr(CodeInvalidArgument, op, "Partition number is out of range")
	}
	if n == 0 {
		return 0, nil
	}
	if n == 1 {
		return ps.list[0], nil
	}
	if key != "" {
		return ps.list[partitionIndexForKey(key, n)], nil
	}
	if number > 0 {
		for _, p := range ps.list {
			if p == number {
				return p, nil
			}
		}
		return 0, newErr(CodeInvalidArgument, op, "Partition "+strconv.Itoa(number)+" does not exist in station "+ps.station)
	}
	i := ps.next.Add(1) - 1
	return ps.list[i%uint64(n)], nil
}
