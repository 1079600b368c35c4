// Command sdkbench is the sdk/ column of bench/c: the same scenarios as
// bench.c (512-byte messages) through the Go SDK directly, so the C API's
// cost can be read as a ratio measured in the same run. Each scenario
// prints "go <scenario> <messages> <seconds> <msg/s> <client CPU us/msg>",
// the CPU time being this process's (user + system) over the scenario.
//
// Usage: sdkbench HOST PORT N_ASYNC N_SYNC [async|batch|sync|consume]...
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

const (
	msgSize = 512
	batch   = 500
)

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: sdkbench HOST PORT N_ASYNC N_SYNC [scenario]...")
		os.Exit(2)
	}
	port, _ := strconv.Atoi(os.Args[2])
	n, _ := strconv.Atoi(os.Args[3])
	nsync, _ := strconv.Atoi(os.Args[4])
	if path := os.Getenv("SDKBENCH_CPUPROFILE"); path != "" {
		// Where the client's CPU goes (go tool pprof); not used by run.sh.
		f, err := os.Create(path)
		must(err, "cpu profile")
		must(pprof.StartCPUProfile(f), "cpu profile")
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	o := sdk.DefaultConnectOptions()
	o.Host, o.Port, o.Username, o.Password = os.Args[1], port, "root", "memphis"
	conn, err := sdk.Connect(ctx, o)
	must(err, "connect")
	defer conn.Close()
	station := fmt.Sprintf("bench-go-%d", os.Getpid())
	payload := make([]byte, msgSize)
	for i := range payload {
		payload[i] = 'x'
	}
	for _, s := range os.Args[5:] {
		switch s {
		case "async":
			benchAsync(ctx, conn, station, payload, n)
		case "batch":
			benchBatch(ctx, conn, station, payload, n)
		case "sync":
			benchSync(ctx, conn, station, payload, nsync)
		case "consume":
			benchConsume(ctx, conn, station, n)
		}
	}
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdkbench: %s: %v\n", what, err)
		os.Exit(1)
	}
}

// clock is the start of one scenario: wall clock and process CPU time.
type clock struct {
	wall time.Time
	cpu  time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru), "getrusage")
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func start() clock { return clock{cpu: cpuTime(), wall: time.Now()} }

func report(name string, n int, c clock) {
	d, cpu := time.Since(c.wall), cpuTime()-c.cpu
	fmt.Printf("go %s %d %.3f %.0f %.2f\n", name, n, d.Seconds(), float64(n)/d.Seconds(), float64(cpu.Nanoseconds())/1e3/float64(n))
}

func producer(ctx context.Context, c *sdk.Conn, station string) *sdk.Producer {
	p, err := c.CreateProducer(ctx, sdk.DefaultProducerOptions("bench", station))
	must(err, "producer")
	return p
}

// The C API copies every payload on entry; the Go column passes a fresh
// copy as well so both sides do the same work.
func benchAsync(ctx context.Context, c *sdk.Conn, station string, payload []byte, n int) {
	p := producer(ctx, c, station)
	t0 := start()
	for i := 0; i < n; i++ {
		must(p.ProduceAsync(ctx, append([]byte(nil), payload...), sdk.ProduceOptions{}, nil), "produce async")
	}
	must(p.Flush(ctx), "flush")
	report("async", n, t0)
	_ = p.Destroy(ctx)
}

func benchBatch(ctx context.Context, c *sdk.Conn, station string, payload []byte, n int) {
	p := producer(ctx, c, station)
	t0 := start()
	msgs := make([]sdk.BatchMessage, batch)
	for done := 0; done < n; done += batch {
		count := min(batch, n-done)
		for i := 0; i < count; i++ {
			msgs[i] = sdk.BatchMessage{Data: append([]byte(nil), payload...)}
		}
		must(p.ProduceBatch(ctx, msgs[:count], nil), "produce batch")
	}
	must(p.Flush(ctx), "flush")
	report("batch", n, t0)
	_ = p.Destroy(ctx)
}

func benchSync(ctx context.Context, c *sdk.Conn, station string, payload []byte, n int) {
	p := producer(ctx, c, station)
	t0 := start()
	for i := 0; i < n; i++ {
		must(p.Produce(ctx, append([]byte(nil), payload...), sdk.ProduceOptions{}), "produce")
	}
	report("sync", n, t0)
	_ = p.Destroy(ctx)
}

func benchConsume(ctx context.Context, c *sdk.Conn, station string, n int) {
	o := sdk.DefaultConsumerOptions(station, "bench")
	o.BatchSize, o.BatchMaxWait = batch, time.Second
	k, err := c.CreateConsumer(ctx, o)
	must(err, "consumer")
	t0 := start()
	got := 0
	for got < n {
		msgs, err := k.Fetch(ctx, batch, sdk.PartitionSelector{})
		must(err, "fetch")
		if len(msgs) == 0 {
			fmt.Fprintf(os.Stderr, "sdkbench: station drained after %d of %d\n", got, n)
			os.Exit(1)
		}
		for _, m := range msgs {
			_ = m.Data()
		}
		must(sdk.AckAll(ctx, msgs), "ack")
		got += len(msgs)
	}
	report("consume", got, t0)
	_ = k.Destroy(ctx)
}
