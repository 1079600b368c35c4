package compat

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/sdk"
	"github.com/memphisdev/memphis.go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkMsgIDDedupCost measures what memphis-devbroker's msg-id ingest
// path costs: nonblocking produce throughput on a broker with it and on
// one without it (DisableMsgIDDedup), in alternating rounds of the same
// run. Each round measures both brokers back to back (order alternating),
// so the ratio reported is the median of the rounds' with/without ratios:
// load from elsewhere on the machine hits both halves of a round alike.
//
//   - libmemphis: libmemphis on a station only it produces to (it sends
//     Nats-Msg-Id itself, so the station keeps the direct path), while
//     another station of the same broker is routed: the cost every
//     libmemphis user pays.
//   - libmemphis-mixed: libmemphis on a station that also has a memphis.go
//     producer, so all of its messages take the ingest path.
//   - memphis.go: the official SDK's async produce on its station.
//
// Run: cd tests/compat && go test -run '^$' -bench MsgIDDedupCost -benchtime 1x
func BenchmarkMsgIDDedupCost(b *testing.B) {
	const (
		msgs   = 10000
		rounds = 21
	)
	with := newDedupBenchEnv(b, devbrokertest.Start(b))
	without := newDedupBenchEnv(b, devbrokertest.Start(b, func(o *devbroker.Options) { o.DisableMsgIDDedup = true }))
	data := make([]byte, 512)
	kinds := []string{"libmemphis", "libmemphis-mixed", "memphis.go"}
	rates := map[string]map[*dedupBenchEnv][]float64{}
	for _, k := range kinds {
		rates[k] = map[*dedupBenchEnv][]float64{}
	}
	seq := 0
	b.ResetTimer()
	for range b.N {
		for r := 0; r < rounds; r++ {
			order := []*dedupBenchEnv{with, without}
			if r%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, k := range kinds {
				for _, env := range order {
					seq += msgs
					rates[k][env] = append(rates[k][env], env.run(b, k, msgs, seq, data))
				}
			}
		}
	}
	b.StopTimer()
	for _, k := range kinds {
		w, wo := rates[k][with], rates[k][without]
		ratios := make([]float64, len(w))
		for i := range w {
			ratios[i] = w[i] / wo[i]
		}
		b.ReportMetric(median(w), k+"-with-msgs/s")
		b.ReportMetric(median(wo), k+"-without-msgs/s")
		b.ReportMetric(median(ratios), k+"-ratio")
	}
}

type dedupBenchEnv struct {
	addr      string
	lib       *sdk.Producer // on "bench-lib": libmemphis only
	mixed     *sdk.Producer // on "bench-mixed": also has a memphis.go producer
	official  *memphis.Producer
	js        jetstream.JetStream
	producedN map[string]int
}

func newDedupBenchEnv(b *testing.B, br *devbroker.Broker) *dedupBenchEnv {
	b.Helper()
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(br.Addr())
	o := sdk.DefaultConnectOptions()
	o.Host, o.Username, o.Password = host, "root", "memphis"
	o.Port, _ = strconv.Atoi(port)
	conn, err := sdk.Connect(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	official, err := memphis.Connect(host, "root", memphis.Password("memphis"), memphis.Port(br.Port()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(official.Close)
	env := &dedupBenchEnv{addr: br.Addr(), producedN: map[string]int{}}
	for _, name := range []string{"bench-lib", "bench-mixed", "bench-official"} {
		// Bounded retention keeps the run's disk use small.
		so := sdk.DefaultStationOptions(name)
		so.RetentionType, so.RetentionValue = sdk.RetentionMessages, 50000
		if _, err := conn.CreateStation(ctx, so); err != nil {
			b.Fatal(err)
		}
	}
	if env.lib, err = conn.CreateProducer(ctx, sdk.DefaultProducerOptions("bench-lib", "lib")); err != nil {
		b.Fatal(err)
	}
	if env.mixed, err = conn.CreateProducer(ctx, sdk.DefaultProducerOptions("bench-mixed", "lib")); err != nil {
		b.Fatal(err)
	}
	if _, err := official.CreateProducer("bench-mixed", "official"); err != nil {
		b.Fatal(err)
	}
	if env.official, err = official.CreateProducer("bench-official", "official"); err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect("nats://"+br.Addr(), nats.UserInfo("root", "memphis"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	if env.js, err = jetstream.New(nc); err != nil {
		b.Fatal(err)
	}
	return env
}

// run produces n messages with unique msg ids the way kind does and
// returns messages per second, counted until the broker acknowledged (or
// for memphis.go, whose async produce has no flush, stored) them all.
func (e *dedupBenchEnv) run(b *testing.B, kind string, n, idBase int, data []byte) float64 {
	ctx := context.Background()
	start := time.Now()
	switch kind {
	case "libmemphis", "libmemphis-mixed":
		p := e.lib
		if kind == "libmemphis-mixed" {
			p = e.mixed
		}
		for i := 0; i < n; i++ {
			if err := p.ProduceAsync(ctx, data, sdk.ProduceOptions{MsgID: strconv.Itoa(idBase + i)}, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	case "memphis.go":
		for i := 0; i < n; i++ {
			if err := e.official.Produce(data, memphis.MsgId(strconv.Itoa(idBase+i)), memphis.AsyncProduce()); err != nil {
				b.Fatal(err)
			}
		}
		e.producedN[kind] += n
		for {
			s, err := e.js.Stream(ctx, "bench-official$1")
			if err != nil {
				b.Fatal(err)
			}
			if s.CachedInfo().State.LastSeq >= uint64(e.producedN[kind]) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	default:
		panic(fmt.Sprintf("unknown kind %q", kind))
	}
	return float64(n) / time.Since(start).Seconds()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
