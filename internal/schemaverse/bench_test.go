package schemaverse

import (
	"encoding/json"
	"testing"
)

// Validation cost per type. BenchmarkBaselineJSONValid (encoding/json.Valid
// on the same kind of message) is the baseline to compare against.

func benchValidate(b *testing.B, s Schema, msg []byte) {
	v, err := Compile(s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(msg); err != nil {
			b.Fatal(err)
		}
	}
}

const benchMsg = `{"id":"o-1","amount":42}`

func BenchmarkBaselineJSONValid(b *testing.B) {
	msg := []byte(benchMsg)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if !json.Valid(msg) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkValidateJSONSchema(b *testing.B) {
	benchValidate(b, Schema{Name: "o", Type: JSON, Version: 1, Content: testJSONSchema}, []byte(benchMsg))
}

func BenchmarkValidateAvro(b *testing.B) {
	benchValidate(b, Schema{Name: "o", Type: Avro, Version: 1, Content: testAvro}, []byte(benchMsg))
}

func BenchmarkValidateProtobufBinary(b *testing.B) {
	benchValidate(b, Schema{Name: "o", Type: Protobuf, Version: 1, Content: testProto}, orderBinary())
}

func BenchmarkValidateProtobufFromJSON(b *testing.B) {
	benchValidate(b, Schema{Name: "o", Type: Protobuf, Version: 1, Content: testProto}, []byte(benchMsg))
}

func BenchmarkValidateGraphQL(b *testing.B) {
	benchValidate(b, Schema{Name: "o", Type: GraphQL, Version: 1, Content: testGraphQL}, []byte(`query { order(id: "1") { id amount } }`))
}
