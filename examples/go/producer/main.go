// Command producer creates a station and produces a few messages to it,
// synchronously and nonblocking, printing what the broker acknowledged.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/libmemphis/libmemphis/examples/go/internal/env"
	"github.com/libmemphis/libmemphis/sdk"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts, err := env.ConnectOptions()
	if err != nil {
		return err
	}
	// The library's own events (disconnects, retries, failed nonblocking
	// produces...) go to a *slog.Logger; here warnings and worse, to stderr.
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	conn, err := sdk.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Printf("producer: connected to %s:%d as %s\n", opts.Host, opts.Port, opts.Username)

	so := sdk.DefaultStationOptions(env.Station())
	so.PartitionsNumber = 3
	if _, err := conn.CreateStation(ctx, so); err != nil {
		return err
	}
	fmt.Printf("producer: station %s ready (%d partitions)\n", so.Name, so.PartitionsNumber)

	p, err := conn.CreateProducer(ctx, sdk.DefaultProducerOptions(so.Name, "demo-producer"))
	if err != nil {
		return err
	}
	for i := range 3 {
		h := sdk.Headers{}
		if err := h.Add("origin", "go-example"); err != nil {
			return err
		}
		msg := []byte("sync message " + strconv.Itoa(i))
		if err := p.Produce(ctx, msg, sdk.ProduceOptions{Headers: h, MsgID: "go-sync-" + strconv.Itoa(i)}); err != nil {
			return fmt.Errorf("produce %d: %w", i, err)
		}
		fmt.Printf("producer: acknowledged %q\n", msg)
	}
	for i := range 3 {
		msg := []byte("nonblocking message " + strconv.Itoa(i))
		err := p.ProduceAsync(ctx, msg, sdk.ProduceOptions{PartitionKey: "user-" + strconv.Itoa(i)}, func(d sdk.Delivery) {
			if d.Err != nil {
				fmt.Printf("producer: %q failed: %v\n", msg, d.Err)
				return
			}
			fmt.Printf("producer: acknowledged %q (partition %d, sequence %d)\n", msg, d.Partition, d.Sequence)
		})
		if err != nil {
			return fmt.Errorf("produce nonblocking %d: %w", i, err)
		}
	}
	// Flush waits for the nonblocking produces; then the producer's
	// statistics count all six.
	if err := p.Flush(ctx); err != nil {
		return err
	}
	st := p.Stats()
	fmt.Printf("producer: stats: %d produced, %d acknowledged, %d failed; ack latency p50 %d µs, p99 %d µs, max %d µs\n",
		st.Produced, st.Acked, st.Failed, st.AckLatencyUs.P50, st.AckLatencyUs.P99, st.AckLatencyUs.Max)
	if err := p.Destroy(ctx); err != nil {
		return err
	}
	fmt.Println("producer: done, 6 messages produced")
	return nil
}
