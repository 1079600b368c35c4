// Package schemaverse holds everything both sides of Memphis Schemaverse must
// agree on: which schema files are valid (broker side, with the broker's error
// texts), protobuf descriptor generation without protoc, and the message
// validators/deserializers the SDK runs before publishing and after consuming.
//
// The package is pure: no network, no file system access, no global state, so
// the broker and every SDK binding get identical answers for identical input.
package schemaverse

import (
	"errors"
	"fmt"
	"strings"
)

// Type is a Schemaverse schema type as sent on the wire.
type Type string

// The four schema types Memphis supports (§9.2 of the wire protocol).
const (
	Protobuf Type = "protobuf"
	JSON     Type = "json"
	GraphQL  Type = "graphql"
	Avro     Type = "avro"
)

// Types lists the supported types in the order the documentation names them.
var Types = []Type{Protobuf, JSON, GraphQL, Avro}

// ParseType normalises a user-supplied type name ("JSON", " avro ") and
// rejects unknown ones with the text memphis.go uses.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	if !t.Valid() {
		return "", fmt.Errorf("unsupported schema type %q: must be one of protobuf, json, graphql, avro", s)
	}
	return t, nil
}

// Valid reports whether t is one of the four supported types.
func (t Type) Valid() bool {
	switch t {
	case Protobuf, JSON, GraphQL, Avro:
		return true
	}
	return false
}

// Schema is the client-side view of a station's active schema version: the
// `schema_update` / `init` object of §9.6 flattened.
type Schema struct {
	Name              string
	Type              Type
	Version           int
	Content           string
	Descriptor        string // base64 FileDescriptorSet, protobuf only
	MessageStructName string // protobuf only
}

// Validator checks and decodes messages for one compiled schema. It is safe for
// concurrent use: producers validate from many goroutines at once.
type Validator interface {
	// Validate checks msg and returns the bytes to publish (protobuf: JSON
	// input is converted to protobuf binary). A failure is a *ValidationError.
	Validate(msg []byte) ([]byte, error)
	// Deserialize decodes msg: protobuf -> JSON-compatible map, json/avro ->
	// decoded JSON value, graphql -> string. A failure is a *DeserializeError.
	Deserialize(msg []byte) (any, error)
}

// ValidationPrefix starts every producer-side validation failure (§9.7); the
// SDK puts it in front of ValidationError.Detail.
const ValidationPrefix = "Schema validation has failed: "

// DeserializationPrefix starts every consumer-side deserialization failure.
const DeserializationPrefix = "Deserialization has been failed since the message format does not align with the currently attached schema: "

// ValidationError is a message that does not fit the schema. Error() returns
// only the detail so the SDK can prefix it exactly once.
type ValidationError struct {
	Detail string
}

func (e *ValidationError) Error() string { return e.Detail }

// DeserializeError is a consumed message that does not fit the schema; its
// text is the documented full sentence.
type DeserializeError struct {
	Detail string
}

func (e *DeserializeError) Error() string { return DeserializationPrefix + e.Detail }

// invalid builds a *ValidationError from a format string.
func invalid(format string, args ...any) error {
	return &ValidationError{Detail: fmt.Sprintf(format, args...)}
}

// deserializeErr converts a validation failure into the consumer-side error.
func deserializeErr(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return &DeserializeError{Detail: ve.Detail}
	}
	return &DeserializeError{Detail: err.Error()}
}

// Compile turns a schema snapshot into a Validator. Errors mean the snapshot
// itself is unusable (bad descriptor, unparsable content), not a bad message.
func Compile(s Schema) (Validator, error) {
	var (
		v   Validator
		err error
	)
	switch s.Type {
	case Protobuf:
		v, err = compileProtobuf(s)
	case JSON:
		v, err = compileJSONSchema(s)
	case GraphQL:
		v, err = compileGraphQL(s)
	case Avro:
		v, err = compileAvro(s)
	default:
		return nil, fmt.Errorf("compile schema %q: unsupported schema type %q", s.Name, s.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("compile %s schema %q version %d: %w", s.Type, s.Name, s.Version, err)
	}
	return v, nil
}
