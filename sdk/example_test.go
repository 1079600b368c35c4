package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/sdk"
)

// exampleBroker starts an in-memory memphis-devbroker so that the examples
// below run (and are checked) as tests. Real programs connect to their
// broker's host and port instead.
func exampleBroker() (sdk.ConnectOptions, func()) {
	b, err := devbroker.Start(context.Background(), devbroker.Options{Memory: true})
	if err != nil {
		panic(err)
	}
	host, port, _ := net.SplitHostPort(b.Addr())
	opts := sdk.DefaultConnectOptions()
	opts.Host = host
	opts.Port, _ = strconv.Atoi(port)
	opts.Username = "root"
	opts.Password = "memphis"
	return opts, func() { _ = b.Stop() }
}

func ExampleConnect() {
	opts, stop := exampleBroker()
	defer stop()

	conn, err := sdk.Connect(context.Background(), opts)
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	defer conn.Close()
	fmt.Println("connected:", conn.IsConnected())

	// Exactly one of Password and ConnectionToken must be set.
	bad := opts
	bad.ConnectionToken = "memphis"
	_, err = sdk.Connect(context.Background(), bad)
	fmt.Println(sdk.CodeOf(err))
	// Output:
	// connected: true
	// invalid argument
}

func ExampleConn_CreateStation() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	so := sdk.DefaultStationOptions("orders")
	so.RetentionType = sdk.RetentionMessages
	so.RetentionValue = 100000
	so.PartitionsNumber = 3
	station, err := conn.CreateStation(ctx, so)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Creating an existing station is not an error.
	_, err = conn.CreateStation(ctx, so)
	fmt.Println("again:", err)
	fmt.Println("destroy:", station.Destroy(ctx))
	// Output:
	// again: <nil>
	// destroy: <nil>
}

func ExampleProducer_Produce() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	p, err := conn.CreateProducer(ctx, sdk.DefaultProducerOptions("orders", "billing"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Destroy(ctx)
	h := sdk.Headers{}
	_ = h.Add("trace-id", "t-1")
	// Produce waits for the broker's acknowledgement. The msg-id makes a
	// retry of the same message harmless.
	err = p.Produce(ctx, []byte(`{"id":1}`), sdk.ProduceOptions{Headers: h, MsgID: "order-1"})
	fmt.Println("produced:", err)
	fmt.Println(h.Add("$memphis_x", "no"))
	// Output:
	// produced: <nil>
	// memphis: header: Keys in headers should not start with $memphis
}

func ExampleProducer_ProduceAsync() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	p, _ := conn.CreateProducer(ctx, sdk.DefaultProducerOptions("events", "fast"))
	var mu sync.Mutex
	var acked, failed int
	for i := range 1000 {
		// Returns at once; the callback reports the broker's verdict. A
		// full in-flight window blocks here (up to the ack wait), it never
		// grows without bound.
		err := p.ProduceAsync(ctx, []byte("event "+strconv.Itoa(i)), sdk.ProduceOptions{}, func(d sdk.Delivery) {
			mu.Lock()
			defer mu.Unlock()
			if d.Err != nil {
				failed++
				return
			}
			acked++
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	// Flush waits for every outstanding acknowledgement.
	if err := p.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("acked:", acked, "failed:", failed)
	// Output: acked: 1000 failed: 0
}

func ExampleProducer_ProduceBatch() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	p, _ := conn.CreateProducer(ctx, sdk.DefaultProducerOptions("events", "bulk"))
	batch := make([]sdk.BatchMessage, 3)
	for i := range batch {
		batch[i] = sdk.BatchMessage{Data: []byte("m" + strconv.Itoa(i)), Options: sdk.ProduceOptions{PartitionKey: "user-1"}}
	}
	var mu sync.Mutex
	seqs := make([]uint64, len(batch))
	err := p.ProduceBatch(ctx, batch, func(i int, d sdk.Delivery) {
		mu.Lock()
		seqs[i] = d.Sequence
		mu.Unlock()
	})
	if err == nil {
		err = p.Flush(ctx)
	}
	fmt.Println(err, seqs)
	// Output: <nil> [1 2 3]
}

func ExampleConn_Produce() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	// One-shot form: the producer is registered once and then reused.
	for i := range 3 {
		if err := conn.Produce(ctx, "audit", "auditor", []byte("entry "+strconv.Itoa(i)), sdk.ProduceOptions{}); err != nil {
			fmt.Println(err)
		}
	}
	fo := sdk.DefaultConsumerOptions("audit", "reader")
	fo.BatchMaxWait = time.Second
	msgs, err := conn.FetchMessages(ctx, fo, sdk.PartitionSelector{})
	fmt.Println(len(msgs), err, sdk.AckAll(ctx, msgs))
	// Output: 3 <nil> <nil>
}

func ExampleConsumer_Consume() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	for i := range 5 {
		_ = conn.Produce(ctx, "jobs", "scheduler", []byte("job "+strconv.Itoa(i)), sdk.ProduceOptions{})
	}
	co := sdk.DefaultConsumerOptions("jobs", "worker")
	co.BatchMaxWait = 200 * time.Millisecond
	co.PullInterval = 10 * time.Millisecond
	cons, err := conn.CreateConsumer(ctx, co)
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	var got []string
	cons.SetContext("job-runner")
	err = cons.Consume(func(msgs []*sdk.Message, err error, userCtx any) {
		switch {
		case errors.Is(err, sdk.ErrNoMessages):
			// The station is drained; the loop keeps polling.
			return
		case err != nil:
			// An outage; the loop resumes by itself when the broker is back.
			fmt.Println("consume:", err)
			return
		}
		for _, m := range msgs {
			got = append(got, string(m.Data()))
		}
		_ = sdk.AckAll(context.Background(), msgs)
		if len(got) == 5 {
			close(done)
		}
	}, sdk.PartitionSelector{})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-done
	_ = cons.StopConsume()
	fmt.Println(got)
	// Output: [job 0 job 1 job 2 job 3 job 4]
}

func ExampleConsumer_Fetch() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	so := sdk.DefaultStationOptions("metrics")
	so.PartitionsNumber = 2
	_, _ = conn.CreateStation(ctx, so)
	p, _ := conn.CreateProducer(ctx, sdk.DefaultProducerOptions("metrics", "agent"))
	_ = p.Produce(ctx, []byte("cpu=0.5"), sdk.ProduceOptions{PartitionNumber: 2})

	co := sdk.DefaultConsumerOptions("metrics", "dashboard")
	co.BatchMaxWait = time.Second
	cons, _ := conn.CreateConsumer(ctx, co)
	msgs, err := cons.Fetch(ctx, 10, sdk.PartitionSelector{Number: 2})
	for _, m := range msgs {
		fmt.Println(string(m.Data()), "partition", m.Partition(), "seq", m.SequenceNumber())
		_ = m.Ack(ctx)
	}
	// An empty station gives an empty batch, not an error.
	msgs, err = cons.Fetch(ctx, 10, sdk.PartitionSelector{Number: 1})
	fmt.Println(len(msgs), err)
	// Output:
	// cpu=0.5 partition 2 seq 1
	// 0 <nil>
}

func ExampleMessage_Delay() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	_ = conn.Produce(ctx, "retries", "p", []byte("flaky"), sdk.ProduceOptions{})
	co := sdk.DefaultConsumerOptions("retries", "worker")
	co.BatchMaxWait = 3 * time.Second
	cons, _ := conn.CreateConsumer(ctx, co)

	msgs, _ := cons.Fetch(ctx, 1, sdk.PartitionSelector{})
	// Not now: ask for redelivery in half a second.
	_ = msgs[0].Delay(500 * time.Millisecond)
	msgs, _ = cons.Fetch(ctx, 1, sdk.PartitionSelector{})
	fmt.Println(string(msgs[0].Data()), "delivery", msgs[0].DeliveryCount())
	// Give up on it: no more redeliveries, recorded in the dead-letter store.
	fmt.Println(msgs[0].DeadLetter("still failing"))
	// Output:
	// flaky delivery 2
	// <nil>
}

func ExampleCodeOf() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	_, err := conn.CreateStation(ctx, sdk.DefaultStationOptions("no spaces allowed"))
	fmt.Println(sdk.CodeOf(err))
	var e *sdk.Error
	if errors.As(err, &e) {
		fmt.Println(e.Msg)
	}
	codes := []sdk.Code{sdk.CodeTimeout, sdk.CodeQueueFull, sdk.CodeNoMessages}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	fmt.Println(codes)
	// Output:
	// invalid argument
	// Only alphanumeric and the '_', '-', '.' characters are allowed in Station
	// [timeout no messages queue full]
}

func ExampleMessage_IsDLS() {
	opts, stop := exampleBroker()
	defer stop()
	ctx := context.Background()
	conn, _ := sdk.Connect(ctx, opts)
	defer conn.Close()

	_ = conn.Produce(ctx, "payments", "gateway", []byte("malformed"), sdk.ProduceOptions{})
	co := sdk.DefaultConsumerOptions("payments", "settler")
	co.MaxMsgDeliveries = 2
	co.BatchMaxWait = 500 * time.Millisecond
	cons, _ := conn.CreateConsumer(ctx, co)

	// Nack until the broker gives up on the message: after 2 deliveries it
	// becomes a poison message and is resent to the group as a DLS message.
	for range 20 {
		msgs, _ := cons.Fetch(ctx, 1, sdk.PartitionSelector{})
		for _, m := range msgs {
			if !m.IsDLS() {
				_ = m.Nack()
				continue
			}
			fmt.Println("poison:", string(m.Data()), "group:", m.Headers()["$memphis_pm_cg_name"])
			// Acking a DLS message removes it from the dead-letter store.
			fmt.Println(m.Ack(ctx))
			return
		}
	}
	// Output:
	// poison: malformed group: settler
	// <nil>
}
