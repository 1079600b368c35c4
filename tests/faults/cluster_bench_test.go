package faults

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

// BenchmarkClusterThroughput measures nonblocking produce (until every
// message is acknowledged) and fetch + ack, 512-byte messages, on:
// a single node with an R1 station; a 3-node cluster with an R1 and with
// an R3 station; with --sync always, the single node (R1) and the cluster
// (R3); and the single node with nats-server's own default, --sync 2m
// (memphis-devbroker's is 1s). All brokers run at once as child processes; each round
// runs every setup in a rotated order, and each figure is the median of
// its per-round ratio to the single node's R1 of the same round.
//
//	go test -v -run '^$' -bench ClusterThroughput -benchtime 1x ./tests/faults/
//
// (-v: without it, go test cuts a benchmark's log after 10 lines and the
// table loses its last rows.) CLUSTER_BENCH_MSGS (default 100000: fewer
// make a single node's run too short to time) and CLUSTER_BENCH_ROUNDS
// (default 9) change the size.
func BenchmarkClusterThroughput(b *testing.B) {
	msgs, rounds := envInt("CLUSTER_BENCH_MSGS", 100000), envInt("CLUSTER_BENCH_ROUNDS", 9)
	single, singleAlways, single2m := startBroker(b), startBroker(b, "--sync", "always"), startBroker(b, "--sync", "2m")
	cl, clAlways := startCluster(b, 3), startCluster(b, 3, "--sync", "always")
	singleConn, singleAlwaysConn, single2mConn := single.connect(b), singleAlways.connect(b), single2m.connect(b)
	clConn, clAlwaysConn := cl.connect(b), clAlways.connect(b)
	setups := []benchSetup{
		{name: "single node, R1", conn: singleConn, replicas: 1},
		{name: "cluster, R1", conn: clConn, replicas: 1},
		{name: "cluster, R3", conn: clConn, replicas: 3},
		{name: "single node, R1, --sync always", conn: singleAlwaysConn, replicas: 1},
		{name: "cluster, R3, --sync always", conn: clAlwaysConn, replicas: 3},
		{name: "single node, R1, --sync 2m", conn: single2mConn, replicas: 1},
	}
	produce := make([][]float64, len(setups)) // per setup, per round: msgs/s
	fetch := make([][]float64, len(setups))
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			for k := range setups {
				i := (k + r) % len(setups)
				p, f := setups[i].run(b, fmt.Sprintf("bench-%d-%d", i, r), msgs)
				produce[i] = append(produce[i], p)
				fetch[i] = append(fetch[i], f)
			}
		}
	}
	b.StopTimer()
	var table strings.Builder
	fmt.Fprintf(&table, "cluster throughput, %d messages of %d B per run, %d rounds (medians; ratios to the single node's R1, per round):\n", msgs, msgSize, len(produce[0]))
	fmt.Fprintf(&table, "| setup | nonblocking produce msg/s | ratio | fetch + ack msg/s | ratio |\n| --- | --- | --- | --- | --- |\n")
	for i, s := range setups {
		pr, fr := ratios(produce[i], produce[0]), ratios(fetch[i], fetch[0])
		fmt.Fprintf(&table, "| %s | %.0f | %.2f | %.0f | %.2f |\n", s.name, median(produce[i]), median(pr), median(fetch[i]), median(fr))
		key := strings.NewReplacer(", ", "-", " ", "-", "--", "").Replace(s.name)
		b.ReportMetric(median(pr), key+"-produce-ratio")
		b.ReportMetric(median(fr), key+"-fetch-ratio")
	}
	// --sync always against the same setup with the default interval.
	fmt.Fprintf(&table, "--sync always vs the default (1s): single node R1 produce %.2f, fetch %.2f; cluster R3 produce %.2f, fetch %.2f\n",
		median(ratios(produce[3], produce[0])), median(ratios(fetch[3], fetch[0])),
		median(ratios(produce[4], produce[2])), median(ratios(fetch[4], fetch[2])))
	fmt.Fprintf(&table, "the default (1s) vs nats-server's 2m: single node R1 produce %.2f, fetch %.2f\n",
		median(ratios(produce[0], produce[5])), median(ratios(fetch[0], fetch[5])))
	b.Log("\n" + table.String())
}

type benchSetup struct {
	name     string
	conn     *sdk.Conn
	replicas int
}

// run produces n messages to a new station (nonblocking, until all are
// acknowledged), then fetches and acks them, and returns both rates.
func (s benchSetup) run(b *testing.B, station string, n int) (produceRate, fetchRate float64) {
	b.Helper()
	ctx := testCtx(b)
	so := sdk.DefaultStationOptions(station)
	so.Replicas = s.replicas
	st, err := s.conn.CreateStation(ctx, so)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Destroy(context.Background()) }()
	p, err := s.conn.CreateProducer(ctx, sdk.DefaultProducerOptions(station, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	data := payload(0)
	start := time.Now()
	for range n {
		if err := p.ProduceAsync(ctx, data, sdk.ProduceOptions{}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	produceRate = float64(n) / time.Since(start).Seconds()
	o := sdk.DefaultConsumerOptions(station, "bench")
	o.BatchSize, o.BatchMaxWait = 500, time.Second
	c, err := s.conn.CreateConsumer(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	for got := 0; got < n; {
		msgs, err := c.Fetch(ctx, min(500, n-got), sdk.PartitionSelector{})
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) == 0 {
			b.Fatalf("%s: drained after %d of %d", station, got, n)
		}
		if err := sdk.AckAll(ctx, msgs); err != nil {
			b.Fatal(err)
		}
		got += len(msgs)
	}
	fetchRate = float64(n) / time.Since(start).Seconds()
	_ = c.Destroy(context.Background())
	_ = p.Destroy(context.Background())
	return produceRate, fetchRate
}

func ratios(a, base []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / base[i]
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
