package devbrokertest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"
)

// Cluster is an in-process memphis-devbroker cluster.
type Cluster struct {
	Nodes []*devbroker.Broker
	t     testing.TB
}

// StartCluster runs n nodes in this process, on free loopback ports with
// their own data directories, each routed to all the others, and returns
// once every node's control plane is up. Option functions apply to every
// node (e.g. the credentials). It stops them when the test ends.
func StartCluster(t testing.TB, n int, opts ...func(*devbroker.Options)) *Cluster {
	t.Helper()
	if External() {
		t.Skipf("devbrokertest: the test needs a cluster of its own; %s points at an external broker", EnvBroker)
		return nil
	}
	ports := FreePorts(t, 2*n)
	routes := make([]string, n)
	for i := range n {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[n+i])
	}
	all := make([]devbroker.Options, n)
	for i := range n {
		o := devbroker.Options{
			Host: "127.0.0.1", Port: ports[i], DataDir: t.TempDir(),
			ClusterPort: ports[n+i], Routes: routes,
		}
		for _, f := range opts {
			f(&o)
		}
		all[i] = o
	}
	c := &Cluster{Nodes: make([]*devbroker.Broker, n), t: t}
	// Together: a node's Start returns once a majority of the nodes is up.
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { c.Nodes[i] = startQuietly(t, all[i]) })
	}
	wg.Wait()
	for i, b := range c.Nodes {
		if b == nil {
			t.Fatalf("devbrokertest: cluster node %d did not start", i)
		}
	}
	return c
}

// startQuietly is start without t.Fatalf, which must not run outside the
// test's goroutine; a failure is reported with t.Errorf and a nil broker.
func startQuietly(t testing.TB, o devbroker.Options) *devbroker.Broker {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	b, err := devbroker.Start(ctx, o)
	if err != nil {
		t.Errorf("devbrokertest: start cluster node on port %d: %v", o.Port, err)
		return nil
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("devbrokertest: stop cluster node: %v", err)
		}
	})
	return b
}

// Hosts is the client address list of every node: "h:p,h:p,...", the form
// the SDKs' host option takes.
func (c *Cluster) Hosts() string {
	addrs := make([]string, len(c.Nodes))
	for i, b := range c.Nodes {
		addrs[i] = b.Addr()
	}
	return strings.Join(addrs, ",")
}

// Restart stops node i and starts it again with the same options, data
// directory and ports, and waits until it serves again.
func (c *Cluster) Restart(i int) *devbroker.Broker {
	c.t.Helper()
	c.Nodes[i] = Restart(c.t, c.Nodes[i])
	return c.Nodes[i]
}

// FreePorts returns n distinct TCP ports free on the loopback interface
// right now (for listeners that must know their port before they start,
// such as cluster nodes naming each other).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("devbrokertest: free port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
