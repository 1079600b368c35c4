package sdk

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

func TestHostListParsing(t *testing.T) {
	cases := []struct {
		host string
		want []string
	}{
		{"localhost", []string{"localhost:6666"}},
		{"http://broker", []string{"broker:6666"}},
		{"a:7000,b, nats://c:7001 ", []string{"a:7000", "b:6666", "c:7001"}},
		{"::1", []string{"[::1]:6666"}},
		{"[::1]", []string{"[::1]:6666"}},
		{"[::1]:7000,10.0.0.1:7001", []string{"[::1]:7000", "10.0.0.1:7001"}},
	}
	for _, tc := range cases {
		o := DefaultConnectOptions()
		o.Host = tc.host
		got, err := o.addrs()
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.host, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a,,b", "a,", "a:0", "a:70000", "a:x", "[::1:7000", "a b", "host/path"} {
		o := DefaultConnectOptions()
		o.Host, o.Username, o.Password = bad, "root", "memphis"
		_, err := Connect(testCtx(t), o)
		if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), "host") {
			t.Errorf("%q: %v, want an invalid-argument error about the host", bad, err)
		}
	}
}

// A client given one node of a cluster learns the others from it, and
// carries on (producing and consuming) through another node when its own
// goes away.
func TestClusterClientFailsOverToAdvertisedNode(t *testing.T) {
	cl := devbrokertest.StartCluster(t, 3)
	c := connect(t, cl.Nodes[0], func(o *ConnectOptions) {
		o.MaxReconnect, o.ReconnectInterval = -1, 100*time.Millisecond
	})
	ctx := testCtx(t)
	createStation(t, c, "failover", func(o *StationOptions) { o.Replicas = 3 })
	p := createProducer(t, c, "failover", "p")
	cons, err := c.CreateConsumer(ctx, DefaultConsumerOptions("failover", "worker"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.nc.DiscoveredServers(); len(got) != 2 {
		t.Fatalf("discovered %v, want the two other nodes", got)
	}
	for i := range 5 {
		if err := p.Produce(ctx, []byte(fmt.Sprint(i)), ProduceOptions{MsgID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Nodes[0].Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 10; i++ {
		if err := p.Produce(ctx, []byte(fmt.Sprint(i)), ProduceOptions{MsgID: fmt.Sprint(i)}); err != nil {
			t.Fatalf("produce %d after the node stopped: %v", i, err)
		}
	}
	if url := c.nc.ConnectedUrl(); strings.HasSuffix(url, cl.Nodes[0].Addr()) {
		t.Fatalf("still on the stopped node %s", url)
	}
	var got []string
	deadline := time.Now().Add(time.Minute)
	for len(got) < 10 && time.Now().Before(deadline) {
		msgs, err := cons.Fetch(ctx, 10, PartitionSelector{})
		if err != nil {
			t.Fatalf("fetch after failover: %v", err)
		}
		for _, m := range msgs {
			got = append(got, string(m.Data()))
		}
		if err := AckAll(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, ",") != "0,1,2,3,4,5,6,7,8,9" {
		t.Fatalf("consumed %v", got)
	}
}

// A host list whose first entry is down still connects, to a later one.
func TestClusterHostListSkipsDeadNode(t *testing.T) {
	cl := devbrokertest.StartCluster(t, 3)
	dead := cl.Nodes[2].Addr()
	if err := cl.Nodes[2].Stop(); err != nil {
		t.Fatal(err)
	}
	o := brokerOptions(t, cl.Nodes[0])
	o.Host = dead + "," + cl.Nodes[1].Addr()
	c, err := Connect(testCtx(t), o)
	if err != nil {
		t.Fatalf("connect with %s: %v", o.Host, err)
	}
	defer c.Close()
	if !strings.HasSuffix(c.nc.ConnectedUrl(), cl.Nodes[1].Addr()) {
		t.Fatalf("connected to %s", c.nc.ConnectedUrl())
	}
	if !strings.Contains(c.String(), dead) {
		t.Fatalf("String() %q does not name the nodes", c.String())
	}
}

// A client given every node of a cluster logs, when its node goes away,
// the address of that node rather than the whole list.
func TestClusterDisconnectLogNamesLostNode(t *testing.T) {
	cl := devbrokertest.StartCluster(t, 3)
	logs := &logRecorder{}
	var hosts []string
	for _, n := range cl.Nodes {
		hosts = append(hosts, n.Addr())
	}
	c := connect(t, cl.Nodes[0], func(o *ConnectOptions) {
		o.Host = strings.Join(hosts, ",")
		o.MaxReconnect, o.ReconnectInterval = -1, 100*time.Millisecond
		o.Logger = logs.logger()
	})
	on := c.nc.ConnectedAddr()
	lost := slices.Index(hosts, on)
	if lost < 0 {
		t.Fatalf("connected to %s, not one of %v", on, hosts)
	}
	if err := cl.Nodes[lost].Stop(); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "the disconnect logged", func() bool { return logs.count("disconnected from the broker") > 0 })
	rec, _ := logs.find("disconnected from the broker")
	if rec.attrs["server"] != on {
		t.Fatalf("the disconnect record names %q, want the lost node %s", rec.attrs["server"], on)
	}
}
