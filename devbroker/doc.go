// Package devbroker is memphis-devbroker: a local, single-node broker that
// speaks the Memphis v1.4.x SDK protocol. It embeds nats-server with
// JetStream and adds the Memphis control plane on top: station, producer,
// consumer and schema requests on the `$memphis_*` subjects, dead-letter
// handling, and Memphis-style authentication.
//
// All metadata lives in JetStream key/value buckets on the same server, so a
// restart on the same data directory keeps stations, consumer positions,
// messages, schemas and dead letters.
//
// The package never imports the SDK; it is tested with plain nats.go
// requests carrying the JSON of the protocol reference.
package devbroker
