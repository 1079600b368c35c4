// Package wire holds the JSON bodies of the Memphis control-plane requests
// and responses that both the client (sdk) and the local broker (devbroker)
// speak, so the two sides cannot drift apart. Every JSON tag is the exact key
// of /work/shared/docs/memphis-wire-protocol.md; each type cites its section.
//
// Only what the two sides share lives here. Where they differ on purpose
// (the broker decodes optional fields as pointers to detect absence, or must
// emit keys the SDK ignores) the difference is written down at the type.
// encoding/json matches keys case-insensitively on decode, which is also what
// the broker needs for memphis.py's "Schemaverse".
package wire
