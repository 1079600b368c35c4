package schemaverse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// englishPrinter renders the library's error kinds; it is read-only after init.
var englishPrinter = message.NewPrinter(language.English)

type jsonSchemaValidator struct {
	schema *jsonschema.Schema
}

// noRemoteLoader refuses every $ref outside the schema itself: schemas are
// user input and compiling one must never read files or reach the network.
type noRemoteLoader struct{}

func (noRemoteLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external reference %s is not allowed", url)
}

// newJSONSchema compiles content; the draft comes from $schema, otherwise the
// latest draft (2020-12), matching both official SDKs.
func newJSONSchema(name, content string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("parse schema JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noRemoteLoader{})
	// The resource URL only names the schema inside error messages.
	url := "mem:///" + name
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add schema resource: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return sch, nil
}

func compileJSONSchema(s Schema) (Validator, error) {
	name := s.Name
	if name == "" {
		name = "schema"
	}
	sch, err := newJSONSchema(name+".json", s.Content)
	if err != nil {
		return nil, err
	}
	return &jsonSchemaValidator{schema: sch}, nil
}

func (v *jsonSchemaValidator) check(msg []byte) (any, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		return nil, invalid("Bad JSON format - %s", err.Error())
	}
	if err := v.schema.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, invalid("%s", describeJSONSchemaError(ve))
		}
		return nil, invalid("%s", err.Error())
	}
	return doc, nil
}

// Validate accepts JSON text that satisfies the schema and publishes it as is.
func (v *jsonSchemaValidator) Validate(msg []byte) ([]byte, error) {
	if _, err := v.check(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// Deserialize returns the decoded JSON value; numbers are json.Number so large
// integers survive.
func (v *jsonSchemaValidator) Deserialize(msg []byte) (any, error) {
	doc, err := v.check(msg)
	if err != nil {
		return nil, deserializeErr(err)
	}
	return doc, nil
}

// describeJSONSchemaError flattens the library's error tree into one line of
// leaf failures ("at '/amount': got string, want number"), which is what a
// user needs and what fits in a DLS record.
func describeJSONSchemaError(ve *jsonschema.ValidationError) string {
	var parts []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			parts = append(parts, fmt.Sprintf("at '%s': %s", jsonPointer(e.InstanceLocation), e.ErrorKind.LocalizedString(englishPrinter)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(parts, "; ")
}

func jsonPointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		sb.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return sb.String()
}
