package sdk

import (
	"context"
	"errors"
	"strings"

	"github.com/nats-io/nats.go"
)

// Schema types accepted by CreateSchema (§9.2).
const (
	SchemaTypeProtobuf = "protobuf"
	SchemaTypeJSON     = "json"
	SchemaTypeGraphQL  = "graphql"
	SchemaTypeAvro     = "avro"
)

type createSchemaReq struct {
	Name              string `json:"name"`
	Type              string `json:"type"`
	CreatedByUsername string `json:"created_by_username"`
	SchemaContent     string `json:"schema_content"`
	MessageStructName string `json:"message_struct_name"`
}

type attachSchemaReq struct {
	Name        string `json:"name"`
	StationName string `json:"station_name"`
	Username    string `json:"username"`
}

type detachSchemaReq struct {
	StationName string `json:"station_name"`
	Username    string `json:"username"`
}

// CreateSchema registers a schema (§9.1). Creating a schema whose latest
// version has the same content is success.
func (c *Conn) CreateSchema(ctx context.Context, name, schemaType string, content []byte) error {
	const op = "create schema"
	switch schemaType {
	case SchemaTypeProtobuf, SchemaTypeJSON, SchemaTypeGraphQL, SchemaTypeAvro:
	default:
		return newErr(CodeInvalidArgument, op, "unsupported schema type")
	}
	if err := validateName(op, "Schema", name); err != nil {
		return err
	}
	if name != strings.ToLower(name) {
		return newErr(CodeInvalidArgument, op, "Only alphanumeric and the '_', '-', '.' characters are allowed in Schema")
	}
	var resp errorOnly
	err := c.requestJSON(ctx, op, "$memphis_schema_creations", createSchemaReq{
		Name: name, Type: schemaType, CreatedByUsername: c.username, SchemaContent: string(content),
	}, &resp)
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Code == CodeBroker {
		// The broker's content checks are the only broker-side failures
		// left here (§9.1): report them as schema errors.
		e.Code = CodeSchemaValidation
	}
	return err
}

// EnforceSchema attaches schema name to a station (§9.3).
func (c *Conn) EnforceSchema(ctx context.Context, name, stationName string) error {
	const op = "enforce schema"
	if name == "" || stationName == "" {
		return newErr(CodeInvalidArgument, op, "name and station name can not be empty")
	}
	return c.requestEmptyOK(ctx, op, "$memphis_schema_attachments",
		attachSchemaReq{Name: name, StationName: stationName, Username: c.username})
}

// AttachSchema is the deprecated name of EnforceSchema.
//
// Deprecated: use EnforceSchema.
func (c *Conn) AttachSchema(ctx context.Context, name, stationName string) error {
	return c.EnforceSchema(ctx, name, stationName)
}

// DetachSchema removes the schema from a station (§9.4).
func (c *Conn) DetachSchema(ctx context.Context, stationName string) error {
	const op = "detach schema"
	if stationName == "" {
		return newErr(CodeInvalidArgument, op, "station name is missing")
	}
	return c.requestEmptyOK(ctx, op, "$memphis_schema_detachments",
		detachSchemaReq{StationName: stationName, Username: c.username})
}

// schemaUpdate is the §9.6 snapshot carried by producer/consumer creation
// responses (schema_update) and by schema update broadcasts (init).
type schemaUpdate struct {
	SchemaName    string `json:"schema_name"`
	ActiveVersion struct {
		VersionNumber     int    `json:"version_number"`
		Descriptor        string `json:"descriptor"`
		Content           string `json:"schema_content"`
		MessageStructName string `json:"message_struct_name"`
	} `json:"active_version"`
	SchemaType string `json:"type"`
}

// seedSchema is called with the schema_update of every producer and
// consumer creation response for internalStation.
func (c *Conn) seedSchema(internalStation string, u schemaUpdate) {}

// releaseSchema is called when a producer or consumer of internalStation
// is destroyed (one call per seedSchema call).
func (c *Conn) releaseSchema(internalStation string) {}

// validateMessage is called before every publish; it returns the bytes to
// publish. hdrs must not be retained after it returns (the SDK recycles
// the header map).
func (c *Conn) validateMessage(ctx context.Context, p *Producer, internalStation string, msg []byte, hdrs nats.Header) ([]byte, error) {
	return msg, nil
}

// DataDeserialized returns the message decoded with the station's current
// schema; without a schema it returns the raw bytes.
func (m *Message) DataDeserialized() (any, error) {
	return m.Data(), nil
}
