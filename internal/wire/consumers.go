package wire

// CreateConsumerResp is the style-C success response of §7.2.
type CreateConsumerResp struct {
	SchemaUpdate     SchemaUpdate     `json:"schema_update"`
	PartitionsUpdate PartitionsUpdate `json:"partitions_update"`
	Error            string           `json:"error"`
}

// DestroyConsumerReq is the $memphis_consumer_destructions request (§7.5).
type DestroyConsumerReq struct {
	Name         string `json:"name"`
	StationName  string `json:"station_name"`
	Username     string `json:"username"`
	ConnectionID string `json:"connection_id"`
	ReqVersion   int    `json:"req_version"`
}
