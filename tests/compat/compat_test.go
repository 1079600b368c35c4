// Package compat runs the official Memphis Go SDK (memphis.go v1.3.2),
// unchanged, against memphis-devbroker. It is a separate module so the
// product's go.mod does not depend on that SDK.
package compat

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/memphisdev/memphis.go"
)

// startBroker starts memphis-devbroker: these tests compare the official
// SDK's behaviour on it with the real broker's, so an external broker
// (devbrokertest.EnvBroker) is not what they test.
func startBroker(t *testing.T) *devbroker.Broker {
	t.Helper()
	if devbrokertest.External() {
		t.Skip("tests/compat tests memphis-devbroker itself")
	}
	return devbrokertest.Start(t)
}

func connectPassword(t *testing.T, b *devbroker.Broker) *memphis.Conn {
	t.Helper()
	conn, err := memphis.Connect("127.0.0.1", "root", memphis.Password("memphis"), memphis.Port(b.Port()))
	if err != nil {
		t.Fatalf("connect with password: %v", err)
	}
	t.Cleanup(conn.Close)
	return conn
}

func TestConnectPasswordAndToken(t *testing.T) {
	b := startBroker(t)
	if c := connectPassword(t, b); !c.IsConnected() {
		t.Fatal("password connection not connected")
	}
	tok, err := memphis.Connect("127.0.0.1", "root", memphis.ConnectionToken("memphis"), memphis.Port(b.Port()))
	if err != nil {
		t.Fatalf("connect with token: %v", err)
	}
	defer tok.Close()
	if !tok.IsConnected() {
		t.Fatal("token connection not connected")
	}
	for name, opt := range map[string]memphis.Option{
		"wrong password": memphis.Password("nope"), "wrong token": memphis.ConnectionToken("nope"),
	} {
		c, err := memphis.Connect("127.0.0.1", "root", opt, memphis.Port(b.Port()), memphis.Reconnect(false))
		if err == nil {
			c.Close()
			t.Errorf("%s: connected", name)
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// collector gathers consumed messages by payload.
type collector struct {
	mu   sync.Mutex
	msgs map[string]*memphis.Msg
	errs []error
}

func (c *collector) handler(msgs []*memphis.Msg, err error, _ context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && !strings.Contains(err.Error(), "timeout") {
		c.errs = append(c.errs, err)
	}
	for _, m := range msgs {
		c.msgs[string(m.Data())] = m
		_ = m.Ack()
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func TestProduceSyncAsyncConsumeGroup(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	for _, partitions := range []int{1, 3} {
		name := fmt.Sprintf("compat-%dp", partitions)
		st, err := conn.CreateStation(name, memphis.PartitionsNumber(partitions))
		if err != nil {
			t.Fatalf("create station %s: %v", name, err)
		}
		p, err := st.CreateProducer("prod")
		if err != nil {
			t.Fatalf("create producer: %v", err)
		}
		const n = 12
		for i := 0; i < n; i++ {
			hdrs := memphis.Headers{}
			hdrs.New()
			if err := hdrs.Add("idx", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
			mode := memphis.SyncProduce()
			if i%2 == 1 {
				mode = memphis.AsyncProduce()
			}
			if err := p.Produce([]byte(fmt.Sprintf("msg-%d", i)), memphis.MsgHeaders(hdrs), mode); err != nil {
				t.Fatalf("produce %d: %v", i, err)
			}
		}
		col := &collector{msgs: map[string]*memphis.Msg{}}
		cons, err := st.CreateConsumer("worker", memphis.ConsumerGroup("billing"),
			memphis.PullInterval(100*time.Millisecond), memphis.BatchMaxWaitTime(500*time.Millisecond))
		if err != nil {
			t.Fatalf("create consumer: %v", err)
		}
		if err := cons.Consume(col.handler); err != nil {
			t.Fatal(err)
		}
		devbrokertest.WaitFor(t, fmt.Sprintf("%d messages on %s", n, name), func() bool { return col.count() == n })
		cons.StopConsume()
		col.mu.Lock()
		for i := 0; i < n; i++ {
			m := col.msgs[fmt.Sprintf("msg-%d", i)]
			if m == nil || m.GetHeaders()["idx"] != fmt.Sprint(i) {
				t.Errorf("%s: message %d missing or without its header", name, i)
			}
		}
		if len(col.errs) > 0 {
			t.Errorf("%s: consume errors %v", name, col.errs)
		}
		col.mu.Unlock()
		if err := cons.Destroy(); err != nil {
			t.Fatalf("destroy consumer: %v", err)
		}
		if err := p.Destroy(); err != nil {
			t.Fatalf("destroy producer: %v", err)
		}
		if err := st.Destroy(); err != nil {
			t.Fatalf("destroy station: %v", err)
		}
	}
}

func TestFetch(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	for i := 0; i < 5; i++ {
		// Conn.Produce creates the producer (and a default station) on first use.
		if err := conn.Produce("fetch-st", "prod", []byte(fmt.Sprint(i)), nil, []memphis.ProduceOpt{memphis.SyncProduce()}); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	got := map[string]bool{}
	devbrokertest.WaitFor(t, "FetchMessages", func() bool {
		msgs, err := conn.FetchMessages("fetch-st", "fetcher", memphis.FetchBatchSize(5))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for _, m := range msgs {
			got[string(m.Data())] = true
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		return len(got) == 5
	})
	cons, err := conn.CreateConsumer("fetch-st", "other", memphis.ConsumerGroup("second-group"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := cons.Fetch(3, false)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Consumer.Fetch: %d messages, %v", len(msgs), err)
	}
	if seq, _ := msgs[0].GetSequenceNumber(); seq != 1 {
		t.Fatalf("first sequence %d", seq)
	}
}

func TestNackDelayDeadLetter(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	st, err := conn.CreateStation("work", memphis.DlsStation("work-dls"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"nack-me", "delay-me", "dead-me"} {
		if err := conn.Produce("work", "prod", []byte(d), nil, []memphis.ProduceOpt{memphis.SyncProduce()}); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer("worker", memphis.MaxMsgDeliveries(5), memphis.BatchMaxWaitTime(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var delayedAt time.Time
	devbrokertest.WaitFor(t, "nacked and delayed messages to come back", func() bool {
		msgs, err := cons.Fetch(10, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			d := string(m.Data())
			seen[d]++
			switch {
			case d == "dead-me":
				if err := m.DeadLetter("cannot handle"); err != nil {
					t.Fatal(err)
				}
			case seen[d] == 1 && d == "nack-me":
				if err := m.Nack(); err != nil {
					t.Fatal(err)
				}
			case seen[d] == 1 && d == "delay-me":
				delayedAt = time.Now()
				if err := m.Delay(time.Second); err != nil {
					t.Fatal(err)
				}
			default:
				if d == "delay-me" && time.Since(delayedAt) < time.Second {
					t.Errorf("delayed message back after %v", time.Since(delayedAt))
				}
				if err := m.Ack(); err != nil {
					t.Fatal(err)
				}
			}
		}
		return seen["nack-me"] == 2 && seen["delay-me"] == 2
	})
	if seen["dead-me"] != 1 {
		t.Fatalf("dead-lettered message delivered %d times", seen["dead-me"])
	}
	// The dead letter was forwarded to the DLS station.
	dls, err := conn.CreateConsumer("work-dls", "dls-reader", memphis.BatchMaxWaitTime(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var fwd *memphis.Msg
	devbrokertest.WaitFor(t, "dead letter in work-dls", func() bool {
		msgs, err := dls.Fetch(1, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 {
			fwd = msgs[0]
		}
		return fwd != nil
	})
	if h := fwd.GetHeaders(); string(fwd.Data()) != "dead-me" || h["station"] != "work" || h["type"] != "unacked" {
		t.Fatalf("forwarded %q %v", fwd.Data(), h)
	}
	if err := st.Destroy(); err != nil {
		t.Fatal(err)
	}
}

func TestPoisonMessageReachesConsumeHandler(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	st, err := conn.CreateStation("poison")
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Produce("poison", "prod", []byte("poison pill"), nil, []memphis.ProduceOpt{memphis.SyncProduce()}); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		regular  int
		resentOK bool
	)
	cons, err := st.CreateConsumer("worker", memphis.MaxMsgDeliveries(2), memphis.MaxAckTime(500*time.Millisecond),
		memphis.PullInterval(100*time.Millisecond), memphis.BatchMaxWaitTime(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	err = cons.Consume(func(msgs []*memphis.Msg, _ error, _ context.Context) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if seq, _ := m.GetSequenceNumber(); seq == 0 {
				// A dead-letter resend (core NATS message, no stream
				// sequence); acking it goes through $memphis_pm_acks.
				resentOK = string(m.Data()) == "poison pill"
				_ = m.Ack()
				continue
			}
			regular++ // never acked: becomes a poison message
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "poison message resend", func() bool { mu.Lock(); defer mu.Unlock(); return resentOK })
	cons.StopConsume()
	mu.Lock()
	defer mu.Unlock()
	if regular != 2 {
		t.Fatalf("message delivered %d times before the dead letter, want 2", regular)
	}
}
