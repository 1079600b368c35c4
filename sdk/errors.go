package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// Code classifies an Error. The numeric values are stable: the C API maps
// them 1:1 onto its status codes, so new codes are only ever appended.
type Code int

// Error codes. CodeOK is never carried by an Error; CodeOf(nil) returns it.
const (
	CodeOK Code = iota
	CodeInvalidArgument
	CodeNotConnected
	CodeTimeout
	CodeNoMessages
	CodeNotFound
	CodeAlreadyExists
	CodeAuth
	CodeTLS
	CodeUnreachable
	CodeBroker
	CodeSchemaValidation
	CodeHeader
	CodeQueueFull
	CodeClosed
	CodePayloadTooLarge
	CodeInternal
)

var codeNames = [...]string{
	CodeOK:               "ok",
	CodeInvalidArgument:  "invalid argument",
	CodeNotConnected:     "not connected",
	CodeTimeout:          "timeout",
	CodeNoMessages:       "no messages",
	CodeNotFound:         "not found",
	CodeAlreadyExists:    "already exists",
	CodeAuth:             "authentication failed",
	CodeTLS:              "tls error",
	CodeUnreachable:      "broker unreachable",
	CodeBroker:           "broker error",
	CodeSchemaValidation: "schema validation failed",
	CodeHeader:           "invalid header",
	CodeQueueFull:        "queue full",
	CodeClosed:           "closed",
	CodePayloadTooLarge:  "payload too large",
	CodeInternal:         "internal error",
}

// String returns a short lower-case description of the code.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is the one error type of the package. Msg keeps the broker's text
// verbatim when the failure came from the broker, so it can be matched on
// and shown to users unchanged.
type Error struct {
	Code Code   // stable classification
	Op   string // operation that failed, e.g. "create producer"
	Msg  string // human readable detail (broker text when from the broker)
	Err  error  // underlying cause, if any
}

// Error renders "memphis: <op>: <msg>: <cause>", leaving out empty parts.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("memphis: ")
	parts := 0
	add := func(s string) {
		if s == "" {
			return
		}
		if parts > 0 {
			b.WriteString(": ")
		}
		b.WriteString(s)
		parts++
	}
	add(e.Op)
	add(e.Msg)
	if e.Err != nil {
		add(e.Err.Error())
	}
	if parts == 0 {
		b.WriteString(e.Code.String())
	}
	return b.String()
}

// Unwrap exposes the cause for errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Is makes the package's sentinel values (an Error with only a Code and a
// Msg) match any Error carrying the same code, so errors.Is(err,
// ErrNoMessages) works whatever operation produced err.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Op != "" || t.Err != nil {
		return false
	}
	return t.Code == e.Code
}

// Sentinel errors for errors.Is. Every *Error with the same Code matches.
var (
	// ErrNoMessages is handed to a consume handler when the station had
	// nothing to deliver within the batch wait (Fetch returns an empty
	// slice instead). The Python binding shows it as "Memphis: TimeoutError".
	ErrNoMessages    = &Error{Code: CodeNoMessages, Msg: "no messages"}
	ErrNotConnected  = &Error{Code: CodeNotConnected, Msg: "not connected"}
	ErrTimeout       = &Error{Code: CodeTimeout, Msg: "timeout"}
	ErrClosed        = &Error{Code: CodeClosed, Msg: "closed"}
	ErrQueueFull     = &Error{Code: CodeQueueFull, Msg: "queue full"}
	ErrInvalidArg    = &Error{Code: CodeInvalidArgument, Msg: "invalid argument"}
	ErrNotFound      = &Error{Code: CodeNotFound, Msg: "not found"}
	ErrSchemaInvalid = &Error{Code: CodeSchemaValidation, Msg: "schema validation failed"}
)

// CodeOf returns the Code of err: CodeOK for nil, the Code of the first
// *Error in the chain, otherwise a best-effort classification.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return classify(err)
}

// classify maps errors from nats.go and the standard library onto codes.
func classify(err error) Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return CodeTimeout
	case errors.Is(err, context.Canceled):
		return CodeTimeout
	case errors.Is(err, nats.ErrConnectionClosed):
		return CodeClosed
	case errors.Is(err, nats.ErrNoResponders):
		return CodeNotFound
	case errors.Is(err, nats.ErrMaxPayload):
		return CodePayloadTooLarge
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired):
		return CodeAuth
	case errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrNoServers), errors.Is(err, nats.ErrReconnectBufExceeded):
		return CodeNotConnected
	}
	return CodeInternal
}

// newErr builds an Error.
func newErr(code Code, op, msg string) *Error { return &Error{Code: code, Op: op, Msg: msg} }

// wrapErr wraps a lower-level error, classifying it unless it already is an
// *Error (whose code is kept and whose op is prefixed).
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Op: op, Err: err}
	}
	return &Error{Code: classify(err), Op: op, Err: err}
}

// brokerErr turns a broker error text into an Error, keeping the text.
func brokerErr(op, text string) *Error {
	code := CodeBroker
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(lower, "does not exist"), strings.Contains(lower, "not found"):
		code = CodeNotFound
	case strings.Contains(lower, "already exist"):
		code = CodeAlreadyExists
	case strings.Contains(lower, "not allowed"):
		code = CodeAuth
	case strings.Contains(lower, "can not be empty"), strings.Contains(lower, "should be under"),
		strings.Contains(lower, "only alphanumeric"), strings.Contains(lower, "can not start or end"),
		strings.Contains(lower, "has to be"), strings.Contains(lower, "min value"),
		strings.Contains(lower, "can't contain"), strings.Contains(lower, "can not exceed"),
		strings.Contains(lower, "cannot be greater"), strings.Contains(lower, "can be one of"),
		strings.Contains(lower, "cannot create station with"):
		code = CodeInvalidArgument
	}
	return &Error{Code: code, Op: op, Msg: text}
}
