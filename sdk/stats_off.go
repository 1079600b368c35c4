//go:build memphis_nostats

package sdk

// statsOn is false in builds tagged memphis_nostats: every counter and
// histogram update compiles to nothing, and snapshots read zeros. Only the
// statistics cost benchmark (docs/statistics.md, "Cost") builds this way.
const statsOn = false
