package devbroker

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
)

// subjPullRequests are the JetStream pull requests of every consumer.
const subjPullRequests = "$JS.API.CONSUMER.MSG.NEXT.*.*"

// pullProbeQueue is the queue group of the nodes' probe answerers.
const pullProbeQueue = "memphis_pull_probes"

// noWaitAnswer is a pull request the server answers at once: batch 1,
// no_wait and no expires gives "404 No Messages" when nothing is pending.
var noWaitAnswer = []byte(`{"batch":1,"no_wait":true}`)

// subscribePullProbes makes sure a pull request that asks for no_wait
// together with expires gets an immediate answer.
//
// Why: nats-py (memphis-py) fetches by first sending
// {"batch":N,"expires":T-0.1ms,"no_wait":true}, where T is its own fetch
// timeout (5 s in memphis-py). JetStream (nats-server 2.10 on, the real
// broker's fork of 2.10.7 included) treats no_wait with expires as "wait up
// to expires for the first message", so on a drained consumer the answer
// is a 408 sent 0.1 ms before the client gives up. On loopback it arrives
// in the same event-loop turn as the client's timeout; nats-py then finds
// no time left and raises a bare asyncio.TimeoutError whose text is empty,
// which memphis-py does not recognise as a timeout: fetch() raises
// MemphisError("memphis: ") instead of returning []. (Over a real network
// the 408 lands after the client's timer, so users of a remote broker
// rarely see it.)
//
// The broker watches pull requests and, for such a probe, sends the same
// consumer a plain no_wait request on the client's behalf with the
// client's reply subject. JetStream answers it at once: "404 No Messages"
// when the consumer is drained, else a message or "408 Requests Pending".
// nats-py then moves on to its long poll with the time it has left, which
// ends in [] or a timeout it recognises. The original probe is left to
// JetStream untouched (it still delivers anything that arrives). Other
// clients never send no_wait with expires: libmemphis and memphis.go
// (nats.go jetstream) send one or the other, so they are not affected.
func (b *Broker) subscribePullProbes() error {
	// A queue group: in a cluster every node sees the request, one answers.
	sub, err := b.nc.QueueSubscribe(subjPullRequests, pullProbeQueue, func(m *nats.Msg) {
		if m.Reply == "" || !bytes.Contains(m.Data, []byte("no_wait")) {
			return
		}
		var req struct {
			Expires int64 `json:"expires"`
			NoWait  bool  `json:"no_wait"`
		}
		if json.Unmarshal(m.Data, &req) != nil || !req.NoWait || req.Expires <= 0 {
			return
		}
		if err := b.nc.PublishRequest(m.Subject, m.Reply, noWaitAnswer); err != nil {
			b.logf("devbroker: answer pull probe on %s: %v", m.Subject, err)
		}
	})
	if err != nil {
		return fmt.Errorf("devbroker: subscribe %s: %w", subjPullRequests, err)
	}
	b.subs = append(b.subs, sub)
	return nil
}
