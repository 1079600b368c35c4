package devbroker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// These tests run a 3-node cluster in this process. Killing nodes
// (SIGKILL, minority loss) is tested with real processes in tests/cluster.

func startCluster(t *testing.T) *devbrokertest.Cluster {
	t.Helper()
	if devbrokertest.External() {
		t.Skip("memphis-devbroker's own tests test the broker in this process, not an external one")
	}
	return devbrokertest.StartCluster(t, 3, func(o *devbroker.Options) { o.Logf = t.Logf })
}

func TestClusterReplicatesMetadataAndStations(t *testing.T) {
	cl := startCluster(t)
	c1, c3 := connect(t, cl.Nodes[0]), connect(t, cl.Nodes[2])
	admin, err := devbroker.AdminConn(cl.Nodes[1])
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	js, _ := jetstream.New(admin)
	ctx := context.Background()
	for _, bucket := range []string{"memphis_stations", "memphis_producers", "memphis_consumers", "memphis_schemas", "memphis_dls", "memphis_control"} {
		s, err := js.Stream(ctx, "KV_"+bucket)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("bucket %s has %d replicas, want 3", bucket, r)
		}
	}

	req := stationReq("replicated", 2)
	req["replicas"] = 3
	c1.expectText("$memphis_station_creations", req, "")
	for _, p := range []int{1, 2} {
		s, err := js.Stream(ctx, fmt.Sprintf("replicated$%d", p))
		if err != nil {
			t.Fatal(err)
		}
		if info := s.CachedInfo(); info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Fatalf("partition %d: replicas %d, cluster %+v", p, info.Config.Replicas, info.Cluster)
		}
	}
	// 2 becomes 3 (§4.1), which a 3-node cluster serves; 5 it cannot.
	req = stationReq("two", 1)
	req["replicas"] = 2
	c3.expectText("$memphis_station_creations", req, "")
	req = stationReq("five", 1)
	req["replicas"] = 5
	c3.expectText("$memphis_station_creations", req,
		"station can not be created, probably since replicas count is larger than the cluster size")

	// What node 1 created, node 3 sees: a producer there gets the
	// station's partitions.
	var resp struct {
		Partitions struct {
			List []int `json:"partitions_list"`
		} `json:"partitions_update"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(c3.request("$memphis_producer_creations", c3.producerReq("p", "replicated")), &resp); err != nil || resp.Error != "" {
		t.Fatalf("producer on node 3: %v %q", err, resp.Error)
	}
	if fmt.Sprint(resp.Partitions.List) != "[1 2]" {
		t.Fatalf("partitions seen on node 3: %v", resp.Partitions.List)
	}
}

// Every request is answered once, whichever node gets it, and changes made
// concurrently on different nodes do not undo each other.
func TestClusterAnswersEachRequestOnceAndSerialisesChanges(t *testing.T) {
	cl := startCluster(t)
	clients := []*client{connect(t, cl.Nodes[0]), connect(t, cl.Nodes[1]), connect(t, cl.Nodes[2])}

	// Replies are counted on a plain inbox subscription, which, unlike a
	// request, sees every answer.
	const perNode = 10
	var (
		mu      sync.Mutex
		replies = map[string]int{}
	)
	var wg sync.WaitGroup
	for n, c := range clients {
		inbox := nats.NewInbox()
		sub, err := c.nc.Subscribe(inbox+".*", func(m *nats.Msg) {
			mu.Lock()
			replies[m.Subject]++
			mu.Unlock()
			if !strings.Contains(string(m.Data), `"error":""`) {
				t.Errorf("%s: %s", m.Subject, m.Data)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe() //nolint:errcheck
		if err := c.nc.Flush(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			// All on the same new station: each creation races to create it.
			for i := range perNode {
				req, _ := json.Marshal(c.producerReq(fmt.Sprintf("p%d-%d", n, i), "contended"))
				if err := c.nc.PublishRequest("$memphis_producer_creations", fmt.Sprintf("%s.%d", inbox, i), req); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		n := len(replies)
		mu.Unlock()
		if n == 3*perNode || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Late duplicates would arrive within moments of the first answers.
	time.Sleep(time.Second)
	mu.Lock()
	for subj, n := range replies {
		if n != 1 {
			t.Errorf("%s answered %d times", subj, n)
		}
	}
	if len(replies) != 3*perNode {
		t.Fatalf("%d of %d requests answered", len(replies), 3*perNode)
	}
	mu.Unlock()

	// One station, with every producer registered: no creation overwrote
	// another's records.
	admin, err := devbroker.AdminConn(cl.Nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	js, _ := jetstream.New(admin)
	kv, err := js.KeyValue(context.Background(), "memphis_producers")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3*perNode {
		t.Fatalf("%d producer records, want %d", len(keys), 3*perNode)
	}
}

// A schema attached through one node reaches producers connected to the
// others, and a consumer group's durable made through one node is seen
// from all.
func TestClusterBroadcastsReachEveryNode(t *testing.T) {
	cl := startCluster(t)
	c1, c2, c3 := connect(t, cl.Nodes[0]), connect(t, cl.Nodes[1]), connect(t, cl.Nodes[2])
	c1.expectText("$memphis_station_creations", stationReq("orders", 1), "")
	updates := make(chan *nats.Msg, 4)
	for _, c := range []*client{c2, c3} {
		sub, err := c.nc.ChanSubscribe("$memphis_schema_updates_orders", updates)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe() //nolint:errcheck
	}
	waitInterest(t, cl, "$memphis_schema_updates_orders")
	c1.expectJSON("$memphis_schema_creations", `{"name":"order","type":"json","created_by_username":"root",
	  "schema_content":"{\"type\":\"object\"}","message_struct_name":""}`, `{"error":""}`)
	c2.expectText("$memphis_schema_attachments", `{"name":"order","station_name":"orders","username":"root"}`, "")
	for range 2 {
		select {
		case m := <-updates:
			if !strings.Contains(string(m.Data), `"schema_name":"order"`) {
				t.Fatalf("update %s", m.Data)
			}
		case <-time.After(reqTimeout):
			t.Fatal("a node's subscriber got no schema update")
		}
	}
	select {
	case m := <-updates:
		t.Fatalf("extra update %s", m.Data)
	case <-time.After(500 * time.Millisecond):
	}
}

// An official SDK's producer (msg-id only) is de-duplicated whichever
// node it publishes through, and each message is forwarded once.
func TestClusterMsgIDDedupOnEveryNode(t *testing.T) {
	cl := startCluster(t)
	clients := []*client{connect(t, cl.Nodes[0]), connect(t, cl.Nodes[1]), connect(t, cl.Nodes[2])}
	clients[0].createProducerAs("official", "dedup", "go")
	// The answering node routes at once; the others follow the bucket.
	for i, b := range cl.Nodes {
		waitUntil(t, fmt.Sprintf("node %d routes the station", i+1), func() bool {
			return strings.Contains(fmt.Sprint(devbroker.RoutedStations(b)), "dedup")
		})
	}
	for i, c := range clients {
		for range 2 {
			ack := c.produceWithMsgID("dedup$1", fmt.Sprintf("id-%d", i), "x")
			if ack.Sequence == 0 {
				t.Fatal("no sequence")
			}
		}
	}
	// And a message without an id is stored once, not once per node.
	m := nats.NewMsg("dedup$1.final")
	m.Data = []byte("no id")
	ctx, cancel := context.WithTimeout(context.Background(), reqTimeout)
	defer cancel()
	if _, err := clients[1].js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, clients[2], "dedup$1"); n != 4 {
		t.Fatalf("stream holds %d messages, want 4 (3 ids + 1 without)", n)
	}
	// Destroying the producer unroutes the station on every node.
	clients[0].destroyProducer("official", "dedup")
	for i, b := range cl.Nodes {
		waitUntil(t, fmt.Sprintf("node %d unroutes the station", i+1), func() bool {
			return len(devbroker.RoutedStations(b)) == 0
		})
	}
}

// One probe, one answer, though every node watches pull requests.
func TestClusterAnswersPullProbeOnce(t *testing.T) {
	cl := startCluster(t)
	c1, c2 := connect(t, cl.Nodes[0]), connect(t, cl.Nodes[1])
	c1.expectText("$memphis_station_creations", stationReq("probed", 1), "")
	c1.request("$memphis_consumer_creations", c1.consumerReq("w", "probed", "grp"))
	admin, err := devbroker.AdminConn(cl.Nodes[2])
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	answers := make(chan *nats.Msg, 8)
	sub, err := admin.ChanSubscribe("$JS.API.CONSUMER.MSG.NEXT.probed$1.*", answers)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck
	// Every node's pull-probe answerer already subscribes to pull
	// requests, so interest in the subject proves nothing: wait until a
	// marker published on each node arrives.
	for i, b := range cl.Nodes {
		nc, err := devbroker.AdminConn(b)
		if err != nil {
			t.Fatal(err)
		}
		marker := fmt.Sprintf("$JS.API.CONSUMER.MSG.NEXT.probed$1.marker%d", i)
		waitUntil(t, "the subscription reaches node "+fmt.Sprint(i+1), func() bool {
			if err := nc.Publish(marker, nil); err != nil {
				t.Fatal(err)
			}
			for {
				select {
				case m := <-answers:
					if m.Subject == marker {
						return true
					}
				case <-time.After(50 * time.Millisecond):
					return false
				}
			}
		})
		nc.Close()
	}
	inbox := nats.NewInbox()
	if err := c2.nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.probed$1.grp", inbox,
		[]byte(`{"batch":5,"expires":1000000000,"no_wait":true}`)); err != nil {
		t.Fatal(err)
	}
	// Wait (boundedly) for the client's request and the probe, then a
	// moment more for a second probe from another node, which would
	// follow within it.
	seen, onBehalf := 0, 0
	deadline := time.After(reqTimeout)
	var extra <-chan time.Time
	for done := false; !done; {
		select {
		case m := <-answers:
			if strings.Contains(m.Subject, "marker") {
				continue // a late copy of a marker
			}
			seen++
			if string(m.Data) == `{"batch":1,"no_wait":true}` && m.Reply == inbox {
				onBehalf++
			}
			if extra == nil && seen >= 2 && onBehalf >= 1 {
				extra = time.After(time.Second)
			}
		case <-extra:
			done = true
		case <-deadline:
			done = true
		}
	}
	if seen != 2 || onBehalf != 1 {
		t.Fatalf("saw %d pull requests, %d sent on the client's behalf; want the probe and 1", seen, onBehalf)
	}
}

// A client counts as connected on every node, so a consumer group on a
// station keeps its durable while a member on another node is alive.
func TestClusterConnectionsSeenFromEveryNode(t *testing.T) {
	cl := startCluster(t)
	c3 := connect(t, cl.Nodes[2])
	for i, b := range cl.Nodes {
		if !devbroker.Connected(b, c3.connID) {
			t.Errorf("node %d does not see the client of node 3", i+1)
		}
	}
	c1 := connect(t, cl.Nodes[0])
	c1.expectText("$memphis_station_creations", stationReq("shared", 1), "")
	c1.request("$memphis_consumer_creations", c1.consumerReq("a", "shared", "grp"))
	c3.request("$memphis_consumer_creations", c3.consumerReq("b", "shared", "grp"))
	c1.expectText("$memphis_consumer_destructions", map[string]any{"name": "a", "station_name": "shared",
		"username": "root", "connection_id": c1.connID, "req_version": 1}, "")
	if _, err := c1.js.Consumer(context.Background(), "shared$1", "grp"); err != nil {
		t.Fatalf("the group's durable went while a member on node 3 is alive: %v", err)
	}
}

// A node that was down catches up: what was written meanwhile reaches its
// own replicas, and it serves it once the others are gone.
func TestClusterNodeCatchesUpAfterRestart(t *testing.T) {
	cl := startCluster(t)
	c1 := connect(t, cl.Nodes[0])
	req := stationReq("caught", 1)
	req["replicas"] = 3
	c1.expectText("$memphis_station_creations", req, "")
	if err := cl.Nodes[2].Stop(); err != nil {
		t.Fatal(err)
	}
	// Two of three nodes are a majority: R3 stations can still be made,
	// and written to.
	req = stationReq("made-while-down", 1)
	req["replicas"] = 3
	c1.expectText("$memphis_station_creations", req, "")
	c1.publish("made-while-down", 1, "x", nil)
	for i := range 5 {
		c1.publish("caught", 1, fmt.Sprint(i), nil)
	}
	b3 := cl.Restart(2)
	_, want, _ := devbroker.LocalStreamState(cl.Nodes[0], "KV_memphis_stations")
	waitUntil(t, "node 3 catches up", func() bool {
		msgs, _, _ := devbroker.LocalStreamState(b3, "caught$1")
		_, last, _ := devbroker.LocalStreamState(b3, "KV_memphis_stations")
		return msgs == 5 && last >= want
	})
	c3 := connect(t, b3)
	c3.expectText("$memphis_station_destructions", `{"station_name":"made-while-down","username":"root"}`, "")
}

// A node that dies holding the control lease holds up the others for
// the lease's lifetime only: then they take it over.
func TestClusterLeaseOfDeadHolderIsTakenOver(t *testing.T) {
	cl := startCluster(t)
	if err := devbroker.AbandonLease(cl.Nodes[0]); err != nil {
		t.Fatal(err)
	}
	c2 := connect(t, cl.Nodes[1])
	start := time.Now()
	c2.expectText("$memphis_station_creations", stationReq("after-takeover", 1), "")
	if waited := time.Since(start); waited < devbroker.LeaseTTL {
		t.Fatalf("answered after %s, before the abandoned lease expired", waited)
	}
	// And the lease works normally afterwards.
	c2.expectText("$memphis_station_destructions", `{"station_name":"after-takeover","username":"root"}`, "")
}

// waitInterest waits until every node knows of a subscriber to subject:
// interest travels between nodes on its own, after the subscribe returns.
func waitInterest(t *testing.T, cl *devbrokertest.Cluster, subject string) {
	t.Helper()
	for i, b := range cl.Nodes {
		waitUntil(t, fmt.Sprintf("node %d learns of subscribers to %s", i+1, subject), func() bool {
			return devbroker.HasInterest(b, subject)
		})
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(reqTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
