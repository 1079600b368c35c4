package main

// Test files cannot import "C"; they use this package's cgo-generated names
// (_Ctype_*, _Cfunc_*, _Ciconst_*) instead.

import (
	"strings"
	"testing"
	"unsafe"
)

// A panic inside an export must come back as MEMPHIS_ERR_INTERNAL with a
// message, never unwind into C. A message object whose sdk message is
// missing is an impossible state that makes the accessor panic.
func TestPanicBecomesInternalStatus(t *testing.T) {
	id := newHandle(kindMsg, &msgObj{})
	defer release[*msgObj](id, kindMsg)
	var seq _Ctype_uint64_t
	var msg *_Ctype_char
	st := memphis_go_msg_sequence(_Ctype_uint64_t(id), &seq, &msg)
	if st != _Ciconst_MEMPHIS_ERR_INTERNAL {
		t.Fatalf("status %d, want MEMPHIS_ERR_INTERNAL", st)
	}
	text := _Cfunc_GoString(msg)
	if !strings.Contains(text, "internal error") {
		t.Fatalf("message %q", text)
	}
	_Cfunc_free(unsafe.Pointer(msg))
}

// Handles carry their kind: a live handle of another kind is not found.
func TestHandlesAreTypedAndNeverReused(t *testing.T) {
	a := newHandle(kindHeaders, &headersObj{})
	b := newHandle(kindHeaders, &headersObj{})
	if a == b || a == 0 {
		t.Fatalf("ids %x %x", a, b)
	}
	if _, ok := lookup[*headersObj](a, kindConn); ok {
		t.Fatal("headers handle accepted as a connection")
	}
	if _, ok := release[*headersObj](a, kindHeaders); !ok {
		t.Fatal("release failed")
	}
	if _, ok := release[*headersObj](a, kindHeaders); ok {
		t.Fatal("double release succeeded")
	}
	c := newHandle(kindHeaders, &headersObj{})
	if c == a {
		t.Fatal("id reused")
	}
	release[*headersObj](b, kindHeaders)
	release[*headersObj](c, kindHeaders)
}
