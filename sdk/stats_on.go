//go:build !memphis_nostats

package sdk

// statsOn is false only in builds tagged memphis_nostats, which compile the
// statistics counters out. They exist to measure what the counters cost
// (docs/statistics.md, "Cost"); a product build always counts.
const statsOn = true
