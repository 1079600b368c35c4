package main

// Test files cannot import "C"; they use this package's cgo-generated names
// (_Ctype_*, _Cfunc_*, _Ciconst_*) instead.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// A panic inside an export must come back as MEMPHIS_ERR_INTERNAL with a
// message, never unwind into C. exportShaped has the shape of every export
// (named status result, deferred guard) and hits a genuine runtime panic.
func TestPanicBecomesInternalStatus(t *testing.T) {
	var msg *_Ctype_char
	exportShaped := func(em **_Ctype_char) (st _Ctype_int) {
		defer guard(&st, em)
		var table map[string]int
		//lint:ignore SA5000 a genuine runtime panic is what this test needs
		table["boom"] = 1 // assignment to a nil map panics
		return 0
	}
	st := exportShaped(&msg)
	if st != _Ciconst_MEMPHIS_ERR_INTERNAL {
		t.Fatalf("status %d, want MEMPHIS_ERR_INTERNAL", st)
	}
	text := _Cfunc_GoString(msg)
	if !strings.Contains(text, "internal error") {
		t.Fatalf("message %q", text)
	}
	_Cfunc_free(unsafe.Pointer(msg))
}

// Every export must defer guard as its first statement, or a panic in it
// would abort the host process.
func TestEveryExportDefersGuard(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	exports := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(src), "\n")
		for i, line := range lines {
			if !strings.HasPrefix(line, "//export ") {
				continue
			}
			exports++
			body := i + 1 // the signature may span lines; the body starts after its "{"
			for body < len(lines) && !strings.HasSuffix(lines[body], "{") {
				body++
			}
			if body+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[body+1]), "defer guard(") {
				t.Errorf("%s:%d: %s does not start with defer guard(...)", f, i+1, strings.TrimPrefix(line, "//export "))
			}
		}
	}
	if exports < 50 {
		t.Fatalf("found only %d exports; the scan is broken", exports)
	}
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
