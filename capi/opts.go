package main

/*
#include "internal.h"
*/
import "C"

import (
	"math"
	"sync"
	"time"
)

// locked is an options object: a copy of an sdk options struct that C
// threads may set and read concurrently.
type locked[T any] struct {
	mu sync.Mutex
	v  T
}

func optsNew[T any](out *C.uint64_t, em **C.char, k kind, v T) C.int {
	if out == nil {
		return nullArg(em, "out")
	}
	*out = C.uint64_t(newHandle(k, &locked[T]{v: v}))
	return statusOK
}

func optsDestroy[T any](h C.uint64_t, k kind, em **C.char) C.int {
	if _, ok := release[*locked[T]](uint64(h), k); !ok {
		return badHandle(em, k)
	}
	return statusOK
}

// optsSet runs f on the options under their lock; f returns a status.
func optsSet[T any](h C.uint64_t, k kind, em **C.char, f func(*T) C.int) C.int {
	l, ok := lookup[*locked[T]](uint64(h), k)
	if !ok {
		return badHandle(em, k)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return f(&l.v)
}

// optsGet is optsSet for getters: it checks the out pointer first.
func optsGet[T any](h C.uint64_t, k kind, em **C.char, outOK bool, f func(*T)) C.int {
	if !outOK {
		return nullArg(em, "out")
	}
	return optsSet(h, k, em, func(v *T) C.int { f(v); return statusOK })
}

// optsCopy returns a snapshot of the options, which is what the call using
// them keeps: later changes to the object do not affect it.
func optsCopy[T any](h C.uint64_t, k kind) (T, bool) {
	l, ok := lookup[*locked[T]](uint64(h), k)
	if !ok {
		var zero T
		return zero, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v, true
}

// setString is the body of generated text setters (names, credentials,
// host): see cText.
func setString(em **C.char, p *C.char, name string, dst *string) C.int {
	s, st := cText(em, p, name)
	if st == statusOK {
		*dst = s
	}
	return st
}

// setPath is the body of generated file-path setters: a path goes to the
// file system as it is, so any bytes but NUL are fine.
func setPath(em **C.char, p *C.char, name string, dst *string) C.int {
	if p == nil {
		return nullArg(em, name)
	}
	*dst = C.GoString(p)
	return statusOK
}

// setMillis is the body of generated duration setters. Only a value
// time.Duration cannot hold is refused here; the sdk checks the range.
func setMillis(em **C.char, ms C.int64_t, name string, dst *time.Duration) C.int {
	if int64(ms) > math.MaxInt64/int64(time.Millisecond) || int64(ms) < math.MinInt64/int64(time.Millisecond) {
		return badArg(em, "%s is out of range (got %d ms)", name, int64(ms))
	}
	*dst = time.Duration(ms) * time.Millisecond
	return statusOK
}

// goInt converts an int64_t for an int field (the same size on the 64-bit
// targets the library supports; checked anyway).
func goInt(em **C.char, v C.int64_t, name string) (int, C.int) {
	if int64(v) > math.MaxInt || int64(v) < math.MinInt {
		return 0, badArg(em, "%s is out of range (got %d)", name, int64(v))
	}
	return int(v), statusOK
}

func millis(d time.Duration) C.int64_t { return C.int64_t(d / time.Millisecond) }

// outString stores a malloc'd copy of s (freed by memphis_free).
func outString(out **C.char, s string) { setCPtr(out, C.CString(s)) }
