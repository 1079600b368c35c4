package wire

// NackedDLS is a consumer's explicit dead-letter request on
// $memphis_nacked_dls (§8.4).
type NackedDLS struct {
	StationName string `json:"station_name"`
	Error       string `json:"error"`
	Partition   int    `json:"partition"`
	CgName      string `json:"cg_name"`
	Seq         uint64 `json:"seq"`
}

// SchemaverseDLSMsg is a producer's schema-validation failure report on
// $memphis_schemaverse_dls (§6.6). The broker ignores creation_unix and size.
type SchemaverseDLSMsg struct {
	StationName     string           `json:"station_name"`
	Producer        DLSProducer      `json:"producer"`
	CreationUnix    int64            `json:"creation_unix"`
	Message         DLSMessageDetail `json:"message"`
	ValidationError string           `json:"validation_error"`
}

// DLSProducer names the producer of a SchemaverseDLSMsg (§6.6).
type DLSProducer struct {
	Name         string `json:"name"`
	ConnectionID string `json:"connection_id"`
}

// DLSMessageDetail is the failed message of a SchemaverseDLSMsg (§6.6).
type DLSMessageDetail struct {
	Data    string            `json:"data"` // hex of the message bytes
	Headers map[string]string `json:"headers"`
	Size    int               `json:"size"`
}
