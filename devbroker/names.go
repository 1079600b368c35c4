package devbroker

import "github.com/libmemphis/libmemphis/internal/wire"

// The broker's naming rules and derived names live in internal/wire, shared
// with the sdk. The broker keeps station records under external names, so
// its helpers take those.

// Objects named in validation errors (protocol doc §3.1).
const (
	objStation  = wire.ObjStation
	objProducer = wire.ObjProducer
	objConsumer = wire.ObjConsumer
	objSchema   = wire.ObjSchema
)

func validateName(name, obj string) error { return wire.ValidateName(name, obj) }

func internalName(name string) string { return wire.InternalName(name) }

func externalName(name string) string { return wire.ExternalName(name) }

// streamName is the JetStream stream of one station partition.
func streamName(station string, partition int) string {
	return wire.StreamName(internalName(station), partition)
}

// finalSubject is the subject producers publish to for a partition.
func finalSubject(station string, partition int) string {
	return wire.ProduceSubject(internalName(station), partition)
}
