package main

import "unsafe"

// setCPtr stores p, a C pointer or nil, into *slot, which is C memory the
// caller handed in (an out parameter, an array element, a struct field).
//
// The store is deliberately an integer store. A pointer-typed store runs Go's
// write barrier while the GC is marking, and the barrier also reads the
// slot's old contents as a pointer. Callers' out slots are often
// uninitialized, and a C local on a thread stack the Go runtime has used
// (every callback runs on one) can hold the stale address of a freed Go
// object: the GC marks that free slot, and a later sweep aborts with "found
// pointer to free object" or "sweep increased allocation count". cmd/cgo
// documents this ("avoid passing uninitialized C memory to Go code if the Go
// code is going to store pointer values in it"); storing integers makes the
// old contents irrelevant, whatever the caller passes.
func setCPtr[T any](slot **T, p *T) { *(*uintptr)(unsafe.Pointer(slot)) = uintptr(unsafe.Pointer(p)) }

// setCAddr is setCPtr for void * slots.
func setCAddr(slot *unsafe.Pointer, p unsafe.Pointer) { *(*uintptr)(unsafe.Pointer(slot)) = uintptr(p) }
