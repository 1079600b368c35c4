package faults

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/sdk"
)

// consumeResumeBound is how long after the broker is back (restarted, or
// continued after SIGSTOP) the consume loop may take to hand over the next
// message. The target is under 2 s; the bound is generous for a loaded CI
// machine, yet far below the minutes a stalled ack loop used to take.
const consumeResumeBound = 8 * time.Second

// ackFlushSlack: the broker writes a consumer's acks to disk at most every
// 100 ms, so a SIGKILL may forget acks it confirmed just before dying.
const ackFlushSlack = time.Second

// tracker follows a consume loop whose handler acks each message.
type tracker struct {
	mu          sync.Mutex
	deliveries  []int   // per message: how often it was handed to the handler
	ackedAt     []int64 // per message: unix ns of its first confirmed ack (0: none)
	distinct    int
	confirmed   int
	total       int
	ackErrs     int
	staleErrs   int
	lastHandled int64
}

func newTracker(n int) *tracker {
	return &tracker{deliveries: make([]int, n), ackedAt: make([]int64, n)}
}

func (tr *tracker) handler(t *testing.T) sdk.ConsumeHandler {
	return func(msgs []*sdk.Message, err error, _ any) {
		for _, m := range msgs {
			i, perr := index(m.Data())
			if perr != nil || i < 0 || i >= len(tr.deliveries) {
				t.Errorf("consumed an unknown message %q", m.Data())
				continue
			}
			tr.mu.Lock()
			if tr.deliveries[i] == 0 {
				tr.distinct++
			}
			tr.deliveries[i]++
			tr.total++
			tr.lastHandled = time.Now().UnixNano()
			tr.mu.Unlock()
			aerr := m.Ack(context.Background())
			tr.mu.Lock()
			switch {
			case aerr == nil:
				if tr.ackedAt[i] == 0 {
					tr.ackedAt[i] = time.Now().UnixNano()
					tr.confirmed++
				}
			case errors.Is(aerr, sdk.ErrNotConnected):
				tr.staleErrs++
			default:
				tr.ackErrs++
			}
			tr.mu.Unlock()
		}
	}
}

// counts returns the totals for the printed figures.
func (tr *tracker) counts() (total, stale, failed int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.total, tr.staleErrs, tr.ackErrs
}

func (tr *tracker) snapshot() (distinct, confirmed int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.distinct, tr.confirmed
}

// unconfirmed counts messages delivered but not confirmed acked at t, and
// those confirmed within slack before t (a SIGKILL may lose them).
func (tr *tracker) atFault(at time.Time, slack time.Duration) (unconfirmed, recent int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i, d := range tr.deliveries {
		switch a := tr.ackedAt[i]; {
		case d > 0 && (a == 0 || a > at.UnixNano()):
			unconfirmed++
		case a > 0 && a > at.Add(-slack).UnixNano():
			recent++
		}
	}
	return unconfirmed, recent
}

// check: nothing lost, and redeliveries only of messages whose ack the
// fault could have swallowed. It returns the number of redeliveries.
func (tr *tracker) check(t *testing.T, fault time.Time, slack time.Duration, unconfirmed, recent int) int {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	redelivered := 0
	for i, d := range tr.deliveries {
		if d == 0 {
			t.Fatalf("message %d was never consumed", i)
		}
		if d > 1 {
			redelivered++
			// A message whose ack was confirmed well before the fault
			// must not come again.
			if a := tr.ackedAt[i]; a > 0 && a < fault.Add(-slack).UnixNano() {
				t.Fatalf("message %d redelivered although its ack was confirmed %v before the fault",
					i, fault.Sub(time.Unix(0, a)))
			}
		}
	}
	if redelivered > unconfirmed+recent {
		t.Fatalf("%d messages redelivered, more than the %d unacknowledged (+%d acked just before) at the fault",
			redelivered, unconfirmed, recent)
	}
	return redelivered
}

// handledSince reports whether a message was handled at or after t.
func (tr *tracker) handledSince(t time.Time) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.lastHandled >= t.UnixNano()
}

// prefill produces n messages to station and waits for all of them.
func prefill(t *testing.T, c *sdk.Conn, station string, n int) {
	t.Helper()
	ctx := testCtx(t)
	createStation(t, c, station)
	p := createProducer(t, c, station, true)
	msgs := make([]sdk.BatchMessage, n)
	for i := range msgs {
		msgs[i].Data = payload(i)
	}
	if err := p.ProduceBatch(ctx, msgs, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func startConsuming(t *testing.T, c *sdk.Conn, station string, tr *tracker) *sdk.Consumer {
	t.Helper()
	o := sdk.DefaultConsumerOptions(station, "faults-reader")
	o.BatchSize = 200
	o.BatchMaxWait = time.Second
	o.PullInterval = time.Millisecond
	o.MaxAckTime = 5 * time.Second
	cons, err := c.CreateConsumer(testCtx(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Consume(tr.handler(t), sdk.PartitionSelector{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cons.StopConsume() })
	return cons
}

// A consume loop acking each message, the broker SIGKILLed at a random
// point and restarted a second later: no message is lost, redeliveries
// are bounded by what was unacknowledged at the kill, and the loop
// resumes by itself promptly.
func TestCrashDuringConsume(t *testing.T) {
	r := rng(t)
	b := startBroker(t)
	c := b.connect(t)
	const station, n = "faults-consume", consumeMessages
	prefill(t, c, station, n)
	tr := newTracker(n)
	startConsuming(t, c, station, tr)
	killAt := n/10 + r.IntN(n*6/10)
	devbrokertest.WaitFor(t, "messages consumed before the kill", func() bool { d, _ := tr.snapshot(); return d >= killAt })
	b.kill()
	kill := time.Now()
	unconfirmed, recent := tr.atFault(kill, ackFlushSlack)
	time.Sleep(downTime(r))
	b.restart()
	restart := time.Now()
	devbrokertest.WaitFor(t, "the loop to resume", func() bool { return tr.handledSince(restart) })
	resume := time.Since(restart)
	devbrokertest.WaitFor(t, "every message consumed and acked", func() bool { d, a := tr.snapshot(); return d == n && a == n })
	allAcked := time.Since(restart)
	redelivered := tr.check(t, kill, ackFlushSlack, unconfirmed, recent)
	total, stale, _ := tr.counts()
	figure("faults: consume across SIGKILL: %d consumed, %d deliveries, %d redelivered (bound %d unacked + %d acked <1s before the kill), "+
		"%d stale acks; restart->next message %ss, restart->all acked %ss",
		n, total, redelivered, unconfirmed, recent, stale, seconds(resume), seconds(allAcked))
	if resume > consumeResumeBound {
		t.Fatalf("consume loop resumed %v after the restart", resume)
	}
}

// The same loop across SIGSTOP for 10 s: the connection survives, and
// the loop picks up again right after SIGCONT.
func TestPauseDuringConsume(t *testing.T) {
	r := rng(t)
	b := startBroker(t)
	c := b.connect(t)
	const station, n = "faults-pause", consumeMessages
	prefill(t, c, station, n)
	tr := newTracker(n)
	startConsuming(t, c, station, tr)
	pauseAt := n/10 + r.IntN(n*6/10)
	devbrokertest.WaitFor(t, "messages consumed before the pause", func() bool { d, _ := tr.snapshot(); return d >= pauseAt })
	b.pause()
	pause := time.Now()
	unconfirmed, _ := tr.atFault(pause, 0)
	time.Sleep(10 * time.Second)
	b.resume()
	cont := time.Now()
	devbrokertest.WaitFor(t, "the loop to resume", func() bool { return tr.handledSince(cont) })
	resume := time.Since(cont)
	devbrokertest.WaitFor(t, "every message consumed and acked", func() bool { d, a := tr.snapshot(); return d == n && a == n })
	redelivered := tr.check(t, pause, 0, unconfirmed, 0)
	total, stale, failed := tr.counts()
	figure("faults: consume across SIGSTOP 10s: %d consumed, %d deliveries, %d redelivered (bound %d unacked at the pause), "+
		"%d stale acks, %d failed acks; SIGCONT->next message %ss",
		n, total, redelivered, unconfirmed, stale, failed, seconds(resume))
	if resume > consumeResumeBound {
		t.Fatalf("consume loop resumed %v after SIGCONT", resume)
	}
}
