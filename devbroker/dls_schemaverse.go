package devbroker

import (
	"context"
	"encoding/hex"
	"encoding/json"
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
	b.mu.Lock()
	defer b.mu.Unlock()
	st, found, err := b.getStation(ctx, m.StationName)
	if err != nil || !found {
		return nil
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
		b.logf("devbroker: store schema failure of %s: %v", st.Name, err)
		return nil
	}
	b.forwardToDLSStation(ctx, st, row, "failed_schema")
	return nil
}
