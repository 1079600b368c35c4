package devbroker_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
)

// TestBadInputNeverCrashes sends malformed bodies to every control subject
// and checks each gets a clear error in its response style, then that the
// broker still serves requests.
func TestBadInputNeverCrashes(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	bodies := []string{"", "null", "[]", "{", `{"name":{"x":1}}`, "\x00\xff", `{"partitions_number":"3"}`}
	styleA := []string{"$memphis_station_creations", "$memphis_station_destructions",
		"$memphis_producer_destructions", "$memphis_consumer_destructions"}
	for _, subj := range styleA {
		for _, body := range bodies {
			if got := string(c.request(subj, body)); got == "" {
				t.Errorf("%s %q: empty (success) reply", subj, body)
			}
		}
	}
	for _, body := range bodies {
		var resp struct {
			Error *string `json:"error"`
		}
		got := c.request("$memphis_producer_creations", body)
		if err := json.Unmarshal(got, &resp); err != nil || resp.Error == nil || *resp.Error == "" {
			t.Errorf("producer creation %q: reply %q is not a JSON error", body, got)
		}
		if got := string(c.request("$memphis_consumer_creations", body)); got == "" || strings.Contains(got, `"error":""`) {
			t.Errorf("consumer creation %q: reply %q", body, got)
		}
	}
	// Side channels take garbage silently. Advisories come from JetStream
	// only (SDK users may not publish them), so the broker's own user
	// sends the garbage advisory.
	admin, err := devbroker.AdminConn(b)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, side := range []struct {
		nc   *nats.Conn
		subj string
	}{{c.nc, "$memphis_nacked_dls"}, {c.nc, "$memphis_pm_acks"}, {c.nc, "$memphis_schemaverse_dls"},
		{c.nc, "$memphis_notifications"}, {admin, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.x.y"}} {
		for _, body := range append(bodies, `{"id":"abc"}`, `{"station_name":"nope","partition":1,"seq":1}`,
			`{"station_name":"nope","message":{"data":"zz"}}`) {
			if err := side.nc.Publish(side.subj, []byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, nc := range []*nats.Conn{c.nc, admin} {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	c.expectText("$memphis_station_creations", stationReq("still.alive", 1), "")
}

func TestStationDestroyCleansDLSAndTargets(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	req := stationReq("src", 1)
	req["dls_station"] = "target"
	c.expectText("$memphis_station_creations", req, "")
	c.request("$memphis_consumer_creations", c.consumerReq("w", "src", "g"))
	seq := c.publish("src", 1, "x", nil)
	body, _ := json.Marshal(map[string]any{"station_name": "src", "error": "e", "partition": 1, "cg_name": "g", "seq": seq})
	if err := c.nc.Publish("$memphis_nacked_dls", body); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "dls row", func() bool { return len(dlsRows(t, b, "src")) == 1 })
	// Destroying the target leaves the source without a DLS station.
	c.expectText("$memphis_station_destructions", `{"station_name":"target"}`, "")
	seq = c.publish("src", 1, "y", nil)
	body, _ = json.Marshal(map[string]any{"station_name": "src", "error": "e", "partition": 1, "cg_name": "g", "seq": seq})
	if err := c.nc.Publish("$memphis_nacked_dls", body); err != nil {
		t.Fatal(err)
	}
	devbrokertest.WaitFor(t, "second dls row", func() bool { return len(dlsRows(t, b, "src")) == 2 })
	if names := streamNames(t, c); len(names) != 1 || names[0] != "src$1" {
		t.Fatalf("streams %v: the destroyed DLS station came back", names)
	}
	c.expectText("$memphis_station_destructions", `{"station_name":"src"}`, "")
	if rows := dlsRows(t, b, "src"); len(rows) != 0 {
		t.Fatalf("rows left after destroy: %+v", rows)
	}
}
