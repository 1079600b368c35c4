package sdk

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// BenchmarkStatsCost measures what the always-on statistics cost: it
// builds this package's tests again with the memphis_nostats tag (the
// counters compiled out), then runs BenchmarkPaired's nonblocking-produce
// and fetch+ack pairs in alternating processes of both builds. Each
// process reports libmemphis's throughput and CPU per message as ratios to
// raw nats.go measured alongside it, which cancels the load of a shared
// machine; the cost is the median over rounds of (with statistics) /
// (without) of those ratios: throughput 0.97 = 3 % slower, CPU per
// message 1.03 = 3 % more.
//
//	go test -run '^$' -bench StatsCost -benchtime 1x ./sdk/
//
// MEMPHIS_STATS_ROUNDS (default 8) and MEMPHIS_STATS_MSGS (default 40000
// per side and process) size the run.
func BenchmarkStatsCost(b *testing.B) {
	if !statsOn {
		b.Skip("run from the default build: it builds the memphis_nostats one itself")
	}
	rounds := envInt("MEMPHIS_STATS_ROUNDS", 8)
	msgs := envInt("MEMPHIS_STATS_MSGS", 40000)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	without := b.TempDir() + "/sdk-nostats.test"
	build := exec.Command("go", "test", "-c", "-tags", "memphis_nostats", "-o", without, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the memphis_nostats tests: %v\n%s", err, out)
	}
	type metrics struct{ ratio, cpu float64 }
	run := func(bin, scenario string) metrics {
		out, err := exec.Command(bin, "-test.run", "^$", "-test.bench", "^BenchmarkPaired$/^"+scenario+"$",
			"-test.benchtime", strconv.Itoa(msgs)+"x", "-test.count", "1").CombinedOutput()
		if err != nil {
			b.Fatalf("%s %s: %v\n%s", bin, scenario, err, out)
		}
		return metrics{ratio: metricOf(b, out, "ratio"), cpu: metricOf(b, out, "cpu-ratio")}
	}
	for _, scenario := range []string{"async-produce", "consume"} {
		var tput, cpu []float64
		var perRound strings.Builder
		for r := range rounds {
			var on, off metrics
			if r%2 == 0 {
				on, off = run(self, scenario), run(without, scenario)
			} else {
				off, on = run(without, scenario), run(self, scenario)
			}
			tput = append(tput, on.ratio/off.ratio)
			cpu = append(cpu, on.cpu/off.cpu)
			fmt.Fprintf(&perRound, " %.3f/%.3f", on.ratio, off.ratio)
		}
		mt, mc := median(tput), median(cpu)
		// Printed rather than b.Logf: benchmark logs are cut after a few lines.
		fmt.Printf("stats cost %s: throughput vs nats.go per round, with/without statistics:%s\n", scenario, perRound.String())
		fmt.Printf("stats cost %s: with/without statistics, median of %d rounds: throughput %.3f (%+.1f %%), CPU per message %.3f (%+.1f %%)\n",
			scenario, rounds, mt, 100*(mt-1), 1/mc, 100*(1/mc-1))
		b.ReportMetric(mt, scenario+"-throughput")
		b.ReportMetric(1/mc, scenario+"-cpu")
	}
}

// metricOf reads a custom metric ("1.234 name") from benchmark output.
func metricOf(b *testing.B, out []byte, name string) float64 {
	fields := strings.Fields(string(out))
	for i := 1; i < len(fields); i++ {
		if fields[i] == name {
			v, err := strconv.ParseFloat(fields[i-1], 64)
			if err == nil {
				return v
			}
		}
	}
	b.Fatalf("no %s metric in\n%s", name, out)
	return 0
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkStatsPerMessage is the statistics work of one message, alone:
// what a nonblocking produce adds (produced, its bytes, the result with
// its ack latency) and what a fetched and acknowledged message adds
// (fetched, bytes, the redelivery check, delivered, acked). In a
// memphis_nostats build it measures the empty calls.
//
//	go test -run '^$' -bench StatsPerMessage ./sdk/
func BenchmarkStatsPerMessage(b *testing.B) {
	b.Run("produce", func(b *testing.B) {
		var s producerCounters
		start := time.Now()
		for range b.N {
			s.produced.inc()
			s.producedBytes.add(512)
			d := Delivery{Sequence: 1}
			s.result(&d, start)
		}
	})
	b.Run("fetch-ack", func(b *testing.B) {
		var s consumerCounters
		m := &nats.Msg{Data: make([]byte, 512), Reply: "$JS.ACK.bench$1.reader.1.42.42.1700000000000000000.0"}
		for range b.N {
			s.received(m)
			s.delivered.add(1)
			s.acked.add(1)
		}
	})
}
