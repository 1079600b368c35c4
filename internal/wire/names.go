package wire

import (
	"errors"
	"strconv"
	"strings"
)

// Objects named in the broker's name-validation texts (§3.1).
const (
	ObjStation  = "Station"
	ObjProducer = "Producer"
	ObjConsumer = "Consumer"
	ObjSchema   = "Schema"
)

// MaxNameLen is the broker's limit on station, producer, consumer, group
// and schema names (§3.1).
const MaxNameLen = 128

// ValidateName applies the broker's name rules (§3.1) to the lower-cased
// name, in the broker's order, and returns the broker's text. obj is one of
// the Obj constants.
func ValidateName(name, obj string) error {
	name = strings.ToLower(name)
	if name == "" {
		return errors.New(obj + " name can not be empty")
	}
	if len(name) > MaxNameLen {
		return errors.New(obj + " should be under " + strconv.Itoa(MaxNameLen) + " characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isAlnum(c) || c == '_' || c == '-' || c == '.') {
			return errors.New("Only alphanumeric and the '_', '-', '.' characters are allowed in " + obj)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return errors.New(obj + " name can not start or end with non alphanumeric character")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// InternalName is the JetStream-safe form of a station or group name (§3.2):
// lower-case with every "." replaced by "#", because stream and durable names
// cannot contain ".". Both sides derive names only through this function so a
// case or dot mismatch cannot turn into "no responders".
func InternalName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), ".", "#")
}

// ExternalName accepts either form of a station name and returns the
// external one (lower-case, dotted), as the broker does with stream names.
func ExternalName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "#", ".")
}

// StreamName is the JetStream stream of one partition of a station (§3.2):
// "<internal>$<p>"; partition 0 means a legacy (pre-partition) station
// whose stream is the internal name itself.
func StreamName(internalStation string, partition int) string {
	if partition == 0 {
		return internalStation
	}
	return internalStation + "$" + strconv.Itoa(partition)
}

// ProduceSubject is the subject a message for that partition is published
// on, and the durables' filter subject (§3.2, §7.3).
func ProduceSubject(internalStation string, partition int) string {
	return StreamName(internalStation, partition) + ".final"
}

// DLSSubject is where the broker resends poison messages to a group and
// the SDKs queue-subscribe (§8.6); LegacyDLSSubject is the older form the
// broker also publishes for old SDKs.
func DLSSubject(internalStation, internalGroup string) string {
	return DLSSubjectPrefix + internalStation + "." + internalGroup
}

// LegacyDLSSubject: see DLSSubject.
func LegacyDLSSubject(internalStation, internalGroup string) string {
	return DLSSubjectPrefix + internalStation + "_" + internalGroup
}

// SchemaUpdatesSubject is the station's schema broadcast subject (§9.5).
func SchemaUpdatesSubject(internalStation string) string {
	return SubjSchemaUpdatesPre + internalStation
}
