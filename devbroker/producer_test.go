package devbroker_test

import (
	"context"
	"testing"
)

// emptyProducerErr is the real broker's error response: its zero-valued
// response struct, so the functions map is null (on success it is {}).
const emptyProducerErr = `{"schema_update":` + noSchema + `,"partitions_update":{"partitions_list":null},
	"schemaverse_to_dls":false,"send_notification":false,"station_version":0,
	"station_partitions_first_functions":null,"error":"%s"}`

func TestProducerCreateAutoCreatesDefaultStation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	// The exact memphis.go request of §5.1, on a station nobody created.
	c.expectJSON("$memphis_producer_creations",
		`{"name":"billing-producer","station_name":"Auto.Station","connection_id":"`+c.connID+`",
		 "producer_type":"application","req_version":4,"username":"root",
		 "app_id":"9a1e0000","sdk_lang":"go"}`,
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1]},
		 "schemaverse_to_dls":true,"send_notification":false,"station_version":2,
		 "station_partitions_first_functions":{},"error":""}`)
	s, err := c.js.Stream(context.Background(), "auto#station$1")
	if err != nil {
		t.Fatalf("default station stream: %v", err)
	}
	if cfg := s.CachedInfo().Config; cfg.MaxAge.Seconds() != 3600 || cfg.Replicas != 1 {
		t.Fatalf("default station config %+v", cfg)
	}
}

func TestProducerCreateErrors(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	for _, tc := range []struct {
		field string
		value any
		want  string
	}{
		{"name", "", "Producer name can not be empty"},
		{"name", "-p", "Producer name can not start or end with non alphanumeric character"},
		{"station_name", "bad station", "Only alphanumeric and the '_', '-', '.' characters are allowed in Station"},
		{"producer_type", "robot", "producer type has to be one of the following application/connector"},
		{"req_version", 1, "This station does not exist, a default station can not be created automatically, please upgrade your SDK version"},
	} {
		req := c.producerReq("p1", "st")
		req[tc.field] = tc.value
		c.expectJSON("$memphis_producer_creations", req, sprintf(emptyProducerErr, tc.want))
	}
	c.expectText("$memphis_station_creations", stationReq("parts", 2), "")
	req := c.producerReq("old-sdk", "parts")
	req["req_version"] = 1
	c.expectJSON("$memphis_producer_creations", req,
		sprintf(emptyProducerErr, "to produce to this station please upgrade your SDK version"))
}

func TestProducerDestroy(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.request("$memphis_producer_creations", c.producerReq("Billing-Producer", "st"))
	destroy := `{"name":"billing-producer","station_name":"st","username":"root","connection_id":"` + c.connID + `","req_version":1}`
	c.expectText("$memphis_producer_destructions", destroy, "")
	// Destroying again, a producer that never existed, or one on a station
	// that does not exist is a success, as on the real broker 1.4.4 (its
	// delete reports success whether or not a row matched).
	c.expectText("$memphis_producer_destructions", destroy, "")
	c.expectText("$memphis_producer_destructions",
		`{"name":"never","station_name":"st","username":"root","connection_id":"x","req_version":1}`, "")
	c.expectText("$memphis_producer_destructions",
		`{"name":"p","station_name":"no.such.station","username":"root","connection_id":"x","req_version":1}`, "")
	// A station name the broker cannot parse is still an error.
	c.expectText("$memphis_producer_destructions",
		`{"name":"p","station_name":"bad station","username":"root","connection_id":"x","req_version":1}`,
		"Only alphanumeric and the '_', '-', '.' characters are allowed in Station")
	// req_version 0 matches by name and station only.
	c.request("$memphis_producer_creations", c.producerReq("old", "st"))
	c.expectText("$memphis_producer_destructions", `{"name":"old","station_name":"st"}`, "")
}
