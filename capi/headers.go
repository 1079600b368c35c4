package main

/*
#include "internal.h"
*/
import "C"

import (
	"sync"

	"github.com/libmemphis/libmemphis/sdk"
)

// headersObj is a memphis_headers_t: user headers built by C before a
// produce, copied by the produce call.
type headersObj struct {
	mu sync.Mutex
	h  sdk.Headers
}

// snapshot returns a copy the produce path can keep.
func (o *headersObj) snapshot() sdk.Headers {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.h) == 0 {
		return nil
	}
	out := make(sdk.Headers, len(o.h))
	for k, v := range o.h {
		out[k] = v
	}
	return out
}

func lookupHeaders(h C.uint64_t, em **C.char) (*headersObj, C.int) {
	o, ok := lookup[*headersObj](uint64(h), kindHeaders)
	if !ok {
		return nil, badHandle(em, kindHeaders)
	}
	return o, statusOK
}

//export memphis_go_headers_new
func memphis_go_headers_new(out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	*out = C.uint64_t(newHandle(kindHeaders, &headersObj{h: sdk.Headers{}}))
	return statusOK
}

//export memphis_go_headers_destroy
func memphis_go_headers_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if _, ok := release[*headersObj](uint64(h), kindHeaders); !ok {
		return badHandle(em, kindHeaders)
	}
	return statusOK
}

//export memphis_go_headers_add
func memphis_go_headers_add(h C.uint64_t, key, value *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	k, st := cText(em, key, "key")
	if st != statusOK {
		return st
	}
	v, st := cText(em, value, "value")
	if st != statusOK {
		return st
	}
	o, st := lookupHeaders(h, em)
	if o == nil {
		return st
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.h.Add(k, v); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_headers_count
func memphis_go_headers_count(h C.uint64_t, out *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	o, st := lookupHeaders(h, em)
	if o == nil {
		return st
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	*out = C.size_t(len(o.h))
	return statusOK
}

//export memphis_go_headers_get
func memphis_go_headers_get(h C.uint64_t, key *C.char, value **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	k, st := cText(em, key, "key")
	if st != statusOK {
		return st
	}
	if value == nil {
		return nullArg(em, "value")
	}
	o, st := lookupHeaders(h, em)
	if o == nil {
		return st
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	v, found := o.h[k]
	if !found {
		return fail(em, C.MEMPHIS_ERR_NOT_FOUND, "no header "+k)
	}
	outString(value, v)
	return statusOK
}
