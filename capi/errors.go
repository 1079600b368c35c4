package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"unicode/utf8"
	"unsafe"

	"github.com/libmemphis/libmemphis/sdk"
)

const statusOK C.int = C.MEMPHIS_OK

// statusOf maps an sdk error onto the C status. The values are the same
// numbers, but the switch keeps the C ABI stable even if sdk.Code changes.
func statusOf(err error) C.int {
	switch sdk.CodeOf(err) {
	case sdk.CodeOK:
		return C.MEMPHIS_OK
	case sdk.CodeInvalidArgument:
		return C.MEMPHIS_ERR_INVALID_ARGUMENT
	case sdk.CodeNotConnected:
		return C.MEMPHIS_ERR_NOT_CONNECTED
	case sdk.CodeTimeout:
		return C.MEMPHIS_ERR_TIMEOUT
	case sdk.CodeNoMessages:
		return C.MEMPHIS_ERR_NO_MESSAGES
	case sdk.CodeNotFound:
		return C.MEMPHIS_ERR_NOT_FOUND
	case sdk.CodeAlreadyExists:
		return C.MEMPHIS_ERR_ALREADY_EXISTS
	case sdk.CodeAuth:
		return C.MEMPHIS_ERR_AUTH
	case sdk.CodeTLS:
		return C.MEMPHIS_ERR_TLS
	case sdk.CodeUnreachable:
		return C.MEMPHIS_ERR_UNREACHABLE
	case sdk.CodeBroker:
		return C.MEMPHIS_ERR_BROKER
	case sdk.CodeSchemaValidation:
		return C.MEMPHIS_ERR_SCHEMA_VALIDATION
	case sdk.CodeHeader:
		return C.MEMPHIS_ERR_HEADER
	case sdk.CodeQueueFull:
		return C.MEMPHIS_ERR_QUEUE_FULL
	case sdk.CodeClosed:
		return C.MEMPHIS_ERR_CLOSED
	case sdk.CodePayloadTooLarge:
		return C.MEMPHIS_ERR_PAYLOAD_TOO_LARGE
	}
	return C.MEMPHIS_ERR_INTERNAL
}

// setMsg hands a detail message to the shim (which frees it) when the
// caller asked for one.
func setMsg(em **C.char, msg string) {
	if em != nil {
		if *em != nil {
			C.free(unsafe.Pointer(*em))
		}
		setCPtr(em, C.CString(msg))
	}
}

// fail returns st with a detail message.
func fail(em **C.char, st C.int, msg string) C.int {
	setMsg(em, msg)
	return st
}

// failErr returns the status of err (non-nil) with its full text, which keeps
// the broker's own words.
func failErr(em **C.char, err error) C.int {
	st := statusOf(err)
	if st == statusOK {
		st = C.MEMPHIS_ERR_INTERNAL
	}
	setMsg(em, err.Error())
	return st
}

func badHandle(em **C.char, k kind) C.int {
	return fail(em, C.MEMPHIS_ERR_INVALID_HANDLE, "invalid "+k.String()+" handle (destroyed, unknown or of another type)")
}

func nullArg(em **C.char, name string) C.int {
	return fail(em, C.MEMPHIS_ERR_INVALID_ARGUMENT, name+" must not be NULL")
}

func badArg(em **C.char, format string, args ...any) C.int {
	return fail(em, C.MEMPHIS_ERR_INVALID_ARGUMENT, fmt.Sprintf(format, args...))
}

// guard is deferred by every export: a Go panic must never unwind into C
// (it would abort the host process), so it becomes MEMPHIS_ERR_INTERNAL.
func guard(st *C.int, em **C.char) {
	if r := recover(); r != nil {
		reportPanic(r)
		*st = C.MEMPHIS_ERR_INTERNAL
		setMsg(em, fmt.Sprintf("internal error in libmemphis: %v", r))
	}
}

// reportPanic logs a recovered panic with its stack (an error record for
// the log callback) so the bug can be reported. The library prints
// nothing itself.
func reportPanic(r any) {
	hook.emit(C.MEMPHIS_LOG_ERROR, fmt.Sprintf("recovered panic (a libmemphis bug; please report it): %v\n%s", r, debug.Stack()))
}

// cText copies a required text argument: a name, id, key, header value or
// credential. NULL is refused, and so is text that is not UTF-8: such
// strings travel in JSON requests and message headers, where other bytes
// would be replaced, i.e. silently altered. (A C string cannot carry a NUL
// byte at all; bindings refuse those before calling, see memphis.h.)
func cText(em **C.char, p *C.char, name string) (string, C.int) {
	if p == nil {
		return "", nullArg(em, name)
	}
	s := C.GoString(p)
	if !utf8.ValidString(s) {
		return "", badArg(em, "%s is not valid UTF-8", name)
	}
	return s, statusOK
}

// optText is cText for optional arguments: NULL means "".
func optText(em **C.char, p *C.char, name string) (string, C.int) {
	if p == nil {
		return "", statusOK
	}
	return cText(em, p, name)
}
