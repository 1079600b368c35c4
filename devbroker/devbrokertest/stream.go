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
// plain nats.go: what the broker stored, whatever the client under test
// reports. Each batch is read by a short-lived consumer of its own that
// starts after the last message read, and a consumer whose creation
// fails (as while a cluster elects a new meta leader) is created again,
// for up to two minutes. (nats.go's ordered consumer would retry its
// creation forever.)
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
	out := make([]StoredMsg, 0, total)
	next := uint64(1)
	deadline := time.Now().Add(waitTimeout)
	for uint64(len(out)) < total {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("stream %s: read %d of %d messages: %v", stream, len(out), total, err)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var cons jetstream.Consumer
		cons, err = js.CreateOrUpdateConsumer(cctx, stream, jetstream.ConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: next,
			AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, Replicas: 1,
			InactiveThreshold: 10 * time.Second,
		})
		cancel()
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var batch jetstream.MessageBatch
		batch, err = cons.Fetch(int(min(total-uint64(len(out)), 5000)), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			md, _ := m.Metadata()
			out = append(out, StoredMsg{Seq: md.Sequence.Stream, Data: m.Data(), Header: m.Headers()})
			next = md.Sequence.Stream + 1
		}
		if err = batch.Error(); err == nil {
			deadline = time.Now().Add(waitTimeout)
		}
	}
	return out
}
