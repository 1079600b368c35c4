package sdk_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/libmemphis/libmemphis/sdk"
)

// These examples back docs/schemaverse.md. They have no Output comment, so
// `go test` compiles them (keeping the documentation honest about the API)
// without needing a broker.

func ExampleConn_CreateSchema() {
	ctx := context.Background()
	opts := sdk.DefaultConnectOptions()
	opts.Host, opts.Username, opts.Password = "localhost", "root", "memphis"
	conn, err := sdk.Connect(ctx, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	schema := `{
	  "$schema": "https://json-schema.org/draft/2020-12/schema",
	  "type": "object",
	  "properties": {"id": {"type": "string"}, "amount": {"type": "number", "minimum": 0}},
	  "required": ["id", "amount"]
	}`
	if err := conn.CreateSchema(ctx, "orders-json", sdk.SchemaTypeJSON, []byte(schema)); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := conn.CreateStation(ctx, sdk.DefaultStationOptions("orders")); err != nil {
		fmt.Println(err)
		return
	}
	if err := conn.EnforceSchema(ctx, "orders-json", "orders"); err != nil {
		fmt.Println(err)
		return
	}
	p, err := conn.CreateProducer(ctx, sdk.DefaultProducerOptions("orders", "billing"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Produce(ctx, []byte(`{"id":"o-1","amount":12.5}`), sdk.ProduceOptions{}); err != nil {
		fmt.Println(err)
	}
	err = p.Produce(ctx, []byte(`{"id":"o-1","amount":"lots"}`), sdk.ProduceOptions{})
	if sdk.CodeOf(err) == sdk.CodeSchemaValidation {
		// memphis: Schema validation has failed: at '/amount': got string, want number
		fmt.Println(err)
	}
}

func ExampleMessage_DataDeserialized() {
	ctx := context.Background()
	opts := sdk.DefaultConnectOptions()
	opts.Host, opts.Username, opts.Password = "localhost", "root", "memphis"
	conn, err := sdk.Connect(ctx, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	c, err := conn.CreateConsumer(ctx, sdk.DefaultConsumerOptions("orders", "reader"))
	if err != nil {
		fmt.Println(err)
		return
	}
	msgs, err := c.Fetch(ctx, 10, sdk.PartitionSelector{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		v, err := m.DataDeserialized()
		var e *sdk.Error
		if errors.As(err, &e) && e.Code == sdk.CodeSchemaValidation {
			// The message does not fit the station's current schema.
			fmt.Println(err)
		} else {
			fmt.Printf("%v\n", v)
		}
		_ = m.Ack(ctx)
	}
}
