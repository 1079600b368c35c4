package schemaverse

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

func TestProtobufDescriptorNamingAndStruct(t *testing.T) {
	desc, structName, err := ProtobufDescriptor("orders", 3, testProto)
	if err != nil {
		t.Fatal(err)
	}
	if structName != "Order" {
		t.Errorf("message struct name = %q, want Order (first top-level message)", structName)
	}
	raw, err := base64.StdEncoding.DecodeString(desc)
	if err != nil {
		t.Fatalf("descriptor is not standard base64: %v", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if got := set.File[0].GetName(); got != "orders_3.proto" {
		t.Errorf("first file = %q, want orders_3.proto", got)
	}
	if len(set.File) != 2 || set.File[1].GetName() != "google/protobuf/timestamp.proto" {
		t.Errorf("set should carry the imported timestamp.proto after the schema file, got %d files", len(set.File))
	}
}

func TestProtobufDescriptorErrors(t *testing.T) {
	if _, _, err := ProtobufDescriptor("e", 1, `syntax = "proto3"; enum E { A = 0; }`); err == nil || err.Error() != errNoProtoMessage {
		t.Errorf("no message: %v", err)
	}
	if _, _, err := ProtobufDescriptor("e", 1, `message`); err == nil || !strings.HasPrefix(err.Error(), errProtoPrefix) {
		t.Errorf("syntax error: %v", err)
	}
}

func compileTestProto(t *testing.T) Validator {
	t.Helper()
	desc, structName, err := ProtobufDescriptor("orders", 1, testProto)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Compile(Schema{Name: "orders", Type: Protobuf, Version: 1, Content: testProto, Descriptor: desc, MessageStructName: structName})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func orderBinary() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, "o-1")
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, 42)
	return b
}

func TestProtobufValidateBinary(t *testing.T) {
	v := compileTestProto(t)
	in := orderBinary()
	out, err := v.Validate(in)
	if err != nil {
		t.Fatalf("valid binary rejected: %v", err)
	}
	if string(out) != string(in) {
		t.Error("binary input must be published unchanged")
	}
	_, err = v.Validate([]byte{0x0a, 0xff, 0xff})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Detail != errNotProtobuf {
		t.Errorf("truncated binary: got %v, want %q", err, errNotProtobuf)
	}
	// amount (field 2) sent as a length-delimited field: wrong wire type.
	bad := protowire.AppendTag(nil, 2, protowire.BytesType)
	bad = protowire.AppendString(bad, "x")
	if _, err := v.Validate(bad); err == nil {
		t.Error("wrong wire type for amount accepted")
	}
}

func TestProtobufValidateJSONConvertsToBinary(t *testing.T) {
	v := compileTestProto(t)
	out, err := v.Validate([]byte(`{"id":"o-1","amount":42}`))
	if err != nil {
		t.Fatalf("valid JSON rejected: %v", err)
	}
	if string(out) != string(orderBinary()) {
		t.Errorf("JSON not converted to protobuf binary: %x", out)
	}
	for _, bad := range []string{`{"amount":"lots"}`, `{"unknown_field":1}`, `{"id":5}`} {
		_, err := v.Validate([]byte(bad))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Detail == "" {
			t.Errorf("Validate(%s) = %v, want ValidationError", bad, err)
		}
	}
}

func TestProtobufDeserialize(t *testing.T) {
	v := compileTestProto(t)
	got, err := v.Deserialize(orderBinary())
	if err != nil {
		t.Fatal(err)
	}
	m, ok := got.(map[string]any)
	if !ok || m["id"] != "o-1" || m["amount"] == nil {
		t.Fatalf("Deserialize = %#v", got)
	}
	_, err = v.Deserialize([]byte{0x0a, 0xff})
	if err == nil || !strings.HasPrefix(err.Error(), DeserializationPrefix) {
		t.Fatalf("bad binary: %v", err)
	}
}

func TestProtobufCompileWithoutDescriptorUsesContent(t *testing.T) {
	v, err := Compile(Schema{Name: "orders", Type: Protobuf, Version: 2, Content: testProto})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(orderBinary()); err != nil {
		t.Fatal(err)
	}
}

func TestProtobufCompileFallsBackToFirstFile(t *testing.T) {
	// The real broker names every SDK-created version <name>_1.proto (§16).
	desc, _, err := ProtobufDescriptor("orders", 1, testProto)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Compile(Schema{Name: "orders", Type: Protobuf, Version: 4, Descriptor: desc, MessageStructName: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate([]byte(`{"x":true}`)); err != nil {
		t.Fatalf("struct name Other not used: %v", err)
	}
}

func TestProtobufCompileErrors(t *testing.T) {
	desc, _, _ := ProtobufDescriptor("orders", 1, testProto)
	for name, s := range map[string]Schema{
		"bad base64":     {Name: "o", Type: Protobuf, Version: 1, Descriptor: "%%%"},
		"not a set":      {Name: "o", Type: Protobuf, Version: 1, Descriptor: base64.StdEncoding.EncodeToString([]byte{0xff, 0xff})},
		"unknown struct": {Name: "orders", Type: Protobuf, Version: 1, Descriptor: desc, MessageStructName: "Nope"},
		"empty":          {Name: "o", Type: Protobuf, Version: 1},
		"unknown type":   {Name: "o", Type: "xml", Version: 1},
	} {
		if _, err := Compile(s); err == nil {
			t.Errorf("%s: Compile succeeded", name)
		}
	}
}
