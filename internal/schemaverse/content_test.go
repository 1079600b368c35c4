package schemaverse

import (
	"strings"
	"testing"
)

func TestCheckContentAcceptsValidSchemas(t *testing.T) {
	for typ, content := range map[Type]string{
		Protobuf: testProto, JSON: testJSONSchema, Avro: testAvro, GraphQL: testGraphQL,
	} {
		if err := CheckContent(typ, content); err != nil {
			t.Errorf("CheckContent(%s) = %v, want nil", typ, err)
		}
	}
}

func TestCheckContentBrokerTexts(t *testing.T) {
	cases := []struct {
		typ     Type
		content string
		exact   string // full text, when the broker's text has no detail
		prefix  string // otherwise the broker's prefix
	}{
		{Protobuf, "", errEmptyContent, ""},
		{JSON, "   \n", errEmptyContent, ""},
		{Protobuf, "message {", "", "your Proto file is invalid: "},
		{Protobuf, `syntax = "proto3"; import "nope.proto"; message A { int32 x = 1; }`, "", "your Proto file is invalid: "},
		{JSON, `{"type": 12}`, errJSONSchemaInvalid, ""},
		{JSON, `{not json`, errJSONSchemaInvalid, ""},
		{JSON, `{"$ref": "https://example.com/x.json"}`, errJSONSchemaInvalid, ""},
		{Avro, `{"type": "record"}`, "", "your Avro file is invalid: "},
		{Avro, `nonsense`, "", "your Avro file is invalid: "},
	}
	for _, c := range cases {
		err := CheckContent(c.typ, c.content)
		if err == nil {
			t.Errorf("CheckContent(%s, %q) = nil, want error", c.typ, c.content)
			continue
		}
		if c.exact != "" && err.Error() != c.exact {
			t.Errorf("CheckContent(%s, %q) = %q, want %q", c.typ, c.content, err, c.exact)
		}
		if c.prefix != "" && (!strings.HasPrefix(err.Error(), c.prefix) || len(err.Error()) == len(c.prefix)) {
			t.Errorf("CheckContent(%s, %q) = %q, want prefix %q plus detail", c.typ, c.content, err, c.prefix)
		}
	}
}

func TestCheckContentGraphQLGivesParserText(t *testing.T) {
	err := CheckContent(GraphQL, "type Query { order(: Int }")
	if err == nil || !strings.Contains(err.Error(), "Expected") {
		t.Fatalf("CheckContent(graphql) = %v, want the parser's text", err)
	}
	if err := CheckContent(GraphQL, "type Query { o: Missing }"); err == nil || !strings.Contains(err.Error(), "Missing") {
		t.Fatalf("undefined type: got %v", err)
	}
}

func TestCheckContentUnknownType(t *testing.T) {
	if err := CheckContent("xml", "<a/>"); err == nil || !strings.Contains(err.Error(), "protobuf/json/graphql/avro") {
		t.Fatalf("CheckContent(xml) = %v", err)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]Type{"JSON": JSON, " avro ": Avro, "Protobuf": Protobuf, "graphql": GraphQL} {
		got, err := ParseType(in)
		if err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseType("yaml"); err == nil {
		t.Error("ParseType(yaml) succeeded")
	}
}

func TestCheckContentDeepProtoIsRejectedQuickly(t *testing.T) {
	deep := "syntax = \"proto3\";\n" + strings.Repeat("message A { ", 1_000_000) + strings.Repeat("}", 1_000_000)
	err := CheckContent(Protobuf, deep)
	if err == nil || !strings.HasPrefix(err.Error(), errProtoPrefix) || !strings.Contains(err.Error(), "nesting") {
		t.Fatalf("deep proto: %v", err)
	}
	ok := "syntax = \"proto3\";\n" + strings.Repeat("message A { ", 20) + "int32 x = 1; " + strings.Repeat("}", 20)
	if err := CheckContent(Protobuf, ok); err != nil {
		t.Fatalf("20 nested messages rejected: %v", err)
	}
}
