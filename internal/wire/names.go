package wire

import "strings"

// InternalName is the JetStream-safe form of a station or group name (§3.2):
// lower-case with every "." replaced by "#", because stream and durable names
// cannot contain ".". Both sides derive names only through this function so a
// case or dot mismatch cannot turn into "no responders".
func InternalName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), ".", "#")
}
