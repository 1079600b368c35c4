package devbrokertest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StoredMsg is one message as a stream holds it.
type StoredMsg struct {
	Seq    uint64
	Data   []byte
	Header nats.Header
}

// StreamMessages reads every message stream holds, in stream order, with
// plain nats.go (an ordered consumer on nc): what the broker stored,
// whatever the client under test reports.
func StreamMessages(ctx context.Context, t testing.TB, nc *nats.Conn, stream string) []StoredMsg {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	total := s.CachedInfo().State.Msgs
	oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]StoredMsg, 0, total)
	for uint64(len(out)) < total {
		batch, err := oc.Fetch(int(min(total-uint64(len(out)), 5000)), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			md, _ := m.Metadata()
			out = append(out, StoredMsg{Seq: md.Sequence.Stream, Data: m.Data(), Header: m.Headers()})
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
