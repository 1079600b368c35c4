package sdk

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
