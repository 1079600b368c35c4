package sdk

import (
	"context"
	"sort"
	"strconv"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, parts := range []int{1, 3} {
		t.Run("partitions="+strconv.Itoa(parts), func(t *testing.T) {
			b := startBroker(t)
			c := connect(t, b)
			ctx := testCtx(t)
			createStation(t, c, "Orders.EU", func(o *StationOptions) { o.PartitionsNumber = parts })
			p := createProducer(t, c, "Orders.EU", "prod")
			cons := createConsumer(t, c, "orders.eu", "worker")
			if got := len(cons.Partitions()); got != parts {
				t.Fatalf("consumer sees %d partitions, want %d", got, parts)
			}
			const n = 30
			for i := range n {
				h := Headers{}
				if err := h.Add("idx", strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
				if err := p.Produce(ctx, payload(i), ProduceOptions{Headers: h}); err != nil {
					t.Fatalf("produce %d: %v", i, err)
				}
			}
			msgs := fetchUntil(t, cons, n, PartitionSelector{})
			var datas []string
			perPart := map[int]int{}
			for _, m := range msgs {
				datas = append(datas, string(m.Data()))
				perPart[m.Partition()]++
				h := m.Headers()
				if h["$memphis_producedBy"] != "prod" || h["$memphis_connectionId"] != c.ConnectionID() {
					t.Fatalf("memphis headers missing: %v", h)
				}
				if string(payload(atoiT(t, h["idx"]))) != string(m.Data()) {
					t.Fatalf("user header idx=%s with data %s", h["idx"], m.Data())
				}
				if m.SequenceNumber() == 0 || m.TimeSent().IsZero() {
					t.Fatalf("metadata missing: seq %d time %v", m.SequenceNumber(), m.TimeSent())
				}
			}
			sort.Strings(datas)
			for i := range n {
				if datas[i] != string(payload(i)) {
					t.Fatalf("message %d is %q", i, datas[i])
				}
			}
			if parts == 3 && (perPart[1] != 10 || perPart[2] != 10 || perPart[3] != 10) {
				t.Fatalf("round robin spread %v, want 10 per partition", perPart)
			}
			// Everything was acknowledged: nothing more arrives.
			more, err := cons.Fetch(ctx, 10, PartitionSelector{})
			if err != nil || len(more) != 0 {
				t.Fatalf("after acking all: %d messages, %v", len(more), err)
			}
			if err := p.Destroy(ctx); err != nil {
				t.Fatalf("destroy producer: %v", err)
			}
			if err := cons.Destroy(ctx); err != nil {
				t.Fatalf("destroy consumer: %v", err)
			}
			if err := p.Produce(ctx, []byte("x"), ProduceOptions{}); CodeOf(err) != CodeClosed {
				t.Fatalf("produce after destroy: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateStation(context.Background(), DefaultStationOptions("x")); CodeOf(err) != CodeClosed {
				t.Fatalf("create after close: %v", err)
			}
		})
	}
}

func atoiT(t testing.TB, s string) int {
	t.Helper()
	n := 0
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(ch-'0')
	}
	return n
}
