package wire

// Schema update kinds broadcast on $memphis_schema_updates_<station> (§9.5).
const (
	SchemaUpdateInit = 1
	SchemaUpdateDrop = 2
)

// CreateSchemaReq is the $memphis_schema_creations request (§9.1).
type CreateSchemaReq struct {
	Name              string `json:"name"`
	Type              string `json:"type"`
	CreatedByUsername string `json:"created_by_username"`
	SchemaContent     string `json:"schema_content"`
	MessageStructName string `json:"message_struct_name"`
}

// AttachSchemaReq is the $memphis_schema_attachments request (§9.3).
type AttachSchemaReq struct {
	Name        string `json:"name"`
	StationName string `json:"station_name"`
	Username    string `json:"username"`
}

// DetachSchemaReq is the $memphis_schema_detachments request (§9.4).
type DetachSchemaReq struct {
	StationName string `json:"station_name"`
	Username    string `json:"username"`
}

// SchemaUpdate is the schema_update / init object of §9.6. Its zero value
// marshals to the "no schema" object the SDKs expect.
type SchemaUpdate struct {
	SchemaName    string              `json:"schema_name"`
	ActiveVersion SchemaVersionUpdate `json:"active_version"`
	Type          string              `json:"type"`
}

// SchemaVersionUpdate is the active_version object inside SchemaUpdate (§9.6).
type SchemaVersionUpdate struct {
	VersionNumber     int    `json:"version_number"`
	Descriptor        string `json:"descriptor"`
	SchemaContent     string `json:"schema_content"`
	MessageStructName string `json:"message_struct_name"`
}

// SchemaUpdateMsg is the $memphis_schema_updates_<station> body (§9.5). The
// key is literally "UpdateType": the real broker's struct has no JSON tag.
type SchemaUpdateMsg struct {
	UpdateType int          `json:"UpdateType"`
	Init       SchemaUpdate `json:"init"`
}
