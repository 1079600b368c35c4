// Command consumer reads the example station with a consume loop, acks
// every message and stops once it has seen the expected count.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/libmemphis/libmemphis/examples/go/internal/env"
	"github.com/libmemphis/libmemphis/sdk"
)

func main() {
	want := flag.Int("count", 6, "messages to consume before exiting")
	flag.Parse()
	if err := run(*want); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(want int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts, err := env.ConnectOptions()
	if err != nil {
		return err
	}
	conn, err := sdk.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer conn.Close()

	co := sdk.DefaultConsumerOptions(env.Station(), "demo-consumer")
	co.BatchMaxWait = time.Second
	co.PullInterval = 100 * time.Millisecond
	cons, err := conn.CreateConsumer(ctx, co)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	got := 0
	done := make(chan struct{})
	err = cons.Consume(func(msgs []*sdk.Message, err error, _ any) {
		if errors.Is(err, sdk.ErrNoMessages) {
			return
		}
		if err != nil {
			fmt.Println("consumer: waiting for the broker:", err)
			return
		}
		for _, m := range msgs {
			fmt.Printf("consumer: received %q (partition %d, sequence %d, headers %v)\n",
				m.Data(), m.Partition(), m.SequenceNumber(), userHeaders(m))
		}
		if err := sdk.AckAll(ctx, msgs); err != nil {
			fmt.Println("consumer: ack failed:", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		got += len(msgs)
		if got >= want {
			select {
			case <-done:
			default:
				close(done)
			}
		}
	}, sdk.PartitionSelector{})
	if err != nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("only %d of %d messages arrived", got, want)
	}
	if err := cons.StopConsume(); err != nil {
		return err
	}
	fmt.Printf("consumer: done, %d messages consumed and acknowledged\n", got)
	// The connection's statistics: the same JSON document memphis_conn_stats_json,
	// Python's memphis.stats() and `memphis stats` give (docs/statistics.md).
	stats := conn.Stats()
	var doc bytes.Buffer
	if err := json.Indent(&doc, stats.JSON(), "consumer: ", "  "); err != nil {
		return err
	}
	fmt.Printf("consumer: statistics %s\n", doc.Bytes())
	return cons.Destroy(ctx)
}

// userHeaders leaves out the $memphis_* headers the SDK adds.
func userHeaders(m *sdk.Message) map[string]string {
	out := map[string]string{}
	for k, v := range m.Headers() {
		if len(k) < 8 || k[:8] != "$memphis" {
			out[k] = v
		}
	}
	return out
}
