package sdk

import "strings"

// Headers are user message headers. Keys starting with "$memphis" are
// reserved for the SDK and the broker (§6.2).
type Headers map[string]string

// reservedPrefix marks headers owned by Memphis itself.
const reservedPrefix = "$memphis"

// Add sets a header, rejecting reserved keys.
func (h Headers) Add(key, value string) error {
	if err := checkHeaderKey(key); err != nil {
		return err
	}
	h[key] = value
	return nil
}

func checkHeaderKey(key string) error {
	if key == "" {
		return newErr(CodeHeader, "header", "header key can not be empty")
	}
	if strings.HasPrefix(key, reservedPrefix) {
		return newErr(CodeHeader, "header", "Keys in headers should not start with $memphis")
	}
	return nil
}
