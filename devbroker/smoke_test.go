package devbroker_test

import (
	"context"
	"testing"
)

func TestSmokeStationProducerConsumer(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("Orders.EU", 3), "")
	c.expectJSON("$memphis_producer_creations", c.producerReq("billing-producer", "Orders.EU"),
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1,2,3]},
		"schemaverse_to_dls":true,"send_notification":false,"station_version":2,
		"station_partitions_first_functions":{},"error":""}`)
	c.expectJSON("$memphis_consumer_creations", c.consumerReq("worker-1", "Orders.EU", "Billing.V2"),
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1,2,3]},"error":""}`)
	ctx := context.Background()
	for _, s := range []string{"orders#eu$1", "orders#eu$2", "orders#eu$3"} {
		if _, err := c.js.Consumer(ctx, s, "billing#v2"); err != nil {
			t.Fatalf("durable on %s: %v", s, err)
		}
	}
}
