package schemaverse

import (
	"errors"
	"fmt"
	"strings"
)

// Broker error texts for schema files (§9.1). The SDK surfaces them verbatim,
// so they are part of the wire contract.
const (
	errEmptyContent      = "your schema content is invalid"
	errProtoPrefix       = "your Proto file is invalid: "
	errJSONSchemaInvalid = "your json schema is invalid"
	errAvroPrefix        = "your Avro file is invalid: "
	errNoProtoMessage    = "message struct name is required when schema type is Protobuf"
)

// CheckContent validates a schema file the way the broker does on
// `$memphis_schema_creations` and returns the broker's error text on failure.
// Unlike the real broker it also rejects unknown types, because a schema of an
// unknown type could never be enforced by any SDK.
func CheckContent(t Type, content string) error {
	if strings.TrimSpace(content) == "" {
		return errors.New(errEmptyContent)
	}
	switch t {
	case Protobuf:
		if _, err := compileProtoSource("schema.proto", content); err != nil {
			return errors.New(errProtoPrefix + err.Error())
		}
		return nil
	case JSON:
		if _, err := newJSONSchema("schema.json", content); err != nil {
			return errors.New(errJSONSchemaInvalid)
		}
		return nil
	case GraphQL:
		if _, err := loadGraphQLSchema(content); err != nil {
			return err
		}
		return nil
	case Avro:
		if _, err := newAvroCodec(content); err != nil {
			return errors.New(errAvroPrefix + err.Error())
		}
		return nil
	default:
		return fmt.Errorf("schema type has to be one of the following protobuf/json/graphql/avro, got %q", string(t))
	}
}
