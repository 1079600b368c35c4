package schemaverse

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/linkedin/goavro/v2"
)

type avroValidator struct {
	codec *goavro.Codec
}

// newAvroCodec parses an Avro schema with the standard-JSON codec: Memphis
// messages are plain JSON whose union values are not wrapped in {"type": v}
// (§9.2), which is what fastavro.validate and hamba/avro accept too.
func newAvroCodec(content string) (*goavro.Codec, error) {
	return goavro.NewCodecForStandardJSONFull(content)
}

func compileAvro(s Schema) (Validator, error) {
	codec, err := newAvroCodec(s.Content)
	if err != nil {
		return nil, fmt.Errorf("parse avro schema: %w", err)
	}
	return &avroValidator{codec: codec}, nil
}

func (v *avroValidator) check(msg []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(msg))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		return nil, invalid("Bad Avro format - %s", err.Error())
	}
	if d.More() {
		return nil, invalid("Bad Avro format - invalid character after top-level value")
	}
	_, rest, err := v.codec.NativeFromTextual(msg)
	if err != nil {
		return nil, invalid("%s", err.Error())
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, invalid("Bad Avro format - invalid character after top-level value")
	}
	return doc, nil
}

// Validate accepts JSON text matching the Avro schema and publishes it as is.
func (v *avroValidator) Validate(msg []byte) ([]byte, error) {
	if _, err := v.check(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// Deserialize returns the decoded JSON value (numbers as json.Number).
func (v *avroValidator) Deserialize(msg []byte) (any, error) {
	doc, err := v.check(msg)
	if err != nil {
		return nil, deserializeErr(err)
	}
	return doc, nil
}
