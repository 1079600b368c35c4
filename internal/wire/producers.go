package wire

// SDKLang is the sdk_lang libmemphis sends in producer and consumer
// creation requests (§5.1, §7.1; the real broker only displays it).
// memphis-devbroker reads it as "this producer sends Nats-Msg-Id along with
// msg-id": producers with any other sdk_lang (every official SDK) get the
// broker's msg-id ingest path so their msg-id is de-duplicated too.
const SDKLang = "libmemphis"

// CreateProducerReq is the $memphis_producer_creations request (§5.1).
type CreateProducerReq struct {
	Name         string `json:"name"`
	StationName  string `json:"station_name"`
	ConnectionID string `json:"connection_id"`
	ProducerType string `json:"producer_type"`
	ReqVersion   int    `json:"req_version"`
	Username     string `json:"username"`
	AppID        string `json:"app_id"`
	SdkLang      string `json:"sdk_lang"`
}

// PartitionsUpdate is the partitions_update object of the producer and
// consumer creation responses (§5.2, §7.2).
type PartitionsUpdate struct {
	PartitionsList []int `json:"partitions_list"`
}

// CreateProducerResp is the style-B response of §5.2. On success the broker
// sets every field (including an empty StationPartitionsFirstFunctions map)
// because memphis.py indexes the keys directly; an error response is the
// zero value with Error set (the map is then null, as on the real broker;
// memphis.py checks the error first). The SDK ignores the functions map.
type CreateProducerResp struct {
	SchemaUpdate                    SchemaUpdate     `json:"schema_update"`
	PartitionsUpdate                PartitionsUpdate `json:"partitions_update"`
	SchemaverseToDls                bool             `json:"schemaverse_to_dls"`
	SendNotification                bool             `json:"send_notification"`
	StationVersion                  int              `json:"station_version"`
	StationPartitionsFirstFunctions map[string]int   `json:"station_partitions_first_functions"`
	Error                           string           `json:"error"`
}

// DestroyProducerReq is the $memphis_producer_destructions request (§5.3).
type DestroyProducerReq struct {
	Name         string `json:"name"`
	StationName  string `json:"station_name"`
	Username     string `json:"username"`
	ConnectionID string `json:"connection_id"`
	ReqVersion   int    `json:"req_version"`
}
