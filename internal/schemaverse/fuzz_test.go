package schemaverse

import (
	"errors"
	"testing"
)

// The fuzz targets prove that no message can panic a validator and that every
// failure is a typed error. `go test` runs only the seed corpus; run e.g.
// `go test -fuzz=FuzzValidateProtobuf -fuzztime=60s ./internal/schemaverse/`
// to explore further.

func fuzzValidator(f *testing.F, v Validator, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, err := v.Validate(msg)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate error %T %v is not a *ValidationError", err, err)
			}
			if out != nil {
				t.Fatal("Validate returned bytes with an error")
			}
		} else if out == nil && len(msg) > 0 {
			// Only the empty protobuf message may legitimately encode to nothing.
			if _, ok := v.(*protobufValidator); !ok {
				t.Fatal("Validate accepted a message but returned no bytes")
			}
		}
		if _, err := v.Deserialize(msg); err != nil {
			var de *DeserializeError
			if !errors.As(err, &de) {
				t.Fatalf("Deserialize error %T %v is not a *DeserializeError", err, err)
			}
		}
	})
}

func FuzzValidateProtobuf(f *testing.F) {
	desc, structName, err := ProtobufDescriptor("orders", 1, testProto)
	if err != nil {
		f.Fatal(err)
	}
	v, err := Compile(Schema{Name: "orders", Type: Protobuf, Version: 1, Descriptor: desc, MessageStructName: structName})
	if err != nil {
		f.Fatal(err)
	}
	fuzzValidator(f, v, string(orderBinary()), `{"id":"x","amount":1,"tags":["a"],"placed_at":"2024-01-01T00:00:00Z"}`,
		"", "\x0a\xff", `{"amount":"x"}`, "{\x00}", "\x22\x02\x08\x01")
}

func FuzzValidateJSON(f *testing.F) {
	v, err := Compile(Schema{Name: "orders", Type: JSON, Version: 1, Content: testJSONSchema})
	if err != nil {
		f.Fatal(err)
	}
	fuzzValidator(f, v, `{"id":"a","amount":1}`, `{"id":1}`, `[`, ``, `null`, `{"amount":1e400,"id":"x"}`)
}

func FuzzValidateAvro(f *testing.F) {
	v, err := Compile(Schema{Name: "orders", Type: Avro, Version: 1, Content: testAvro})
	if err != nil {
		f.Fatal(err)
	}
	fuzzValidator(f, v, `{"id":"a","amount":1}`, `{"id":"a","amount":1,"note":"n"}`, `{"id":"a","amount":99999999999}`,
		`{"id":"a","amount":1.5}`, ``, `"x"`, `{"id":"a","amount":1,"note":{"string":"n"}}`)
}

func FuzzValidateGraphQL(f *testing.F) {
	v, err := Compile(Schema{Name: "orders", Type: GraphQL, Version: 1, Content: testGraphQL})
	if err != nil {
		f.Fatal(err)
	}
	fuzzValidator(f, v, `query { order(id: "1") { id amount } }`, `{ order(id: 1) { id } }`, `query Q($id: ID!) { order(id: $id) { id } }`,
		`fragment F on Order { id } query { order(id: "1") { ...F } }`, ``, `{`, "\xff")
}

// FuzzCheckContent covers the broker side: any schema file, of any type, must
// give an error or nil, never a panic, and a file CheckContent accepts must
// compile on the client side.
func FuzzCheckContent(f *testing.F) {
	for _, s := range []string{testProto, testJSONSchema, testAvro, testGraphQL, "", "{", `{"type":"record","fields":[]}`, "message A { }"} {
		for i := range Types {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, ti uint8, content string) {
		typ := Types[int(ti)%len(Types)]
		if err := CheckContent(typ, content); err != nil {
			return
		}
		s := Schema{Name: "fz", Type: typ, Version: 1, Content: content}
		if typ == Protobuf {
			var err error
			s.Descriptor, s.MessageStructName, err = ProtobufDescriptor("fz", 1, content)
			if err != nil {
				return // e.g. a file with no message: the broker rejects it too
			}
		}
		if _, err := Compile(s); err != nil {
			t.Fatalf("CheckContent accepted a %s schema that Compile rejects: %v\n%s", typ, err, content)
		}
	})
}
