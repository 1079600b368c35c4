package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

// benchRole says which sides a bench run has.
type benchRole struct{ produce, consume bool }

func runBenchProduce(ctx context.Context, s stdio, path string, args []string) error {
	return runBench(ctx, s, path, args, benchRole{produce: true})
}

func runBenchConsume(ctx context.Context, s stdio, path string, args []string) error {
	return runBench(ctx, s, path, args, benchRole{consume: true})
}

func runBenchBoth(ctx context.Context, s stdio, path string, args []string) error {
	return runBench(ctx, s, path, args, benchRole{produce: true, consume: true})
}

// benchConfig is one bench run's command line.
type benchConfig struct {
	role         benchRole
	station      string
	count, size  int
	producers    int
	consumers    int
	mode         string // nonblocking, sync or batch
	produceBatch int
	timeout      time.Duration
	format       string
	popts        sdk.ProducerOptions
	copts        sdk.ConsumerOptions
}

const benchAbout = `Measures throughput like 'nats bench'. Producers share --count messages of
--size bytes and report msg/s, MB/s (10^6 payload bytes) and the ack latency
(from the produce call to the broker's acknowledgement) at p50, p90, p99 and
max. Consumers form one new group (deleted at exit), fetch and acknowledge
--count messages between them, and report msg/s and MB/s. 'both' starts the
consumers first, on new messages only, then the producers.
STATION defaults to memphis-bench.`

func runBench(ctx context.Context, s stdio, path string, args []string, role benchRole) error {
	c := newCmdLine(s, path, "[STATION]", benchAbout)
	cfg := benchConfig{role: role, station: "memphis-bench"}
	c.fs.IntVar(&cfg.count, "count", 10000, "messages in all")
	c.fs.DurationVar(&cfg.timeout, "timeout", 0, "give up after this long (0 = no limit)")
	format := newChoice("text", "text", "json")
	c.fs.Var(format, "format", "output `format`: text or json")
	mode := newChoice("nonblocking", "nonblocking", "sync", "batch")
	cfg.popts = sdk.DefaultProducerOptions("", "")
	cfg.copts = sdk.DefaultConsumerOptions("", "")
	if role.produce {
		c.fs.IntVar(&cfg.size, "size", 128, "message size in bytes")
		c.fs.IntVar(&cfg.producers, "producers", 1, "concurrent producers")
		c.fs.Var(mode, "mode", "produce `mode`: nonblocking (ProduceAsync), sync (Produce) or batch (ProduceBatch)")
		c.fs.IntVar(&cfg.produceBatch, "produce-batch", 100, "messages per ProduceBatch call in batch mode")
		bindOptions(c.fs, &cfg.popts, producerHelp, "StationNames", "Name")
	}
	if role.consume {
		c.fs.IntVar(&cfg.consumers, "consumers", 1, "concurrent consumers in the group")
		bindOptions(c.fs, &cfg.copts, consumerHelp, append(consumerSkip, "Group")...)
		if !role.produce {
			bindStart(c, &cfg.copts)
		}
	}
	cf := addConnFlags(c, s.getenv)
	pos, err := c.parse(args, 0, 1)
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		cfg.station = pos[0]
	}
	cfg.mode, cfg.format = mode.value, format.value
	switch {
	case cfg.count < 1:
		return usagef("--count must be at least 1")
	case cfg.size < 0:
		return usagef("--size must not be negative")
	case role.produce && cfg.producers < 1:
		return usagef("--producers must be at least 1")
	case role.consume && cfg.consumers < 1:
		return usagef("--consumers must be at least 1")
	case role.produce && cfg.produceBatch < 1:
		return usagef("--produce-batch must be at least 1")
	case cfg.timeout < 0:
		return usagef("--timeout must not be negative")
	}
	conn, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	rep, err := benchRun(ctx, conn, cfg)
	if err != nil {
		return err
	}
	if err := rep.write(s.out, cfg.format); err != nil {
		return err
	}
	return rep.verdict(cfg)
}

// benchRun creates the clients, runs them and collects the report.
func benchRun(ctx context.Context, conn *sdk.Conn, cfg benchConfig) (*benchReport, error) {
	rep := &benchReport{Station: cfg.station, Count: cfg.count}
	var consumers []*sdk.Consumer
	if cfg.role.consume {
		group := uniqueName("memphis-bench")
		o := cfg.copts
		o.StationName, o.Group = cfg.station, group
		if cfg.role.produce {
			o.LastMessages = 0 // only the messages this run produces
		}
		defer func() {
			for _, c := range consumers {
				_ = c.Destroy(context.WithoutCancel(ctx))
			}
		}()
		for i := range cfg.consumers {
			o.Name = fmt.Sprintf("%s-c%d", group, i+1)
			c, err := conn.CreateConsumer(ctx, o)
			if err != nil {
				return nil, err
			}
			consumers = append(consumers, c)
		}
	}
	var producers []*sdk.Producer
	if cfg.role.produce {
		rep.Mode, rep.Size = cfg.mode, &cfg.size
		prefix := uniqueName("memphis-bench")
		defer func() {
			for _, p := range producers {
				_ = p.Destroy(context.WithoutCancel(ctx))
			}
		}()
		for i := range cfg.producers {
			o := cfg.popts
			o.StationNames, o.Name = []string{cfg.station}, fmt.Sprintf("%s-p%d", prefix, i+1)
			p, err := conn.CreateProducer(ctx, o)
			if err != nil {
				return nil, err
			}
			producers = append(producers, p)
		}
	}

	var wg sync.WaitGroup
	quota := newQuota(ctx, cfg.count)
	defer quota.stop()
	if consumers != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Consumers = consumeBench(consumers, cfg, quota)
		}()
	}
	if producers != nil {
		rep.Producers = produceBench(ctx, producers, cfg)
		quota.lower(rep.Producers.Messages)
	}
	wg.Wait()
	return rep, nil
}

// produceBench runs the producers, each sending its share of the count.
func produceBench(ctx context.Context, producers []*sdk.Producer, cfg benchConfig) *sideReport {
	payload := bytes.Repeat([]byte{'x'}, cfg.size)
	results := make([]clientRun, len(producers))
	var wg sync.WaitGroup
	start := time.Now()
	for i, p := range producers {
		n := cfg.count / len(producers)
		if i < cfg.count%len(producers) {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = produceOne(ctx, p, payload, n, cfg)
		}()
	}
	wg.Wait()
	return summarize(results, start, true)
}

// clientRun is what one producer or consumer did.
type clientRun struct {
	ok, failed int
	bytes      int64           // payload bytes of the ok messages
	end        time.Time       // last acknowledgement or message
	latency    []time.Duration // per acknowledged message (producers)
	err        error           // why it stopped early, if it did
}

// produceOne sends n messages with one producer in the configured mode.
// Latency slots of failed messages stay -1 and are left out.
func produceOne(ctx context.Context, p *sdk.Producer, payload []byte, n int, cfg benchConfig) clientRun {
	lat := make([]time.Duration, n)
	var (
		acks   sync.WaitGroup
		failed atomic.Int64
		run    clientRun
	)
	record := func(i int, start time.Time, err error) {
		if err != nil {
			lat[i] = -1
			failed.Add(1)
			return
		}
		lat[i] = time.Since(start)
	}
	sent := 0
	switch cfg.mode {
	case "sync":
		for ; sent < n && run.err == nil; sent++ {
			start := time.Now()
			err := p.Produce(ctx, payload, sdk.ProduceOptions{})
			record(sent, start, err)
			run.err = err
		}
	case "batch":
		batch := make([]sdk.BatchMessage, cfg.produceBatch)
		for i := range batch {
			batch[i].Data = payload
		}
		for sent < n && run.err == nil {
			k := min(len(batch), n-sent)
			off, start := sent, time.Now()
			acks.Add(k)
			// done runs once per message, sent or not; the returned error
			// repeats the first failure, already counted.
			run.err = p.ProduceBatch(ctx, batch[:k], func(j int, d sdk.Delivery) {
				record(off+j, start, d.Err)
				acks.Done()
			})
			sent += k
		}
	default: // nonblocking
		for ; sent < n; sent++ {
			start, i := time.Now(), sent
			acks.Add(1)
			err := p.ProduceAsync(ctx, payload, sdk.ProduceOptions{}, func(d sdk.Delivery) {
				record(i, start, d.Err)
				acks.Done()
			})
			if err != nil {
				acks.Done()
				run.err = err
				break
			}
		}
	}
	acks.Wait()
	run.end = time.Now()
	run.failed = int(failed.Load()) + (n - sent)
	run.ok = n - run.failed
	run.bytes = int64(run.ok) * int64(len(payload))
	for _, d := range lat[:sent] {
		if d >= 0 {
			run.latency = append(run.latency, d)
		}
	}
	if run.err == nil && run.failed > 0 {
		run.err = p.Flush(ctx)
	}
	return run
}

// consumeQuota is how many messages the consumers still have to fetch.
// A consumer reserves the messages it asks for, so the group never takes
// more than the count; a fetch that brings fewer gives the rest back.
// Its context ends once the quota is met, so no consumer stays in a
// long-polling fetch for messages nobody needs any more.
type consumeQuota struct {
	want, remaining, received atomic.Int64
	ctx                       context.Context
	stop                      context.CancelFunc
}

func newQuota(ctx context.Context, n int) *consumeQuota {
	q := &consumeQuota{}
	q.ctx, q.stop = context.WithCancel(ctx)
	q.want.Store(int64(n))
	q.remaining.Store(int64(n))
	return q
}

// got counts n fetched and acknowledged messages.
func (q *consumeQuota) got(n int) {
	if q.received.Add(int64(n)) >= q.want.Load() {
		q.stop()
	}
}

func (q *consumeQuota) reserve(n int) int {
	for {
		r := q.remaining.Load()
		if r <= 0 {
			return 0
		}
		k := min(r, int64(n))
		if q.remaining.CompareAndSwap(r, r-k) {
			return int(k)
		}
	}
}

func (q *consumeQuota) done() bool { return q.received.Load() >= q.want.Load() }

// lower cuts the quota to n: in 'both', when the producers got only n
// messages acknowledged, the consumers must not wait for the others.
func (q *consumeQuota) lower(n int) {
	if cut := q.want.Load() - int64(n); cut > 0 {
		q.want.Add(-cut)
		q.remaining.Add(-cut)
	}
	if q.done() {
		q.stop()
	}
}

// consumeBench runs the consumers until they have fetched and acknowledged
// their quota between them, or the quota's context ends.
func consumeBench(consumers []*sdk.Consumer, cfg benchConfig, q *consumeQuota) *sideReport {
	ctx := q.ctx
	results := make([]clientRun, len(consumers))
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := &results[i]
			for !q.done() && ctx.Err() == nil {
				k := q.reserve(cfg.copts.BatchSize)
				if k == 0 { // the rest is asked for by others; they may give some back
					time.Sleep(time.Millisecond)
					continue
				}
				msgs, err := c.Fetch(ctx, k, sdk.PartitionSelector{})
				q.remaining.Add(int64(k - len(msgs)))
				if len(msgs) > 0 {
					if aerr := sdk.AckAll(context.WithoutCancel(ctx), msgs); aerr != nil {
						// Unacknowledged: redelivered later, to another consumer.
						q.remaining.Add(int64(len(msgs)))
						run.err, run.failed = aerr, run.failed+len(msgs)
						return
					}
					run.ok += len(msgs)
					for _, m := range msgs {
						run.bytes += int64(len(m.Data()))
					}
					run.end = time.Now()
					q.got(len(msgs))
				}
				if err != nil && ctx.Err() == nil {
					run.err = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return summarize(results, start, false)
}
