package sdk

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

// testCtx bounds one test's broker calls generously (busy CI machine).
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func startBroker(t testing.TB, mods ...func(*devbroker.Options)) *devbroker.Broker {
	t.Helper()
	return devbrokertest.Start(t, mods...)
}

func brokerOptions(t testing.TB, b *devbroker.Broker) ConnectOptions {
	t.Helper()
	host, port, err := net.SplitHostPort(b.Addr())
	if err != nil {
		t.Fatalf("broker addr %q: %v", b.Addr(), err)
	}
	o := DefaultConnectOptions()
	o.Host = host
	o.Port, _ = strconv.Atoi(port)
	o.Username = "root"
	o.Password = "memphis"
	return o
}

func connect(t testing.TB, b *devbroker.Broker, mods ...func(*ConnectOptions)) *Conn {
	t.Helper()
	o := brokerOptions(t, b)
	for _, m := range mods {
		m(&o)
	}
	c, err := Connect(testCtx(t), o)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func createStation(t testing.TB, c *Conn, name string, mods ...func(*StationOptions)) *Station {
	t.Helper()
	o := DefaultStationOptions(name)
	for _, m := range mods {
		m(&o)
	}
	s, err := c.CreateStation(testCtx(t), o)
	if err != nil {
		t.Fatalf("create station %s: %v", name, err)
	}
	return s
}

func createProducer(t testing.TB, c *Conn, station, name string, mods ...func(*ProducerOptions)) *Producer {
	t.Helper()
	o := DefaultProducerOptions(station, name)
	for _, m := range mods {
		m(&o)
	}
	p, err := c.CreateProducer(testCtx(t), o)
	if err != nil {
		t.Fatalf("create producer: %v", err)
	}
	return p
}

// alsoOn makes a multi-station producer: it adds stations after the first.
func alsoOn(stations ...string) func(*ProducerOptions) {
	return func(o *ProducerOptions) { o.StationNames = append(o.StationNames, stations...) }
}

// windowedProducer creates a producer on station whose in-flight window
// holds `window` messages.
func windowedProducer(t testing.TB, c *Conn, station, name string, window int) *Producer {
	t.Helper()
	return createProducer(t, c, station, name, func(o *ProducerOptions) { o.MaxInFlight = window })
}

func createConsumer(t testing.TB, c *Conn, station, name string, mods ...func(*ConsumerOptions)) *Consumer {
	t.Helper()
	o := DefaultConsumerOptions(station, name)
	o.BatchMaxWait = 200 * time.Millisecond
	o.PullInterval = 10 * time.Millisecond
	for _, m := range mods {
		m(&o)
	}
	cons, err := c.CreateConsumer(testCtx(t), o)
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	return cons
}

// fetchUntil fetches and acks until want messages arrived or the deadline.
func fetchUntil(t testing.TB, cons *Consumer, want int, p PartitionSelector) []*Message {
	t.Helper()
	ctx := testCtx(t)
	var got []*Message
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, min(want-len(got), MaxBatchSize), p)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if err := AckAll(ctx, msgs); err != nil {
			t.Fatalf("ack: %v", err)
		}
		got = append(got, msgs...)
	}
	if len(got) != want {
		t.Fatalf("fetched %d messages, want %d", len(got), want)
	}
	return got
}

// collector gathers handler calls of a consume loop.
type collector struct {
	mu   sync.Mutex
	msgs []*Message
	errs []error
	seen map[string]bool
}

func newCollector() *collector { return &collector{seen: map[string]bool{}} }

func (c *collector) handler(ack bool) ConsumeHandler {
	return func(msgs []*Message, err error, _ any) {
		if ack && len(msgs) > 0 {
			_ = AckAll(context.Background(), msgs)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.errs = append(c.errs, err)
		}
		for _, m := range msgs {
			c.msgs = append(c.msgs, m)
			c.seen[string(m.Data())] = true
		}
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func (c *collector) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func payload(i int) []byte { return []byte(fmt.Sprintf("msg-%06d", i)) }

// recv waits for one value on ch, failing the test instead of hanging
// when a callback the library promised never comes.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
