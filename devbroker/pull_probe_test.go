package devbroker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// probe sends the pull request nats-py (memphis-py) opens every fetch with
// and returns the channel its answers arrive on.
func (c *client) probe(stream, durable string, batch int, expires time.Duration) chan *nats.Msg {
	c.t.Helper()
	ch := make(chan *nats.Msg, 64)
	inbox := c.nc.NewInbox()
	if _, err := c.nc.ChanSubscribe(inbox, ch); err != nil {
		c.t.Fatal(err)
	}
	body := []byte(`{"batch": ` + sprintf("%d", batch) + `, "expires": ` + sprintf("%d", expires.Nanoseconds()) + `, "no_wait": true}`)
	if err := c.nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT."+stream+"."+durable, inbox, body); err != nil {
		c.t.Fatal(err)
	}
	return ch
}

// next returns the next answer, failing after a generous deadline.
func next(t *testing.T, ch chan *nats.Msg) *nats.Msg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(2 * time.Minute):
		t.Fatal("no answer to the pull request")
		return nil
	}
}

// On a drained consumer the probe is answered "404 No Messages" at once,
// not "408 Request Timeout" when its expires runs out, which is when the
// client itself gives up (the race that made memphis-py's fetch raise an
// empty MemphisError). The expires is long so that, without the fix, the
// 408 cannot come first on any machine.
func TestNoWaitProbeOnDrainedConsumerAnsweredAtOnce(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("drained", 3), "")
	c.request("$memphis_consumer_creations", c.consumerReq("w", "drained", "grp"))
	for round := 0; round < 3; round++ {
		for p := 1; p <= 3; p++ {
			m := next(t, c.probe(sprintf("drained$%d", p), "grp", 100, 30*time.Second))
			if got := m.Header.Get("Status"); got != "404" {
				t.Fatalf("round %d partition %d: first answer status %q (%q), want 404 No Messages",
					round, p, got, m.Header.Get("Description"))
			}
		}
	}
}

// With messages waiting the probe still gets them, every one, once.
func TestNoWaitProbeStillDeliversPendingMessages(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("pending", 1), "")
	c.request("$memphis_consumer_creations", c.consumerReq("w", "pending", "grp"))
	for i := 0; i < 3; i++ {
		c.publish("pending", 1, sprintf("m%d", i), nil)
	}
	ch := c.probe("pending$1", "grp", 10, 30*time.Second)
	var got []string
	for len(got) < 3 {
		m := next(t, ch)
		if m.Header.Get("Status") == "" {
			got = append(got, string(m.Data))
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if strings.Join(got, ",") != "m0,m1,m2" {
		t.Fatalf("got %v", got)
	}
}
