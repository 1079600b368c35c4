package compat

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pendingAcks reads the worker group's outstanding acks on durable-st
// with a plain NATS connection.
func pendingAcks(t *testing.T, addr string) int {
	t.Helper()
	nc, err := nats.Connect("nats://"+addr, nats.UserInfo("root", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := js.Consumer(context.Background(), "durable-st$1", "worker")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.NumAckPending
}
