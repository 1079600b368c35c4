package compat

import (
	"fmt"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/memphisdev/memphis.go"
)

// TestBrokerRestartKeepsGroupPosition restarts memphis-devbroker under a
// connected memphis.go client: the client reconnects by itself and its
// consumer group continues after the last acked message.
func TestBrokerRestartKeepsGroupPosition(t *testing.T) {
	b := startBroker(t)
	conn := connectPassword(t, b)
	st, err := conn.CreateStation("durable-st")
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.CreateProducer("prod")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := p.Produce([]byte(fmt.Sprint(i)), memphis.SyncProduce()); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer("worker", memphis.BatchMaxWaitTime(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var first []*memphis.Msg
	devbrokertest.WaitFor(t, "two messages", func() bool {
		msgs, err := cons.Fetch(2-len(first), false)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, msgs...)
		return len(first) == 2
	})
	for _, m := range first {
		if err := m.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	// Ack is fire-and-forget: make sure the broker has it before the restart.
	devbrokertest.WaitFor(t, "acks to land", func() bool { return pendingAcks(t, b.Addr()) == 0 })

	devbrokertest.Restart(t, b)
	devbrokertest.WaitFor(t, "client reconnect", conn.IsConnected)
	var rest []string
	devbrokertest.WaitFor(t, "remaining messages after restart", func() bool {
		msgs, err := cons.Fetch(2, false)
		if err != nil {
			return false // reconnecting
		}
		for _, m := range msgs {
			rest = append(rest, string(m.Data()))
			_ = m.Ack()
		}
		return len(rest) >= 2
	})
	if len(rest) != 2 || rest[0] != "2" || rest[1] != "3" {
		t.Fatalf("after restart got %v, want [2 3]", rest)
	}
}
