package schemaverse

// Schema files shared by the unit and fuzz tests.
const (
	testProto = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  int32 amount = 2;
  repeated string tags = 3;
  google.protobuf.Timestamp placed_at = 4;
}

message Other { bool x = 1; }
`
	testJSONSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {"id": {"type": "string"}, "amount": {"type": "number", "minimum": 0}},
  "required": ["id", "amount"]
}`
	testAvro = `{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "int"},
    {"name": "note", "type": ["null", "string"], "default": null}
  ]
}`
	testGraphQL = `type Query {
  order(id: ID!): Order
}
type Order {
  id: ID!
  amount: Int!
}
`
)
