package sdk

import (
	"strconv"
	"strings"
)

// Headers are user message headers. Keys starting with "$memphis" are
// reserved for the SDK and the broker (§6.2).
type Headers map[string]string

// reservedPrefix marks headers owned by Memphis itself.
const reservedPrefix = "$memphis"

// Add sets a header, rejecting what a message header cannot carry (see
// checkHeader).
func (h Headers) Add(key, value string) error {
	if err := checkHeader(key, value); err != nil {
		return err
	}
	h[key] = value
	return nil
}

// checkHeader applies the header rules. Keys are printable ASCII without
// spaces or ':' (the NATS header block is "key: value" lines, so anything
// else corrupts it: the broker then cannot decode the message's headers)
// and must not use the reserved prefix. Values must not contain CR, LF or
// NUL, which would end the line early or inject further headers.
func checkHeader(key, value string) error {
	if key == "" {
		return newErr(CodeHeader, "header", "header key can not be empty")
	}
	if strings.HasPrefix(key, reservedPrefix) {
		return newErr(CodeHeader, "header", "Keys in headers should not start with $memphis")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return newErr(CodeHeader, "header", "header key "+strconv.Quote(key)+
				" is not allowed: keys are printable ASCII without spaces or ':'")
		}
	}
	return checkHeaderValue(key, value)
}

func checkHeaderValue(key, value string) error {
	if strings.ContainsAny(value, "\r\n\x00") {
		return newErr(CodeHeader, "header", "the value of header "+strconv.Quote(key)+
			" contains a line break or NUL, which a message header cannot carry")
	}
	return nil
}

// validate checks the per-message options; users may fill Headers without Add.
func (o *ProduceOptions) validate() error {
	for k, v := range o.Headers {
		if err := checkHeader(k, v); err != nil {
			return err
		}
	}
	if err := checkHeaderValue("msg-id", o.MsgID); err != nil { // sent as a header
		return err
	}
	if o.AckWait < 0 {
		return newErr(CodeInvalidArgument, opProduce, "ack wait must not be negative")
	}
	return nil
}
