// Command cluster walks through a memphis-devbroker cluster: it connects
// to one node, learns the others from it, produces to a station with three
// replicas, has the node it is connected to killed halfway (SIGKILL, by
// the command in KILL_COMMAND), carries on through another node, and
// consumes every message back exactly once.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

const messages = 200

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := sdk.DefaultConnectOptions()
	// One node is enough: the cluster advertises the others. A list of
	// nodes ("h1:p1,h2:p2") also works, and helps when one is down at
	// connect time.
	opts.Host = getenv("MEMPHIS_HOST", "127.0.0.1:6666")
	opts.Username, opts.Password = getenv("MEMPHIS_USERNAME", "root"), getenv("MEMPHIS_PASSWORD", "memphis")
	opts.MaxReconnect = -1 // keep trying through a failover
	conn, err := sdk.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Printf("cluster: connected to %s; the cluster tells the client where its other nodes are\n", opts.Host)

	so := sdk.DefaultStationOptions(getenv("MEMPHIS_STATION", "cluster-demo"))
	so.Replicas = 3 // one copy on every node: any one node may fail
	if _, err := conn.CreateStation(ctx, so); err != nil {
		return err
	}
	fmt.Printf("cluster: station %s created with %d replicas\n", so.Name, so.Replicas)
	p, err := conn.CreateProducer(ctx, sdk.DefaultProducerOptions(so.Name, "walkthrough"))
	if err != nil {
		return err
	}
	var acked, failed atomic.Int64
	start := time.Now()
	for i := range messages {
		if i == messages/2 {
			if err := killNode(); err != nil {
				return err
			}
		}
		// A msg id per message: a message resent after the failover is
		// stored once even if the dead node had already stored it.
		id := "walkthrough-" + strconv.Itoa(i)
		err := p.ProduceAsync(ctx, []byte(id), sdk.ProduceOptions{MsgID: id}, func(d sdk.Delivery) {
			if d.Err != nil {
				failed.Add(1)
				fmt.Printf("cluster: %s failed: %v\n", id, d.Err)
				return
			}
			acked.Add(1)
		})
		if err != nil {
			return fmt.Errorf("produce %d: %w", i, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	fmt.Printf("cluster: %d messages acknowledged, %d failed, in %s\n", acked.Load(), failed.Load(), time.Since(start).Round(100*time.Millisecond))
	if failed.Load() > 0 {
		return errors.New("some messages were not acknowledged")
	}

	co := sdk.DefaultConsumerOptions(so.Name, "walkthrough-reader")
	co.BatchSize = 100
	c, err := conn.CreateConsumer(ctx, co)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for len(seen) < messages && ctx.Err() == nil {
		msgs, err := c.Fetch(ctx, 100, sdk.PartitionSelector{})
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		for _, m := range msgs {
			seen[string(m.Data())]++
		}
		if err := sdk.AckAll(ctx, msgs); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
	}
	for id, n := range seen {
		if n != 1 {
			return fmt.Errorf("%s consumed %d times", id, n)
		}
	}
	if len(seen) != messages {
		return fmt.Errorf("consumed %d of %d messages", len(seen), messages)
	}
	fmt.Printf("cluster: consumed all %d messages, each once, from the two surviving nodes\n", messages)
	if err := c.Destroy(ctx); err != nil {
		return err
	}
	return p.Destroy(ctx)
}

// killNode runs KILL_COMMAND, which kills the node the client is connected to.
func killNode() error {
	cmd := os.Getenv("KILL_COMMAND")
	if cmd == "" {
		fmt.Println("cluster: KILL_COMMAND not set; no node is killed")
		return nil
	}
	fmt.Printf("cluster: halfway; killing the node the client is connected to: %s\n", cmd)
	out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
	fmt.Print(string(out))
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
