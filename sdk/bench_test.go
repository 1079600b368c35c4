package sdk

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Benchmarks put each libmemphis path beside raw nats.go JetStream doing
// the same work against the same memphis-devbroker in the same run; only
// those same-run ratios are meaningful. Run with e.g.
//
//	go test -run '^$' -bench . -benchtime 20000x ./sdk/
//
// Messages are 512 bytes on a 1-partition file-storage station.

const benchMsgSize = 512

type benchEnv struct {
	c   *Conn               // the SDK connection under test
	raw jetstream.JetStream // raw nats.go on a second, independent connection
	nc  *nats.Conn
}

func newBenchEnv(b *testing.B, station string) *benchEnv {
	b.Helper()
	br := startBroker(b)
	c := connect(b, br)
	rawConn := connect(b, br) // only its nats.Conn is used: raw nats.go
	js, err := jetstream.New(rawConn.nc)
	if err != nil {
		b.Fatal(err)
	}
	createStation(b, c, station)
	return &benchEnv{c: c, raw: js, nc: rawConn.nc}
}

func benchPayload() []byte {
	p := make([]byte, benchMsgSize)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}

func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func BenchmarkProduceSync(b *testing.B) {
	env := newBenchEnv(b, "bench-sync")
	ctx := context.Background()
	data := benchPayload()
	b.Run("libmemphis", func(b *testing.B) {
		p := createProducer(b, env.c, "bench-sync", "bench")
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if err := p.Produce(ctx, data, ProduceOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, start)
	})
	b.Run("nats.go", func(b *testing.B) {
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if _, err := env.raw.Publish(ctx, "bench-sync$1.final", data); err != nil {
				b.Fatal(err)
			}
		}
		report(b, start)
	})
}

func BenchmarkProduceAsync(b *testing.B) {
	env := newBenchEnv(b, "bench-async")
	ctx := context.Background()
	data := benchPayload()
	b.Run("libmemphis", func(b *testing.B) {
		p := createProducer(b, env.c, "bench-async", "bench")
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		report(b, start)
	})
	b.Run("nats.go", func(b *testing.B) {
		js, err := jetstream.New(env.nc, jetstream.WithPublishAsyncMaxPending(DefaultMaxInFlight))
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if _, err := js.PublishAsync("bench-async$1.final", data, jetstream.WithStallWait(DefaultAckWait)); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
		report(b, start)
	})
}

// consumeBatch is the fetch size of both consume benchmarks.
const consumeBatch = 500

func BenchmarkConsume(b *testing.B) {
	env := newBenchEnv(b, "bench-consume")
	ctx := context.Background()
	data := benchPayload()
	fill := func(b *testing.B) {
		b.Helper()
		p := createProducer(b, env.c, "bench-consume", "filler")
		for range b.N {
			if err := p.ProduceAsync(ctx, data, ProduceOptions{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("libmemphis", func(b *testing.B) {
		cons := createConsumer(b, env.c, "bench-consume", "sdk-reader", func(o *ConsumerOptions) {
			o.BatchSize = consumeBatch
			o.BatchMaxWait = 5 * time.Second
		})
		fill(b)
		b.ResetTimer()
		start := time.Now()
		for got := 0; got < b.N; {
			msgs, err := cons.Fetch(ctx, min(consumeBatch, b.N-got), PartitionSelector{})
			if err != nil {
				b.Fatal(err)
			}
			if err := AckAll(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			got += len(msgs)
		}
		report(b, start)
		b.StopTimer()
		_ = cons.Destroy(ctx)
	})
	b.Run("nats.go", func(b *testing.B) {
		// The same durable the broker creates for a Memphis consumer group.
		cons := createConsumer(b, env.c, "bench-consume", "raw-reader")
		jc, err := env.raw.Consumer(ctx, "bench-consume$1", "raw-reader")
		if err != nil {
			b.Fatal(err)
		}
		fill(b)
		b.ResetTimer()
		start := time.Now()
		for got := 0; got < b.N; {
			batch, err := jc.Fetch(min(consumeBatch, b.N-got), jetstream.FetchMaxWait(5*time.Second))
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
		report(b, start)
		b.StopTimer()
		_ = cons.Destroy(ctx)
	})
}

// BenchmarkProduceBatch puts ProduceBatch beside a loop of ProduceAsync
// over the same 1000-message batches, against the same broker in the same
// run; both report every delivery to a callback, as the C API does.
func BenchmarkProduceBatch(b *testing.B) {
	env := newBenchEnv(b, "bench-batch")
	ctx := context.Background()
	data := benchPayload()
	const batch = 1000
	msgs := make([]BatchMessage, batch)
	for i := range msgs {
		msgs[i] = BatchMessage{Data: data}
	}
	var failed atomic.Int64
	run := func(b *testing.B, send func(p *Producer, n int)) {
		p := createProducer(b, env.c, "bench-batch", "bench")
		failed.Store(0)
		b.ResetTimer()
		start := time.Now()
		for sent := 0; sent < b.N; sent += batch {
			send(p, min(batch, b.N-sent))
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		report(b, start)
		if f := failed.Load(); f != 0 {
			b.Fatalf("%d deliveries failed", f)
		}
	}
	b.Run("async-loop", func(b *testing.B) {
		each := func(d Delivery) {
			if d.Err != nil {
				failed.Add(1)
			}
		}
		run(b, func(p *Producer, n int) {
			for i := range n {
				if err := p.ProduceAsync(ctx, msgs[i].Data, ProduceOptions{}, each); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("batch", func(b *testing.B) {
		each := func(_ int, d Delivery) {
			if d.Err != nil {
				failed.Add(1)
			}
		}
		run(b, func(p *Producer, n int) {
			if err := p.ProduceBatch(ctx, msgs[:n], each); err != nil {
				b.Fatal(err)
			}
		})
	})
}
