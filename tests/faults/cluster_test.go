package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/libmemphis/libmemphis/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The cluster scenarios: three memphis-devbroker processes on loopback
// form one cluster (nats-server clustering), and nodes are killed with
// SIGKILL at seeded random points while the Go client works through them.

// clusterResumeBound is how long a client may wait for the cluster after a
// node holding leaders dies: JetStream's RAFT groups elect a new leader
// after 4-9 s without heartbeats; the bound is generous for a loaded CI
// machine.
const clusterResumeBound = 40 * time.Second

// clusterAsyncMessages is the size of the leader-kill produce scenario.
const clusterAsyncMessages = 100_000

// cluster is n memphis-devbroker nodes routed to each other.
type cluster struct {
	t     testing.TB
	nodes []*broker
}

// startCluster starts n nodes named node1..nodeN, with args added to
// every node's flags, and returns once all of them serve.
func startCluster(t testing.TB, n int, args ...string) *cluster {
	t.Helper()
	ports := devbrokertest.FreePorts(t, 2*n)
	routes := make([]string, n)
	for i := range n {
		routes[i] = "nats-route://127.0.0.1:" + strconv.Itoa(ports[n+i])
	}
	cl := &cluster{t: t}
	for i := range n {
		b := &broker{t: t, dir: t.TempDir(), port: ports[i], args: append([]string{
			"--server-name", nodeName(i), "--cluster-port", strconv.Itoa(ports[n+i]),
			"--routes", strings.Join(routes, ","),
		}, args...)}
		cl.nodes = append(cl.nodes, b)
		t.Cleanup(func() {
			if t.Failed() { // the node's own account (lease, elections), before its dir goes
				if data, err := os.ReadFile(filepath.Join(b.dir, "broker.log")); err == nil {
					lines := strings.Split(strings.TrimSpace(string(data)), "\n")
					t.Logf("%s's log, last lines:\n%s", nodeName(i), strings.Join(lines[max(0, len(lines)-40):], "\n"))
				}
			}
			if b.launched != nil {
				_ = b.launched.Process.Kill()
			}
			if b.cmd != nil {
				_ = b.cmd.Process.Signal(syscall.SIGCONT)
				b.signal(syscall.SIGKILL)
			}
		})
	}
	// Together: a node is ready once a majority of the nodes runs.
	for _, b := range cl.nodes {
		b.launch()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, b := range cl.nodes {
		for !b.awaitReady(deadline) {
			time.Sleep(100 * time.Millisecond)
			b.launch()
		}
	}
	return cl
}

func nodeName(i int) string { return "node" + strconv.Itoa(i+1) }

// hosts is the host option naming the given nodes (all when none given).
func (cl *cluster) hosts(nodes ...int) string {
	if len(nodes) == 0 {
		for i := range cl.nodes {
			nodes = append(nodes, i)
		}
	}
	addrs := make([]string, len(nodes))
	for k, i := range nodes {
		addrs[k] = "127.0.0.1:" + strconv.Itoa(cl.nodes[i].port)
	}
	return strings.Join(addrs, ",")
}

// connect opens a client on the given nodes (all when none given) that
// reconnects forever.
func (cl *cluster) connect(t testing.TB, nodes ...int) *sdk.Conn {
	t.Helper()
	o := sdk.DefaultConnectOptions()
	o.Host = cl.hosts(nodes...)
	o.Username, o.Password = "root", "memphis"
	o.MaxReconnect = -1
	o.Timeout = 5 * time.Second
	c, err := sdk.Connect(testCtx(t), o)
	if err != nil {
		t.Fatalf("connect to %s: %v", o.Host, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// running lists the nodes whose process runs.
func (cl *cluster) running() []int {
	var out []int
	for i, b := range cl.nodes {
		if b.cmd != nil {
			out = append(out, i)
		}
	}
	return out
}

// streamInfo asks the running nodes for a stream's info until one answers
// with a leader (after a node died, once the stream's group has elected).
func (cl *cluster) streamInfo(t testing.TB, stream string) *jetstream.StreamInfo {
	t.Helper()
	var info *jetstream.StreamInfo
	devbrokertest.WaitFor(t, "stream "+stream+" to have a leader", func() bool {
		nc, err := nats.Connect(cl.hosts(cl.running()...), nats.UserInfo("root", "memphis"), nats.MaxReconnects(0))
		if err != nil {
			return false
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return false
		}
		info = s.CachedInfo()
		return info.Cluster != nil && info.Cluster.Leader != ""
	})
	return info
}

// streamLeader is the node leading a stream's RAFT group.
func (cl *cluster) streamLeader(t testing.TB, stream string) int {
	t.Helper()
	leader := cl.streamInfo(t, stream).Cluster.Leader
	for i := range cl.nodes {
		if nodeName(i) == leader {
			return i
		}
	}
	t.Fatalf("stream %s led by unknown server %q", stream, leader)
	return -1
}

// stored reads a one-partition station's stream through a running node,
// once the stream has a leader.
func (cl *cluster) stored(t testing.TB, station string) []storedMsg {
	t.Helper()
	cl.streamInfo(t, station+"$1")
	return cl.nodes[cl.running()[0]].stored(t, station)
}

// afterKill retries a control request answered "cluster unavailable"
// while a node's death is being sorted out (leader elections; the control
// lease held by a request that waits them out, or by the dead node until
// it expires), for clusterResumeBound. It returns how often it retried.
func afterKill(t testing.TB, what string, fn func() error) int {
	t.Helper()
	deadline := time.Now().Add(clusterResumeBound)
	for retries := 0; ; retries++ {
		err := fn()
		if err == nil {
			return retries
		}
		if !strings.Contains(err.Error(), "cluster unavailable") || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %v (retrying)", what, err)
		time.Sleep(500 * time.Millisecond)
	}
}

// idempotentProducer is createProducer's options, for afterKill.
func idempotentProducer(station string) sdk.ProducerOptions {
	o := sdk.DefaultProducerOptions(station, "faults")
	o.Idempotent = true
	return o
}

func createReplicatedStation(t testing.TB, c *sdk.Conn, name string, replicas int) {
	t.Helper()
	o := sdk.DefaultStationOptions(name)
	o.Replicas = replicas
	if _, err := c.CreateStation(testCtx(t), o); err != nil {
		t.Fatalf("create station %s with %d replicas: %v", name, replicas, err)
	}
}

// others lists the nodes other than skip.
func others(n int, skip ...int) []int {
	var out []int
	for i := range n {
		skipped := false
		for _, s := range skip {
			skipped = skipped || i == s
		}
		if !skipped {
			out = append(out, i)
		}
	}
	return out
}

// clusterDownTime is how long a killed node stays down: 1 to 5 s, so the
// survivors sometimes elect new leaders before it is back, sometimes not.
func clusterDownTime(r interface{ IntN(int) int }) time.Duration {
	return time.Second + time.Duration(r.IntN(4000))*time.Millisecond
}

// Nonblocking produce to a station with three replicas from a client
// connected to the node leading its stream; that node is SIGKILLed at a
// random point and restarted a few seconds later. The client fails over
// to a node the cluster advertised and resends what was in flight: every
// produce gets exactly one result and all are acknowledged; the stream
// holds each message once, in order; the two survivors alone serve all of
// them (the restarted node killed again), and so do the restarted node and
// one survivor (it caught up).
//
// (A client connected to a surviving node keeps its connection, so the
// SDK resends nothing: messages in flight to the dead leader get no
// acknowledgement and fail at their ack wait, as "may or may not have
// been stored". Their msg ids make a resend by the application safe.)
func TestClusterStreamLeaderKilledDuringAsyncProduce(t *testing.T) {
	r := rng(t)
	cl := startCluster(t, 3)
	setup := cl.connect(t)
	const station = "cluster-async"
	createReplicatedStation(t, setup, station, 3)
	leader := cl.streamLeader(t, station+"$1")
	c := cl.connect(t, leader)
	ctx := testCtx(t)
	// Each message may wait out a reconnect and a stream leader election
	// (more than the default 15 s on a loaded machine): a generous bound.
	o := sdk.DefaultProducerOptions(station, "faults")
	o.Idempotent, o.AckWait = true, clusterResumeBound
	p, err := c.CreateProducer(ctx, o)
	if err != nil {
		t.Fatalf("create producer: %v", err)
	}
	n := clusterAsyncMessages
	res := newResults(n)
	k := newKiller(cl.nodes[leader], int64(n/10+r.IntN(n*6/10)))
	produced := make(chan error, 1)
	start := time.Now()
	go func() {
		for i := range n {
			if err := p.ProduceAsync(ctx, payload(i), sdk.ProduceOptions{}, res.done(i)); err != nil {
				produced <- fmt.Errorf("produce %d: %w", i, err)
				return
			}
			k.after(int64(i + 1))
		}
		produced <- nil
	}()
	down := clusterDownTime(r)
	restart, atKill := k.await(t, down)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	total, allAcked := time.Since(start), time.Since(restart)
	res.check(t)

	// The survivors alone hold every acknowledged message. (Not always
	// in production order: a produce refused during the leader election
	// is retried after a backoff, while later ones may already pass.)
	cl.nodes[leader].kill()
	checkStored(t, cl.stored(t, station), n)
	// The restarted node caught up: it and one survivor hold them too.
	cl.nodes[leader].restart()
	survivor := others(3, leader)[r.IntN(2)]
	cl.nodes[survivor].kill()
	stored := cl.stored(t, station)
	checkStored(t, stored, n)
	figure("faults: cluster R3 async produce, stream leader %s killed at %d accepted, down %ss: %d acked, %d resent, %d stored once each "+
		"(read from the survivors, then from the restarted node and one survivor); restart->all acked %ss, total %ss",
		nodeName(leader), atKill, seconds(down), res.acked.Load(), res.retried.Load(), len(stored), seconds(allAcked), seconds(total))
}

// A consume loop on one node, acking each message, keeps going while the
// node leading the station's stream dies: nothing lost, redeliveries only
// of what the kill could have left unacknowledged.
func TestClusterConsumeLoopSurvivesLeaderLoss(t *testing.T) {
	r := rng(t)
	cl := startCluster(t, 3)
	const station, n = "cluster-consume", consumeMessages
	pc := cl.connect(t)
	createReplicatedStation(t, pc, station, 3)
	prefill(t, pc, station, n)
	leader := cl.streamLeader(t, station+"$1")
	consumerNode := others(3, leader)[r.IntN(2)]
	c := cl.connect(t, consumerNode)
	tr := newTracker(n)
	startConsuming(t, c, station, tr)
	killAt := n/10 + r.IntN(n*6/10)
	devbrokertest.WaitFor(t, "messages consumed before the kill", func() bool { d, _ := tr.snapshot(); return d >= killAt })
	cl.nodes[leader].kill()
	kill := time.Now()
	unconfirmed, recent := tr.atFault(kill, ackFlushSlack)
	appliedUnconfirmed := cl.awaitAllAcked(t, tr, station, "faults-reader", n)
	allAcked := time.Since(kill)
	redelivered := tr.check(t, kill, ackFlushSlack, unconfirmed, recent)
	total, stale, failed := tr.counts()
	figure("faults: cluster consume loop on %s while the stream leader %s dies: %d consumed, %d deliveries, %d redelivered "+
		"(bound %d unacked + %d acked <1s before the kill), %d stale acks, %d failed acks (%d of them applied all the same); kill->all acked %ss",
		nodeName(consumerNode), nodeName(leader), n, total, redelivered, unconfirmed, recent, stale, failed, appliedUnconfirmed, seconds(allAcked))
}

// awaitAllAcked waits (boundedly) until the consume loop has handled all
// n messages and every one is acknowledged: its ack confirmed to the
// handler, or, for an ack whose confirmation the failover swallowed (the
// dying leader's group committed it but the answer never came), the
// group's durable has nothing pending. It returns how many acks were
// applied without a confirmation. On a timeout the failure says where the
// messages are: the loop's counts and the durable as a running node sees it.
func (cl *cluster) awaitAllAcked(t *testing.T, tr *tracker, station, group string, n int) (unconfirmedApplied int) {
	t.Helper()
	nc, err := nats.Connect(cl.hosts(cl.running()...), nats.UserInfo("root", "memphis"), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	durable := func() (*jetstream.ConsumerInfo, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, wire.StreamName(wire.InternalName(station), 1), wire.InternalName(group))
		if err != nil {
			return nil, err
		}
		return c.CachedInfo(), nil
	}
	deadline := time.Now().Add(clusterResumeBound + 2*time.Minute)
	var asked time.Time
	for time.Now().Before(deadline) {
		d, a := tr.snapshot()
		if d == n && a == n {
			return 0
		}
		if d == n && time.Since(asked) > 500*time.Millisecond {
			asked = time.Now()
			if i, err := durable(); err == nil && i.NumPending == 0 && i.NumAckPending == 0 {
				// Confirmations still on their way arrive within moments.
				for end := time.Now().Add(5 * time.Second); a < n && time.Now().Before(end); _, a = tr.snapshot() {
					time.Sleep(10 * time.Millisecond)
				}
				return n - a
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	distinct, confirmed := tr.snapshot()
	total, stale, failed := tr.counts()
	state := "unknown"
	if i, err := durable(); err != nil {
		state = err.Error()
	} else {
		state = fmt.Sprintf("pending %d, ack pending %d, redelivered %d, waiting pulls %d, leader %v",
			i.NumPending, i.NumAckPending, i.NumRedelivered, i.NumWaiting, i.Cluster)
	}
	t.Fatalf("the consume loop handled %d of %d messages and confirmed %d acks (%d deliveries, %d stale acks, %d failed acks); durable: %s",
		distinct, n, confirmed, total, stale, failed, state)
	return 0
}

// The control plane with one node of three down: a station, a producer
// and a consumer are created and used. After the node rejoins and
// another one dies, the metadata and messages from both before and during
// the outage are intact.
func TestClusterControlPlaneWithNodeDown(t *testing.T) {
	r := rng(t)
	cl := startCluster(t, 3)
	c := cl.connect(t)
	ctx := testCtx(t)
	createReplicatedStation(t, c, "cluster-before", 3)
	before := createProducer(t, c, "cluster-before", true)
	for i := range 10 {
		if err := before.Produce(ctx, payload(i), sdk.ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	readN(t, c, "cluster-before", "grp", 5, nil) // the group's position: 5 of 10

	down := r.IntN(3)
	cl.nodes[down].kill()
	kill := time.Now()
	so := sdk.DefaultStationOptions("cluster-during")
	so.Replicas = 3
	retried := afterKill(t, "create station cluster-during", func() error { _, err := c.CreateStation(ctx, so); return err })
	var during *sdk.Producer
	retried += afterKill(t, "create a producer of cluster-during", func() (err error) {
		during, err = c.CreateProducer(ctx, idempotentProducer("cluster-during"))
		return err
	})
	for i := range 10 {
		if err := during.Produce(ctx, payload(i), sdk.ProduceOptions{}); err != nil {
			t.Fatalf("produce with %s down: %v", nodeName(down), err)
		}
	}
	if got := readN(t, c, "cluster-during", "grp", 10, &retried); len(got) != 10 {
		t.Fatalf("read %d of 10 with %s down", len(got), nodeName(down))
	}
	served := time.Since(kill)

	// The node rejoins; another dies: the rejoined node must now serve
	// what was created while it was down.
	cl.nodes[down].restart()
	second := others(3, down)[r.IntN(2)]
	cl.nodes[second].kill()
	c2 := cl.connect(t, others(3, second)...)
	for _, station := range []string{"cluster-before", "cluster-during"} {
		var p *sdk.Producer
		retried += afterKill(t, "create a producer of "+station, func() (err error) {
			p, err = c2.CreateProducer(ctx, idempotentProducer(station))
			return err
		})
		if err := p.Produce(ctx, payload(100), sdk.ProduceOptions{}); err != nil {
			t.Fatalf("%s after the rejoin: %v", station, err)
		}
	}
	// The group resumes where it was: the other 5, then the new one.
	got := readN(t, c2, "cluster-before", "grp", 6, &retried)
	if fmt.Sprint(got) != "[5 6 7 8 9 100]" {
		t.Fatalf("group resumed with %v, want [5 6 7 8 9 100]", got)
	}
	if got := readN(t, c2, "cluster-during", "grp", 1, &retried); fmt.Sprint(got) != "[100]" {
		t.Fatalf("cluster-during's group resumed with %v", got)
	}
	figure("faults: cluster control plane with %s down: station, producer, consumer made and used within %ss of the kill; "+
		"metadata and messages intact after it rejoined and %s died; %d control requests answered \"cluster unavailable\" and retried",
		nodeName(down), seconds(served), nodeName(second), retried)
}

// readN fetches and acks n messages of station as group, returning their
// indexes in order. After a node's death (retried not nil) the consumer's
// creation is retried while the cluster answers "unavailable", counted in
// *retried.
func readN(t testing.TB, c *sdk.Conn, station, group string, n int, retried *int) []int {
	t.Helper()
	ctx := testCtx(t)
	o := sdk.DefaultConsumerOptions(station, group)
	o.BatchMaxWait = time.Second
	var cons *sdk.Consumer
	create := func() (err error) { cons, err = c.CreateConsumer(ctx, o); return err }
	if retried != nil {
		*retried += afterKill(t, "consumer on "+station, create)
	} else if err := create(); err != nil {
		t.Fatalf("consumer on %s: %v", station, err)
	}
	var out []int
	deadline := time.Now().Add(clusterResumeBound)
	for len(out) < n && time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, n-len(out), sdk.PartitionSelector{})
		if err != nil {
			t.Logf("fetch %s: %v (retrying)", station, err)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for _, m := range msgs {
			i, err := index(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, i)
		}
		if err := sdk.AckAll(ctx, msgs); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if len(out) < n {
		t.Fatalf("read %d of %d messages of %s", len(out), n, station)
	}
	return out
}

// Two of three nodes down: the survivor has no majority. Producing and
// the control plane fail with errors that say the cluster is unavailable;
// once the nodes return, every message acknowledged before is there once.
func TestClusterMinorityLeftSaysUnavailable(t *testing.T) {
	r := rng(t)
	cl := startCluster(t, 3)
	survivor := r.IntN(3)
	c := cl.connect(t, survivor)
	ctx := testCtx(t)
	const station = "cluster-minority"
	createReplicatedStation(t, c, station, 3)
	p := createProducer(t, c, station, true)
	const acked = 1000
	res := newResults(acked)
	for i := range acked {
		if err := p.ProduceAsync(ctx, payload(i), sdk.ProduceOptions{}, res.done(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	res.check(t)
	dead := others(3, survivor)
	for _, i := range dead {
		cl.nodes[i].kill()
	}
	// A produce cannot be stored: it fails within its deadline.
	start := time.Now()
	err := p.Produce(ctx, payload(acked), sdk.ProduceOptions{AckWait: 10 * time.Second})
	if err == nil {
		t.Fatal("a produce succeeded with two of three nodes down")
	}
	// The stream leader, if it survived, holds the message until it sees
	// it lost its majority (JetStream: 10 s), then steps down: the SDK
	// reports no acknowledgement, or no stream answering.
	if code := sdk.CodeOf(err); code != sdk.CodeTimeout && code != sdk.CodeUnreachable || strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("produce with two of three nodes down: %v (code %s)", err, code)
	}
	produceErr, produceTook := err, time.Since(start)
	// The control plane answers that the cluster is unavailable.
	o := sdk.DefaultStationOptions("cluster-minority-new")
	_, err = c.CreateStation(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "cluster unavailable") {
		t.Fatalf("station creation with two of three nodes down: %v, want the cluster-unavailable error", err)
	}
	controlErr := err
	for _, i := range dead {
		cl.nodes[i].restart()
	}
	stored := cl.stored(t, station)
	seen := make([]int, acked+1)
	for _, m := range stored {
		if m.index < 0 || m.index > acked {
			t.Fatalf("unknown message %d stored", m.index)
		}
		seen[m.index]++
	}
	for i := range acked {
		if seen[i] != 1 {
			t.Fatalf("acknowledged message %d stored %d times", i, seen[i])
		}
	}
	figure("faults: cluster with 2 of 3 nodes down: produce failed after %ss (code %s: %v); control plane: %v; "+
		"all %d acknowledged messages stored once after the nodes returned",
		seconds(produceTook), sdk.CodeOf(produceErr), produceErr, controlErr, acked)
}
