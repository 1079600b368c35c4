package devbroker

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// schemaverseDLSMsg is a producer's schema-validation failure (§6.6,
// internal/wire); the broker ignores creation_unix and size.
type schemaverseDLSMsg wire.SchemaverseDLSMsg

// handleSchemaverseDLS stores a schema-failure row and forwards it to the
// DLS station.
func (b *Broker) handleSchemaverseDLS(ctx context.Context, data []byte) []byte {
	var m schemaverseDLSMsg
	if err := json.Unmarshal(data, &m); err != nil {
		b.logf("devbroker: bad %s message: %v", subjSchemaverseDLS, err)
		return nil
	}
	payload, err := hex.DecodeString(m.Message.Data)
	if err != nil {
		b.logf("devbroker: %s: message data is not hex: %v", subjSchemaverseDLS, err)
		return nil
	}
	b.logIfFailed("store a schema failure", b.withControl(ctx, func(ctx context.Context) error {
		return b.storeSchemaFailure(ctx, &m, payload)
	}))
	return nil
}

// storeSchemaFailure stores the row and forwards it. Caller holds the
// control lock.
func (b *Broker) storeSchemaFailure(ctx context.Context, m *schemaverseDLSMsg, payload []byte) error {
	st, found, err := b.getStation(ctx, m.StationName)
	if err != nil || !found {
		return err
	}
	h := nats.Header{}
	for k, v := range m.Message.Headers {
		h.Set(k, v)
	}
	row := &dlsRow{
		Station: st.Name, Type: dlsTypeSchema, Producer: m.Producer.Name,
		ConnID: m.Producer.ConnectionID, Error: m.ValidationError, Data: payload, Headers: h,
	}
	if row.ID, err = b.nextDLSID(ctx); err == nil {
		err = b.saveDLSRow(ctx, metaKey("st", st.Name, "s", strconv.FormatUint(row.ID, 10)), row)
	}
	if err != nil {
		return fmt.Errorf("store schema failure of %s: %w", st.Name, err)
	}
	b.forwardToDLSStation(ctx, st, row, "failed_schema")
	return nil
}
