package devbroker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go/jetstream"
)

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func (c *client) durable(stream, name string) (jetstream.ConsumerConfig, error) {
	cons, err := c.js.Consumer(context.Background(), stream, name)
	if err != nil {
		return jetstream.ConsumerConfig{}, err
	}
	return cons.CachedInfo().Config, nil
}

func TestConsumerCreateDurablePerPartition(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("Orders.EU", 3), "")
	// The exact memphis.go request of §7.1.
	c.expectJSON("$memphis_consumer_creations",
		`{"name":"worker-1","station_name":"Orders.EU","connection_id":"`+c.connID+`","consumer_type":"application",
		 "consumers_group":"Billing.V2","max_ack_time_ms":30000,"max_msg_deliveries":2,"username":"root",
		 "start_consume_from_sequence":1,"last_messages":-1,"req_version":4,"app_id":"9a1e","sdk_lang":"go"}`,
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1,2,3]},"error":""}`)
	for p := 1; p <= 3; p++ {
		stream := fmt.Sprintf("orders#eu$%d", p)
		cfg, err := c.durable(stream, "billing#v2")
		if err != nil {
			t.Fatalf("durable on %s: %v", stream, err)
		}
		if cfg.Durable != "billing#v2" || cfg.DeliverPolicy != jetstream.DeliverAllPolicy ||
			cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.AckWait != 30*time.Second ||
			cfg.MaxDeliver != 2 || cfg.FilterSubject != stream+".final" ||
			cfg.ReplayPolicy != jetstream.ReplayInstantPolicy || cfg.MaxAckPending != -1 ||
			cfg.HeadersOnly || cfg.InactiveThreshold != 0 {
			t.Fatalf("durable config on %s: %+v", stream, cfg)
		}
	}
}

func TestConsumerDeliverPolicies(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("dp", 1), "")
	for i := 0; i < 5; i++ {
		c.publish("dp", 1, fmt.Sprint(i), nil)
	}
	cases := []struct {
		group       string
		start, last int64
		policy      jetstream.DeliverPolicy
		seq         uint64
	}{
		{"all", 1, -1, jetstream.DeliverAllPolicy, 0},
		{"new", 1, 0, jetstream.DeliverNewPolicy, 0},
		{"last2", 1, 2, jetstream.DeliverByStartSequencePolicy, 4},
		{"last99", 1, 99, jetstream.DeliverByStartSequencePolicy, 1},
		{"from3", 3, -1, jetstream.DeliverByStartSequencePolicy, 3},
	}
	for _, tc := range cases {
		req := c.consumerReq("c-"+tc.group, "dp", tc.group)
		req["start_consume_from_sequence"], req["last_messages"] = tc.start, tc.last
		c.expectJSON("$memphis_consumer_creations", req,
			`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1]},"error":""}`)
		cfg, err := c.durable("dp$1", tc.group)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DeliverPolicy != tc.policy || cfg.OptStartSeq != tc.seq {
			t.Fatalf("%s: policy %v start %d", tc.group, cfg.DeliverPolicy, cfg.OptStartSeq)
		}
	}
}

func TestConsumerClampsAndDefaults(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	req := c.consumerReq("solo", "clamps", "")
	req["max_ack_time_ms"], req["max_msg_deliveries"] = 0, 50
	c.request("$memphis_consumer_creations", req)
	// The group defaults to the consumer name.
	cfg, err := c.durable("clamps$1", "solo")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AckWait != 30*time.Second || cfg.MaxDeliver != 10 {
		t.Fatalf("clamped config %+v", cfg)
	}
	// A later member with other limits updates the shared durable.
	req = c.consumerReq("second", "clamps", "solo")
	req["max_ack_time_ms"], req["max_msg_deliveries"] = 5000, 3
	c.request("$memphis_consumer_creations", req)
	if cfg, err = c.durable("clamps$1", "solo"); err != nil || cfg.AckWait != 5*time.Second || cfg.MaxDeliver != 3 {
		t.Fatalf("updated config %+v %v", cfg, err)
	}
}

func TestConsumerCreateErrorsArePlainText(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	for _, tc := range []struct {
		field string
		value any
		want  string
	}{
		{"start_consume_from_sequence", 0, "startConsumeFromSequence has to be a positive number"},
		{"last_messages", -2, "min value for LastMessages is -1"},
		{"name", "", "Consumer name can not be empty"},
		{"consumers_group", "bad group", "Only alphanumeric and the '_', '-', '.' characters are allowed in Consumer"},
		{"consumer_type", "Robot", "consumer type has to be one of the following application/connector and not Robot"},
		{"station_name", "", "Station name can not be empty"},
		{"req_version", 1, "This station does not exist, a default station can not be created automatically, please upgrade your SDK version"},
	} {
		req := c.consumerReq("c1", "st", "")
		req[tc.field] = tc.value
		c.expectText("$memphis_consumer_creations", req, tc.want)
	}
	req := c.consumerReq("c1", "st", "")
	req["start_consume_from_sequence"], req["last_messages"] = 5, 3
	c.expectText("$memphis_consumer_creations", req,
		"consumer creation options can't contain both startConsumeFromSequence and lastMessages")
}

func TestConsumerDestroyDeletesGroupWithLastActiveMember(t *testing.T) {
	b := startBroker(t)
	c1 := connect(t, b)
	c2 := connect(t, b)
	c1.expectText("$memphis_station_creations", stationReq("grp", 2), "")
	c1.request("$memphis_consumer_creations", c1.consumerReq("m1", "grp", "g"))
	c2.request("$memphis_consumer_creations", c2.consumerReq("m2", "grp", "g"))
	destroy := func(c *client, name string) string {
		return `{"name":"` + name + `","station_name":"grp","username":"root","connection_id":"` + c.connID + `","req_version":1}`
	}
	c1.expectText("$memphis_consumer_destructions", destroy(c1, "m1"), "")
	if _, err := c1.durable("grp$1", "g"); err != nil {
		t.Fatalf("group durable gone while m2 is active: %v", err)
	}
	c1.expectText("$memphis_consumer_destructions", destroy(c1, "m1"), "Consumer m1 at station grp does not exist")
	// The text names both as the request did, like the real broker's.
	c1.expectText("$memphis_consumer_destructions",
		`{"name":"M1","station_name":"GRP","username":"root","connection_id":"`+c1.connID+`","req_version":1}`,
		"Consumer M1 at station GRP does not exist")

	// A member whose connection closed is inactive and does not keep the
	// group alive.
	c3 := connect(t, b)
	c3.request("$memphis_consumer_creations", c3.consumerReq("m3", "grp", "g"))
	c3.nc.Close()
	devbrokertest.WaitFor(t, "server to see c3 closed", func() bool { return !devbroker.Connected(b, c3.connID) })
	c2.expectText("$memphis_consumer_destructions", destroy(c2, "m2"), "")
	for _, s := range []string{"grp$1", "grp$2"} {
		if _, err := c2.durable(s, "g"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Fatalf("durable on %s after last active member left: %v", s, err)
		}
	}
}
