package devbroker

import (
	"fmt"
	"strings"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// Objects named in validation errors (protocol doc §3.1).
const (
	objStation  = "Station"
	objProducer = "Producer"
	objConsumer = "Consumer"
)

const maxNameLen = 128

// validateName applies the broker's name rules to an already lower-cased
// name and returns its error text.
func validateName(name, obj string) error {
	if name == "" {
		return fmt.Errorf("%s name can not be empty", obj)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%s should be under %d characters", obj, maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("Only alphanumeric and the '_', '-', '.' characters are allowed in %s", obj)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return fmt.Errorf("%s name can not start or end with non alphanumeric character", obj)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// internalName is the JetStream-safe form of a station or group name:
// lower-case with "." replaced by "#".
func internalName(name string) string { return wire.InternalName(name) }

// externalName accepts either form of a station name and returns the
// external (lower-case, dotted) one.
func externalName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "#", ".")
}

// streamName is the JetStream stream of one station partition.
func streamName(station string, partition int) string {
	return fmt.Sprintf("%s$%d", internalName(station), partition)
}

// finalSubject is the subject producers publish to for a partition.
func finalSubject(station string, partition int) string {
	return streamName(station, partition) + ".final"
}
