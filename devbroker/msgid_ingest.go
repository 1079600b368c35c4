package devbroker

// msgIDIngestPrefix is where messages of stations that need msg-id
// de-duplication are routed before they reach their stream.
const msgIDIngestPrefix = "$memphis_msgid_ingest"
