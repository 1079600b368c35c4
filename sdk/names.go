package sdk

import "github.com/libmemphis/libmemphis/internal/wire"

// The broker's naming rules and derived names live in internal/wire, shared
// with memphis-devbroker; these are the sdk's spellings of them.

// validateName checks a name client-side with the broker's rules (§3.1),
// so a bad name fails fast with the broker's own text instead of a round
// trip. obj names the object in the text (wire.ObjStation, ...).
func validateName(op, obj, name string) error {
	if err := wire.ValidateName(name, obj); err != nil {
		return newErr(CodeInvalidArgument, op, err.Error())
	}
	return nil
}

func internalName(name string) string { return wire.InternalName(name) }

func streamName(internalStation string, partition int) string {
	return wire.StreamName(internalStation, partition)
}

func produceSubject(internalStation string, partition int) string {
	return wire.ProduceSubject(internalStation, partition)
}

func dlsSubject(internalStation, internalGroup string) string {
	return wire.DLSSubject(internalStation, internalGroup)
}
