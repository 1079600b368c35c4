package sdk

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/libmemphis/libmemphis/internal/schemaverse"
	"github.com/libmemphis/libmemphis/internal/wire"
)

// Schema types accepted by CreateSchema (§9.2).
const (
	SchemaTypeProtobuf = "protobuf"
	SchemaTypeJSON     = "json"
	SchemaTypeGraphQL  = "graphql"
	SchemaTypeAvro     = "avro"
)

// The §9 request bodies shared with the broker (internal/wire).
type (
	createSchemaReq = wire.CreateSchemaReq
	attachSchemaReq = wire.AttachSchemaReq
	detachSchemaReq = wire.DetachSchemaReq
)

// CreateSchema registers a schema (§9.1). Creating a schema whose latest
// version has the same content is success.
func (c *Conn) CreateSchema(ctx context.Context, name, schemaType string, content []byte) error {
	const op = "create schema"
	typ, err := schemaverse.ParseType(schemaType)
	if err != nil {
		return newErr(CodeInvalidArgument, op, err.Error())
	}
	if err := validateName(op, "Schema", name); err != nil {
		return err
	}
	if name != strings.ToLower(name) {
		return newErr(CodeInvalidArgument, op, "Only alphanumeric and the '_', '-', '.' characters are allowed in Schema")
	}
	var resp errorOnly
	err = c.requestJSON(ctx, op, wire.SubjSchemaCreate, createSchemaReq{
		Name: name, Type: string(typ), CreatedByUsername: c.username, SchemaContent: string(content),
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
	return c.awaitSchemaChange(ctx, stationName, false, func() error {
		return c.requestEmptyOK(ctx, op, wire.SubjSchemaAttach,
			attachSchemaReq{Name: name, StationName: stationName, Username: c.username})
	})
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
	return c.awaitSchemaChange(ctx, stationName, true, func() error {
		return c.requestEmptyOK(ctx, op, wire.SubjSchemaDetach,
			detachSchemaReq{StationName: stationName, Username: c.username})
	})
}

// schemaChangeWait bounds how long an enforce/detach waits for its own
// broadcast; a broker that does not broadcast only costs this once.
const schemaChangeWait = 5 * time.Second

// awaitSchemaChange runs an attach/detach request and, when this connection
// has producers or consumers on the station, waits until the schema update
// the broker broadcasts before its reply (§9.5) has been applied. nats.go
// hands the reply and the broadcast to different goroutines, so without
// the wait a Produce right after EnforceSchema could skip validation. A
// detach from a station this connection already sees without a schema has
// nothing to wait for (a broker may not broadcast that no-op).
func (c *Conn) awaitSchemaChange(ctx context.Context, stationName string, detach bool, request func() error) error {
	s := c.stationSchemaOf(internalName(stationName))
	var before uint64
	if s != nil {
		before = s.updates.Load()
	}
	if err := request(); err != nil || s == nil || s.sub == nil {
		return err
	}
	if detach && s.cur.Load() == nil {
		return nil
	}
	deadline := time.Now().Add(schemaChangeWait)
	for s.updates.Load() == before && s.sub.IsValid() && ctx.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return nil
}

// CreateSchemaFromFile is CreateSchema with the schema read from path, the
// form the official SDKs offer (create_schema(name, type, path)).
func (c *Conn) CreateSchemaFromFile(ctx context.Context, name, schemaType, path string) error {
	content, err := os.ReadFile(path)
	if err != nil {
		return &Error{Code: CodeInvalidArgument, Op: "create schema", Msg: "reading schema file", Err: err}
	}
	return c.CreateSchema(ctx, name, schemaType, content)
}
