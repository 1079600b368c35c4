package sdk

import (
	"strconv"
	"strings"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// maxNameLen is the broker's limit on station/producer/consumer names (§3.1).
const maxNameLen = 128

// validateName applies the broker's name rules (§3.1) on the client so a bad
// name fails fast with the broker's own text instead of a round trip. obj is
// "Station", "Producer", "Consumer" or "Schema".
func validateName(op, obj, name string) error {
	name = strings.ToLower(name)
	if name == "" {
		return newErr(CodeInvalidArgument, op, obj+" name can not be empty")
	}
	if len(name) > maxNameLen {
		return newErr(CodeInvalidArgument, op, obj+" should be under 128 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return newErr(CodeInvalidArgument, op, "Only alphanumeric and the '_', '-', '.' characters are allowed in "+obj)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return newErr(CodeInvalidArgument, op, obj+" name can not start or end with non alphanumeric character")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// internalName is the broker's internal form: lower-case, '.' -> '#' (§3.2).
// Stream and durable names cannot contain '.', which is why the broker
// rewrites them; doing it in exactly one place avoids "no responders" on
// case or dot mismatches (design references D#11).
func internalName(name string) string { return wire.InternalName(name) }

// streamName is the JetStream stream of one partition; partition 0 means a
// legacy (pre-partition) station whose stream is the internal name itself.
func streamName(internalStation string, partition int) string {
	if partition == 0 {
		return internalStation
	}
	return internalStation + "$" + strconv.Itoa(partition)
}

// produceSubject is the subject a message for that partition is published on.
func produceSubject(internalStation string, partition int) string {
	return streamName(internalStation, partition) + ".final"
}

// dlsSubject is where the broker resends poison messages to a group (§8.6).
func dlsSubject(internalStation, internalGroup string) string {
	return wire.DLSSubjectPrefix + internalStation + "." + internalGroup
}
