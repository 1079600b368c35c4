// Package sdk is the Go client for the Memphis.dev message broker
// (wire-compatible with Memphis v1.4.x and memphis-devbroker).
//
// The concepts and option names follow the official memphis.go and
// memphis.py SDKs; defaults are those of the documented Python API.
//
//   - Connect opens a connection (password or connection token, optional
//     mutual TLS). Conn.Close ends every goroutine the package started.
//   - Conn.CreateStation / Station.Destroy manage stations.
//   - Conn.CreateProducer returns a Producer: Produce waits for the
//     broker's acknowledgement, ProduceAsync and ProduceBatch do not and
//     report each outcome through a callback, within a bounded in-flight
//     window; Flush waits for all of them. Conn.Produce is the one-shot
//     form with a cached producer.
//   - Conn.CreateConsumer returns a Consumer: Consume runs a loop that hands
//     batches to a handler and survives broker restarts; Fetch pulls once.
//     Messages are acknowledged one by one (Message.Ack) or together
//     (AckAll); Nack, Delay and DeadLetter control redelivery.
//   - Conn.CreateSchema / EnforceSchema / DetachSchema manage Schemaverse.
//
// Every error is an *Error with a stable Code (CodeOf); sentinel values
// such as ErrNoMessages match with errors.Is. All types are safe for
// concurrent use.
package sdk
