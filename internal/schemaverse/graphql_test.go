package schemaverse

import (
	"strings"
	"testing"
)

func TestGraphQLValidate(t *testing.T) {
	v := compileTest(t, GraphQL, testGraphQL)
	ok := `query { order(id: "1") { id amount } }`
	out, err := v.Validate([]byte(ok))
	if err != nil || string(out) != ok {
		t.Fatalf("valid operation: %q, %v", out, err)
	}
	_, err = v.Validate([]byte(`query { order(id: "1") { price } }`))
	wantDetail(t, err, "price")
	_, err = v.Validate([]byte(`{"not":"graphql"}`))
	wantDetail(t, err, errNotGraphQL)
	_, err = v.Validate([]byte("query { order(id: \"\xff\") { id } }"))
	wantDetail(t, err, errNotGraphQL)
	_, err = v.Validate([]byte(``))
	wantDetail(t, err, errNotGraphQL)
}

func TestGraphQLDeserialize(t *testing.T) {
	v := compileTest(t, GraphQL, testGraphQL)
	ok := `{ order(id: "1") { id } }`
	got, err := v.Deserialize([]byte(ok))
	if err != nil || got != ok {
		t.Fatalf("Deserialize = %#v, %v", got, err)
	}
	if _, err := v.Deserialize([]byte(`mutation { x }`)); err == nil || !strings.HasPrefix(err.Error(), DeserializationPrefix) {
		t.Fatalf("Deserialize(invalid) = %v", err)
	}
}
