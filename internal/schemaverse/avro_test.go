package schemaverse

import (
	"strings"
	"testing"
)

func TestAvroValidate(t *testing.T) {
	v := compileTest(t, Avro, testAvro)
	for _, ok := range []string{
		`{"id":"o-1","amount":3}`,
		`{"id":"o-1","amount":3,"note":"gift"}`,
		`{"id":"o-1","amount":3,"note":null}`,
	} {
		out, err := v.Validate([]byte(ok))
		if err != nil || string(out) != ok {
			t.Errorf("Validate(%s) = %q, %v", ok, out, err)
		}
	}
	_, err := v.Validate([]byte(`{"id":"o-1","amount":"3"}`))
	wantDetail(t, err, "amount")
	_, err = v.Validate([]byte(`{"id":"o-1"}`))
	wantDetail(t, err, "fields")
	_, err = v.Validate([]byte(`{"id":"o-1","amount":3,"extra":1}`))
	if err == nil {
		t.Error("undeclared field accepted")
	}
	_, err = v.Validate([]byte(`{"id":`))
	wantDetail(t, err, "Bad Avro format - ")
	_, err = v.Validate([]byte(`{"id":"o-1","amount":3} {}`))
	wantDetail(t, err, "Bad Avro format - ")
}

func TestAvroDeserialize(t *testing.T) {
	v := compileTest(t, Avro, testAvro)
	got, err := v.Deserialize([]byte(`{"id":"o-1","amount":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.(map[string]any)["id"] != "o-1" {
		t.Fatalf("Deserialize = %#v", got)
	}
	if _, err := v.Deserialize([]byte(`[]`)); err == nil || !strings.HasPrefix(err.Error(), DeserializationPrefix) {
		t.Fatalf("Deserialize([]) = %v", err)
	}
}
