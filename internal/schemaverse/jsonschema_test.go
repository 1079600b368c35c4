package schemaverse

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func compileTest(t *testing.T, typ Type, content string) Validator {
	t.Helper()
	v, err := Compile(Schema{Name: "orders", Type: typ, Version: 1, Content: content})
	if err != nil {
		t.Fatalf("Compile(%s): %v", typ, err)
	}
	return v
}

func wantDetail(t *testing.T, err error, contains string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want *ValidationError", err)
	}
	if !strings.Contains(ve.Detail, contains) {
		t.Fatalf("detail %q does not contain %q", ve.Detail, contains)
	}
}

func TestJSONSchemaValidate(t *testing.T) {
	v := compileTest(t, JSON, testJSONSchema)
	in := []byte(`{"id":"o-1","amount":12.5}`)
	out, err := v.Validate(in)
	if err != nil || string(out) != string(in) {
		t.Fatalf("valid message: %q, %v", out, err)
	}
	_, err = v.Validate([]byte(`{"id":"o-1","amount":"lots"}`))
	wantDetail(t, err, "at '/amount'")
	_, err = v.Validate([]byte(`{"id":"o-1"}`))
	wantDetail(t, err, "amount")
	_, err = v.Validate([]byte(`{"id":`))
	wantDetail(t, err, "Bad JSON format - ")
	_, err = v.Validate([]byte(`{"id":"a","amount":1} trailing`))
	wantDetail(t, err, "Bad JSON format - ")
}

func TestJSONSchemaDraftFromSchemaKeyword(t *testing.T) {
	// Draft 4 uses boolean exclusiveMaximum; 2020-12 would reject this schema.
	v := compileTest(t, JSON, `{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":5,"exclusiveMaximum":true}`)
	if _, err := v.Validate([]byte(`5`)); err == nil {
		t.Fatal("draft-04 exclusiveMaximum ignored")
	}
	if _, err := v.Validate([]byte(`4`)); err != nil {
		t.Fatal(err)
	}
	// Without $schema the latest draft applies: prefixItems is 2020-12 only.
	v = compileTest(t, JSON, `{"type":"array","prefixItems":[{"type":"string"}]}`)
	if _, err := v.Validate([]byte(`[1]`)); err == nil {
		t.Fatal("prefixItems ignored: default draft is not 2020-12")
	}
}

func TestJSONSchemaDeserialize(t *testing.T) {
	v := compileTest(t, JSON, testJSONSchema)
	got, err := v.Deserialize([]byte(`{"id":"o-1","amount":9007199254740993}`))
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	if m["amount"].(json.Number).String() != "9007199254740993" {
		t.Errorf("large integer lost precision: %v", m["amount"])
	}
	_, err = v.Deserialize([]byte(`{"amount":-1}`))
	var de *DeserializeError
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), DeserializationPrefix) {
		t.Fatalf("Deserialize(invalid) = %v", err)
	}
}

func TestJSONSchemaInternalRefsWorkOffline(t *testing.T) {
	v := compileTest(t, JSON, `{"$id":"https://example.com/order.json","$defs":{"amount":{"type":"number"}},
		"type":"object","properties":{"amount":{"$ref":"#/$defs/amount"}}}`)
	if _, err := v.Validate([]byte(`{"amount":1}`)); err != nil {
		t.Fatal(err)
	}
	_, err := v.Validate([]byte(`{"amount":"x"}`))
	wantDetail(t, err, "at '/amount'")
	if _, err := Compile(Schema{Name: "r", Type: JSON, Content: `{"$ref":"file:///etc/passwd"}`}); err == nil {
		t.Fatal("a schema referencing a local file compiled: schemas must not read files")
	}
}
