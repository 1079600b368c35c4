package sdk

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// BenchmarkIdempotence measures what the idempotent producer option costs
// (docs/resilience.md): nonblocking produce throughput with and without it,
// paired in the same run, and the broker memory each message id takes for
// as long as the station's idempotency window keeps it.
//
//	go test -run '^$' -bench Idempotence -benchtime 200000x ./sdk/
func BenchmarkIdempotence(b *testing.B) {
	ctx := context.Background()
	data := benchPayload()

	b.Run("throughput", func(b *testing.B) {
		env := newBenchEnv(b, "idem-on")
		createStation(b, env.c, "idem-off")
		on := DefaultProducerOptions("idem-on", "bench-on")
		on.Idempotent = true
		pOn, err := env.c.CreateProducer(ctx, on)
		if err != nil {
			b.Fatal(err)
		}
		pOff := createProducer(b, env.c, "idem-off", "bench-off")
		produce := func(p *Producer) func(int) {
			return func(n int) {
				for range n {
					if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		pairedRoundsNamed(b, 10, "idempotent", produce(pOn), "plain", produce(pOff))
	})

	// The broker (in this process) holds each id of its idempotency
	// window; it frees them once the window passes. The heap it gives
	// back then, minus what a station without ids gives back over the
	// same time (message caches expire too), is the cost per id. The
	// window must outlast the production of all b.N messages.
	b.Run("broker-memory", func(b *testing.B) {
		env := newBenchEnv(b, "mem-unused")
		const window = 10 * time.Second
		released := func(station string, idempotent bool) float64 {
			createStation(b, env.c, station, func(o *StationOptions) { o.IdempotencyWindow = window })
			o := DefaultProducerOptions(station, "bench")
			o.Idempotent = idempotent
			p, err := env.c.CreateProducer(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			before := heapInUse()
			time.Sleep(window + 3*time.Second)
			return float64(before-heapInUse()) / float64(b.N)
		}
		b.ResetTimer()
		plain := released("mem-plain", false)
		idem := released("mem-idem", true)
		b.StopTimer()
		b.ReportMetric(idem-plain, "broker-B/id")
	})
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
