package wire

// DLSConfig is a station's dls_configuration object (§4.1). memphis.py sends
// the key "Schemaverse"; encoding/json matches it case-insensitively.
type DLSConfig struct {
	Poison      bool `json:"poison"`
	Schemaverse bool `json:"schemaverse"`
}

// CreateStationReq is the $memphis_station_creations request (§4.1).
// DlsConfiguration is a pointer so the broker can tell a request that leaves
// it out (defaults apply) from one that turns both flags off; the SDK always
// sets it.
type CreateStationReq struct {
	Name                 string     `json:"name"`
	RetentionType        string     `json:"retention_type"`
	RetentionValue       int64      `json:"retention_value"`
	StorageType          string     `json:"storage_type"`
	Replicas             int        `json:"replicas"`
	IdempotencyWindowMs  int64      `json:"idempotency_window_in_ms"`
	SchemaName           string     `json:"schema_name"`
	DlsConfiguration     *DLSConfig `json:"dls_configuration"`
	Username             string     `json:"username"`
	TieredStorageEnabled bool       `json:"tiered_storage_enabled"`
	PartitionsNumber     int        `json:"partitions_number"`
	DlsStation           string     `json:"dls_station"`
}

// DestroyStationReq is the $memphis_station_destructions request (§4.4).
type DestroyStationReq struct {
	StationName string `json:"station_name"`
	Username    string `json:"username"`
}
