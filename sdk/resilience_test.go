package sdk

import (
	"bytes"
	"context"
	"errors"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

// The consume loop survives a broker restart on the same data dir: every
// message produced before and after arrives, the outage is reported to the
// handler, and the loop resumes by itself.
func TestConsumerSurvivesBrokerRestart(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, func(o *ConnectOptions) {
		o.MaxReconnect = -1
		o.ReconnectInterval = 100 * time.Millisecond
	})
	ctx := testCtx(t)
	createStation(t, c, "durable")
	p := createProducer(t, c, "durable", "prod")
	cons := createConsumer(t, c, "durable", "worker", func(o *ConsumerOptions) {
		o.MaxAckTime = 2 * time.Second // quick redelivery of acks lost in the outage
		o.BatchMaxWait = 500 * time.Millisecond
	})
	col := newCollector()
	if err := cons.Consume(col.handler(true), PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	const half = 50
	for i := range half {
		if err := p.Produce(ctx, payload(i), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	devbrokertest.WaitFor(t, "first half consumed", func() bool { return col.distinct() >= half/2 })

	b2 := devbrokertest.Restart(t, b)
	devbrokertest.WaitFor(t, "reconnect", c.IsConnected)
	for i := half; i < 2*half; i++ {
		// The first produces after the restart may race the reconnect.
		var err error
		for try := 0; try < 50; try++ {
			if err = p.Produce(ctx, payload(i), ProduceOptions{AckWait: 2 * time.Second}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("produce %d after restart: %v", i, err)
		}
	}
	devbrokertest.WaitFor(t, "every message consumed", func() bool { return col.distinct() == 2*half })
	col.mu.Lock()
	var outage bool
	for _, e := range col.errs {
		if !errors.Is(e, ErrNoMessages) {
			outage = true
		}
	}
	col.mu.Unlock()
	if !outage {
		t.Logf("errors: %v; disconnects %d", col.errs, c.disconnects.Load())
		t.Fatal("the outage was never reported to the handler")
	}
	_ = b2
	if err := cons.StopConsume(); err != nil {
		t.Fatal(err)
	}
}

// Close with live producers, consumers, a running consume loop and pending
// nonblocking produces leaves no goroutine behind. Every goroutine the
// client starts (its own and nats.go's) inherits a pprof label from the
// test, which tells them apart from the in-process broker's goroutines.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	b := startBroker(t)
	o := brokerOptions(t, b)
	ctx := testCtx(t)
	var p *Producer
	var cons *Consumer
	pprof.Do(ctx, pprof.Labels("libmemphis-leak-test", "client"), func(ctx context.Context) {
		c, err := Connect(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		p, err = c.CreateProducer(ctx, DefaultProducerOptions("leak", "p"))
		if err != nil {
			t.Fatal(err)
		}
		co := DefaultConsumerOptions("leak", "c")
		co.BatchMaxWait = 3 * time.Second
		cons, err = c.CreateConsumer(ctx, co)
		if err != nil {
			t.Fatal(err)
		}
		if err := cons.Consume(func([]*Message, error, any) {}, PartitionSelector{}); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Produce(ctx, "leak", "oneshot", []byte("x"), ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
		// The test goroutine itself is labelled inside pprof.Do; the
		// client's goroutines must be counted on top of it.
		if n := labelledGoroutines(t); n < 5 {
			t.Fatalf("only %d labelled goroutines while connected: the check would prove nothing", n)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for labelledGoroutines(t) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := labelledGoroutines(t); n > 0 {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Fatalf("%d client goroutines survive Close:\n%s", n, buf.String())
	}
	if err := p.ProduceAsync(ctx, []byte("x"), ProduceOptions{}, nil); CodeOf(err) != CodeClosed {
		t.Fatalf("produce after Close: %v", err)
	}
	if _, err := cons.Fetch(ctx, 1, PartitionSelector{}); CodeOf(err) != CodeClosed {
		t.Fatalf("fetch after Close: %v", err)
	}
}

// labelledGoroutines counts goroutines carrying the leak test's label.
func labelledGoroutines(t testing.TB) int {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	total := 0
	var count int
	for _, line := range strings.Split(buf.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == "@" {
			count, _ = strconv.Atoi(f[0])
			continue
		}
		if strings.HasPrefix(line, "# labels:") && strings.Contains(line, "libmemphis-leak-test") {
			total += count
		}
	}
	return total
}

// Without reconnect a lost connection stays lost, and says so.
func TestNoReconnect(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, func(o *ConnectOptions) { o.Reconnect = false })
	ctx := testCtx(t)
	p := createProducer(t, c, "once", "prod")
	devbrokertest.Restart(t, b)
	devbrokertest.WaitFor(t, "disconnect noticed", func() bool { return !c.IsConnected() })
	err := p.Produce(ctx, []byte("x"), ProduceOptions{AckWait: time.Second})
	if code := CodeOf(err); code != CodeClosed && code != CodeNotConnected {
		t.Fatalf("produce on a dead connection: %v (code %v)", err, code)
	}
}
