package devbroker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkStationCreate measures a station creation through the control
// plane (validation, KV metadata, one stream). Compare it with
// BenchmarkRawStreamCreate, the bare JetStream work, from the same run.
func BenchmarkStationCreate(b *testing.B) {
	br := startBroker(b)
	c := connect(b, br)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := c.request("$memphis_station_creations", stationReq(fmt.Sprintf("bench-%d", i), 1)); len(got) != 0 {
			b.Fatalf("create: %s", got)
		}
	}
}

func BenchmarkRawStreamCreate(b *testing.B) {
	br := startBroker(b)
	nc, err := devbroker.AdminConn(br) // SDK users may not create streams
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-%d$1", i)
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProducerCreate measures producer registration on an existing
// station (what every SDK producer pays once).
func BenchmarkProducerCreate(b *testing.B) {
	br := startBroker(b)
	c := connect(b, br)
	c.request("$memphis_station_creations", stationReq("bench", 1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.request("$memphis_producer_creations", c.producerReq(fmt.Sprintf("p-%d", i), "bench"))
	}
}
