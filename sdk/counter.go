package sdk

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// counter is one statistics counter: an atomic add on the hot path, no
// lock. With the memphis_nostats build tag it compiles to nothing.
type counter struct{ v atomic.Uint64 }

func (c *counter) add(n uint64) {
	if statsOn {
		c.v.Add(n)
	}
}

func (c *counter) inc() { c.add(1) }

// sub takes back n counted too early.
func (c *counter) sub(n uint64) { c.add(^(n - 1)) }

func (c *counter) load() uint64 {
	if statsOn {
		return c.v.Load()
	}
	return 0
}

// cacheLinePad keeps counters written by different goroutines (producing
// callers, the reply dispatcher) off each other's cache line.
type cacheLinePad [64]byte

// A histogram records durations in microseconds in log-linear buckets of
// atomic counters, the layout HdrHistogram uses: values below 16 µs have a
// bucket each, and every power of two above is split into 16 equal
// buckets, so a bucket is at most 1/16 of its value wide and a percentile
// read from its middle is within about 3 % of the true value. Recording is
// two atomic adds and a compare; it never takes a lock.
//
// Written here rather than taken from a library: hdrhistogram-go records
// under the caller's lock (it is not safe for concurrent writers), and
// metrics libraries' histograms either take a mutex per update or have
// no percentiles.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	sumUs   atomic.Uint64
	maxUs   atomic.Uint64
}

const (
	histSubBits = 4
	histSub     = 1 << histSubBits // buckets per power of two
	// histTopBit is the first power of two past the last bucket: 2^36 µs
	// is 19 hours, far beyond any ack wait or handler time.
	histTopBit  = 36
	histBuckets = histSub + (histTopBit-histSubBits)*histSub
)

// histIndex is the bucket of a value in microseconds.
func histIndex(us uint64) int {
	if us < histSub {
		return int(us)
	}
	e := bits.Len64(us) - 1 // us is in [2^e, 2^(e+1))
	if e >= histTopBit {
		return histBuckets - 1
	}
	sub := int(us>>(e-histSubBits)) & (histSub - 1)
	return histSub + (e-histSubBits)*histSub + sub
}

// histBounds returns the lowest value and the width of bucket i.
func histBounds(i int) (low, width uint64) {
	if i < histSub {
		return uint64(i), 1
	}
	k := i - histSub
	shift := uint(k / histSub)
	return uint64(histSub+k%histSub) << shift, 1 << shift
}

func (h *histogram) record(d time.Duration) {
	if !statsOn {
		return
	}
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.buckets[histIndex(us)].Add(1)
	h.sumUs.Add(us)
	for {
		m := h.maxUs.Load()
		if us <= m || h.maxUs.CompareAndSwap(m, us) {
			return
		}
	}
}

// Latency summarizes a histogram: how many durations were recorded, their
// mean, the 50th, 90th and 99th percentiles and the largest, all in
// microseconds. Percentiles are read from the middle of their bucket
// (within about 3 %) and never exceed Max, which is exact.
type Latency struct {
	Count uint64 `json:"count"`
	Mean  uint64 `json:"mean"`
	P50   uint64 `json:"p50"`
	P90   uint64 `json:"p90"`
	P99   uint64 `json:"p99"`
	Max   uint64 `json:"max"`
}

func (h *histogram) snapshot() Latency {
	if !statsOn {
		return Latency{}
	}
	var counts [histBuckets]uint64
	var l Latency
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		l.Count += counts[i]
	}
	if l.Count == 0 {
		return l
	}
	l.Max = h.maxUs.Load()
	l.Mean = h.sumUs.Load() / l.Count
	pct := func(p uint64) uint64 {
		rank := (l.Count*p + 99) / 100 // the smallest value with p % at or below it
		seen := uint64(0)
		for i, n := range counts {
			if seen += n; seen >= rank {
				low, width := histBounds(i)
				return min(low+width/2, l.Max)
			}
		}
		return l.Max
	}
	l.P50, l.P90, l.P99 = pct(50), pct(90), pct(99)
	return l
}
