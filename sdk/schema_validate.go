package sdk

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/libmemphis/libmemphis/internal/schemaverse"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// validateMessage is called before every publish; it returns the bytes to
// publish. hdrs must not be retained after it returns (the SDK recycles
// the header map).
func (c *Conn) validateMessage(ctx context.Context, p *Producer, internalStation string, msg []byte, hdrs func() nats.Header) ([]byte, error) {
	cs := c.currentSchema(internalStation)
	if cs == nil {
		return msg, nil
	}
	if cs.err != nil {
		return nil, &Error{Code: CodeSchemaValidation, Msg: schemaverse.ValidationPrefix +
			"the station's schema " + cs.schema.Name + " could not be compiled", Err: cs.err}
	}
	out, err := cs.validator.Validate(msg)
	if err == nil {
		return out, nil
	}
	detail := err.Error()
	var ve *schemaverse.ValidationError
	if errors.As(err, &ve) {
		detail = ve.Detail
	}
	text := schemaverse.ValidationPrefix + detail
	if c.SchemaverseToDLS(internalStation) {
		c.reportSchemaFailure(p, internalStation, msg, hdrs(), text)
	}
	if c.SendNotification() {
		c.notifySchemaFailure(p, internalStation, msg, detail)
	}
	return nil, &Error{Code: CodeSchemaValidation, Msg: text}
}

// The §6.6 report, shared with the broker (internal/wire).
type (
	schemaverseDLSMsg = wire.SchemaverseDLSMsg
	dlsProducer       = wire.DLSProducer
	dlsMessageDetail  = wire.DLSMessageDetail
)

// reportSchemaFailure core-publishes the failed message to the broker's
// schemaverse dead-letter intake. It is fire and forget like in both SDKs:
// the produce call already fails with the validation error.
func (c *Conn) reportSchemaFailure(p *Producer, internalStation string, msg []byte, hdrs nats.Header, text string) {
	h := make(map[string]string, len(hdrs))
	for k, v := range hdrs {
		h[k] = strings.Join(v, " ")
	}
	body, err := json.Marshal(schemaverseDLSMsg{
		StationName:     internalStation,
		Producer:        dlsProducer{Name: p.Name(), ConnectionID: c.connID},
		CreationUnix:    time.Now().Unix(),
		Message:         dlsMessageDetail{Data: hex.EncodeToString(msg), Headers: h, Size: len(msg)},
		ValidationError: text,
	})
	if err == nil {
		_ = c.nc.Publish(wire.SubjSchemaverseDLS, body)
	}
}

// notification is the §6.7 alert, with memphis.py's key spelling.
type notification struct {
	Title string `json:"title"`
	Msg   string `json:"msg"`
	Type  string `json:"type"`
	Code  string `json:"code"`
}

func (c *Conn) notifySchemaFailure(p *Producer, internalStation string, msg []byte, detail string) {
	station := strings.ReplaceAll(internalStation, "#", ".")
	body, err := json.Marshal(notification{
		Title: "Schema validation has failed",
		Msg:   "Station: " + station + "\nProducer: " + p.Name() + "\nError:" + detail,
		Type:  "schema_validation_fail_alert",
		Code:  string(msg),
	})
	if err == nil {
		_ = c.nc.Publish(wire.SubjNotifications, body)
	}
}

// SchemaType returns the type ("json", "avro", "graphql", "protobuf") of
// the schema currently attached to the message's station as this
// connection knows it (kept current by schema update broadcasts), or ""
// when the station has none. Bindings use it to decide how to present
// DataDeserialized's result.
func (m *Message) SchemaType() string {
	if m == nil || m.cons == nil {
		return ""
	}
	cs := m.cons.conn.currentSchema(m.cons.internalStation)
	if cs == nil {
		return ""
	}
	return string(cs.schema.Type)
}

// DataDeserialized returns the message decoded with the station's current
// schema: protobuf -> map keyed by the .proto field names, json/avro -> the
// decoded JSON value (numbers as json.Number), graphql -> the operation
// text. Without a schema it returns the raw bytes.
func (m *Message) DataDeserialized() (any, error) {
	const op = "deserialize"
	if m == nil || m.msg == nil {
		return nil, newErr(CodeInvalidArgument, op, "nil message")
	}
	if m.cons == nil {
		return m.Data(), nil
	}
	cs := m.cons.conn.currentSchema(m.cons.internalStation)
	if cs == nil {
		return m.Data(), nil
	}
	if cs.err != nil {
		return nil, &Error{Code: CodeSchemaValidation, Op: op, Msg: "the station's schema " + cs.schema.Name + " could not be compiled", Err: cs.err}
	}
	v, err := cs.validator.Deserialize(m.Data())
	if err != nil {
		return nil, &Error{Code: CodeSchemaValidation, Msg: err.Error()}
	}
	return v, nil
}
