package sdk

import (
	"context"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkPaired runs libmemphis and raw nats.go in alternating chunks of
// the same size against the same broker, so that a busy shared machine
// slows both alike, and reports the ratio libmemphis / nats.go (higher is
// better for libmemphis). b.N is the message count of each side.
//
//	go test -run '^$' -bench Paired -benchtime 40000x ./sdk/
func BenchmarkPaired(b *testing.B) {
	const rounds = 10
	ctx := context.Background()
	data := benchPayload()

	b.Run("sync-produce", func(b *testing.B) {
		env := newBenchEnv(b, "paired-sync")
		p := createProducer(b, env.c, "paired-sync", "bench")
		pairedRounds(b, rounds, func(n int) {
			for range n {
				if err := p.Produce(ctx, data, ProduceOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if _, err := env.raw.Publish(ctx, "paired-sync$1.final", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	b.Run("async-produce", func(b *testing.B) {
		env := newBenchEnv(b, "paired-async")
		p := createProducer(b, env.c, "paired-async", "bench")
		js, err := jetstream.New(env.nc, jetstream.WithPublishAsyncMaxPending(DefaultMaxInFlight))
		if err != nil {
			b.Fatal(err)
		}
		pairedRounds(b, rounds, func(n int) {
			for range n {
				if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}, func(n int) {
			for range n {
				if _, err := js.PublishAsync("paired-async$1.final", data, jetstream.WithStallWait(DefaultAckWait)); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
		})
	})

	// The same pairs, with raw nats.go sending the two headers every
	// Memphis message carries ($memphis_producedBy, $memphis_connectionId):
	// this isolates the SDK's own overhead from the protocol's.
	b.Run("sync-produce-same-headers", func(b *testing.B) {
		env := newBenchEnv(b, "paired-sync-h")
		p := createProducer(b, env.c, "paired-sync-h", "bench")
		hdr := memphisHeaders(env)
		pairedRounds(b, rounds, func(n int) {
			for range n {
				if err := p.Produce(ctx, data, ProduceOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				m := &nats.Msg{Subject: "paired-sync-h$1.final", Data: data, Header: hdr}
				if _, err := env.raw.PublishMsg(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	b.Run("async-produce-same-headers", func(b *testing.B) {
		env := newBenchEnv(b, "paired-async-h")
		p := createProducer(b, env.c, "paired-async-h", "bench")
		js, err := jetstream.New(env.nc, jetstream.WithPublishAsyncMaxPending(DefaultMaxInFlight))
		if err != nil {
			b.Fatal(err)
		}
		hdr := memphisHeaders(env)
		pairedRounds(b, rounds, func(n int) {
			for range n {
				if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}, func(n int) {
			for range n {
				m := &nats.Msg{Subject: "paired-async-h$1.final", Data: data, Header: hdr}
				if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(DefaultAckWait)); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
		})
	})

	// Many producers on one connection: the SDK's producers share the
	// connection's reply routing; raw nats.go gets one JetStream context
	// (its own ack subscription and pending map) per producer, as
	// bench/go does.
	b.Run("async-produce-16", func(b *testing.B) {
		const producers = 16
		env := newBenchEnv(b, "paired-async-16")
		sdkSide := make([]*Producer, producers)
		rawSide := make([]jetstream.JetStream, producers)
		hdrs := make([]nats.Header, producers)
		for i := range producers {
			name := "bench" + strconv.Itoa(i)
			sdkSide[i] = createProducer(b, env.c, "paired-async-16", name)
			js, err := jetstream.New(env.nc, jetstream.WithPublishAsyncMaxPending(DefaultMaxInFlight))
			if err != nil {
				b.Fatal(err)
			}
			rawSide[i] = js
			hdrs[i] = nats.Header{"$memphis_producedBy": {name}, "$memphis_connectionId": {env.c.ConnectionID()}}
		}
		parallel := func(n int, work func(i, n int)) {
			var wg sync.WaitGroup
			for i := range producers {
				share := n / producers
				if i < n%producers {
					share++
				}
				wg.Go(func() { work(i, share) })
			}
			wg.Wait()
		}
		pairedRounds(b, rounds, func(n int) {
			parallel(n, func(i, n int) {
				p := sdkSide[i]
				for range n {
					if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
						b.Error(err)
						return
					}
				}
				if err := p.Flush(ctx); err != nil {
					b.Error(err)
				}
			})
		}, func(n int) {
			parallel(n, func(i, n int) {
				js := rawSide[i]
				for range n {
					m := &nats.Msg{Subject: "paired-async-16$1.final", Data: data, Header: hdrs[i]}
					if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(DefaultAckWait)); err != nil {
						b.Error(err)
						return
					}
				}
				<-js.PublishAsyncComplete()
			})
		})
	})

	b.Run("consume", func(b *testing.B) {
		env := newBenchEnv(b, "paired-consume")
		sdkCons := createConsumer(b, env.c, "paired-consume", "sdk-reader", func(o *ConsumerOptions) {
			o.BatchSize = consumeBatch
			o.BatchMaxWait = 5 * time.Second
		})
		createConsumer(b, env.c, "paired-consume", "raw-reader")
		jc, err := env.raw.Consumer(ctx, "paired-consume$1", "raw-reader")
		if err != nil {
			b.Fatal(err)
		}
		// Both groups read every message: fill once for both.
		p := createProducer(b, env.c, "paired-consume", "filler")
		for range b.N {
			if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		pairedRounds(b, rounds, func(n int) {
			for got := 0; got < n; {
				msgs, err := sdkCons.Fetch(ctx, min(consumeBatch, n-got), PartitionSelector{})
				if err != nil {
					b.Fatal(err)
				}
				if err := AckAll(ctx, msgs); err != nil {
					b.Fatal(err)
				}
				got += len(msgs)
			}
		}, func(n int) {
			for got := 0; got < n; {
				batch, err := jc.Fetch(min(consumeBatch, n-got), jetstream.FetchMaxWait(5*time.Second))
				if err != nil {
					b.Fatal(err)
				}
				for m := range batch.Messages() {
					if err := m.Ack(); err != nil {
						b.Fatal(err)
					}
					got++
				}
				if err := batch.Error(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// pairedRounds splits b.N into rounds chunks and runs sdk and raw on each
// chunk in turn (alternating which goes first), then reports both rates
// and their ratio.
func pairedRounds(b *testing.B, rounds int, sdk, raw func(n int)) {
	b.Helper()
	pairedRoundsNamed(b, rounds, "sdk", sdk, "nats", raw)
}

// pairedRoundsNamed is pairedRounds for any two sides: it reports
// "<nameA>-msgs/s", "<nameB>-msgs/s" and ratio = A/B, and cpu-ratio: the
// process CPU time per message of B over A's. The process holds the
// in-process broker too, so that is the whole cost of a message; on a
// machine shared with other work it varies far less than wall time.
func pairedRoundsNamed(b *testing.B, rounds int, nameA string, a func(n int), nameB string, bb func(n int)) {
	b.Helper()
	var tA, tB, cA, cB time.Duration
	b.ResetTimer()
	done := 0
	for r := 0; r < rounds; r++ {
		n := b.N / rounds
		if r == rounds-1 {
			n = b.N - done
		}
		done += n
		if n == 0 {
			continue
		}
		runA := func() { s, c := time.Now(), cpuTime(); a(n); tA += time.Since(s); cA += cpuTime() - c }
		runB := func() { s, c := time.Now(), cpuTime(); bb(n); tB += time.Since(s); cB += cpuTime() - c }
		if r%2 == 0 {
			runA()
			runB()
		} else {
			runB()
			runA()
		}
	}
	b.StopTimer()
	rateA := float64(b.N) / tA.Seconds()
	rateB := float64(b.N) / tB.Seconds()
	b.ReportMetric(rateA, nameA+"-msgs/s")
	b.ReportMetric(rateB, nameB+"-msgs/s")
	b.ReportMetric(rateA/rateB, "ratio")
	b.ReportMetric(float64(cB)/float64(cA), "cpu-ratio")
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memphisHeaders are the headers the SDK adds to every message.
func memphisHeaders(env *benchEnv) nats.Header {
	return nats.Header{
		"$memphis_producedBy":   []string{"bench"},
		"$memphis_connectionId": []string{env.c.ConnectionID()},
	}
}
