package main

/*
#include <stdlib.h>
#include <string.h>
#include "internal.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/libmemphis/libmemphis/sdk"
)

// msgObj is a memphis_msg_t. Everything C may borrow (payload, header
// strings) lives in C memory, freed on destroy: C never sees Go memory.
type msgObj struct {
	m *sdk.Message

	mu      sync.Mutex
	data    unsafe.Pointer // payload inside blk (never NULL while alive)
	n       int
	blk     *cblock
	hdrKeys []*C.char // sorted; built on first header access
	hdrVals []*C.char
	hdrDone bool
}

// cblock is one malloc'd block holding the payloads of a whole received
// batch: one allocation per batch instead of one per message. It is freed
// when the last of its messages is destroyed.
type cblock struct {
	p    unsafe.Pointer
	refs atomic.Int64
}

func (b *cblock) release() {
	if b.refs.Add(-1) == 0 {
		C.free(b.p)
	}
}

// newMsgArray registers msgs and returns a malloc'd array of their ids
// (NULL for none).
func newMsgArray(msgs []*sdk.Message) *C.uint64_t {
	if len(msgs) == 0 {
		return nil
	}
	total := 0
	for _, m := range msgs {
		total += len(m.Data()) + 1 // +1: a valid pointer even for empty payloads
	}
	blk := &cblock{p: C.malloc(C.size_t(total))}
	blk.refs.Store(int64(len(msgs)))
	mem := unsafe.Slice((*byte)(blk.p), total)
	arr := (*C.uint64_t)(C.malloc(C.size_t(len(msgs)) * 8))
	ids := unsafe.Slice(arr, len(msgs))
	off := 0
	for i, m := range msgs {
		d := m.Data()
		copy(mem[off:], d)
		mo := &msgObj{m: m, data: unsafe.Pointer(&mem[off]), n: len(d), blk: blk}
		off += len(d) + 1
		ids[i] = C.uint64_t(newHandle(kindMsg, mo))
	}
	return arr
}

// free releases the C memory; the object is already out of the table.
func (mo *msgObj) free() {
	mo.mu.Lock()
	defer mo.mu.Unlock()
	if mo.blk != nil {
		mo.blk.release()
		mo.blk = nil
	}
	mo.data = nil
	for i := range mo.hdrKeys {
		C.free(unsafe.Pointer(mo.hdrKeys[i]))
		C.free(unsafe.Pointer(mo.hdrVals[i]))
	}
	mo.hdrKeys, mo.hdrVals = nil, nil
}

// headers builds the C copies of the headers once; mo.mu must be held.
func (mo *msgObj) headers() {
	if mo.hdrDone {
		return
	}
	mo.hdrDone = true
	h := mo.m.Headers()
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		mo.hdrKeys = append(mo.hdrKeys, C.CString(k))
		mo.hdrVals = append(mo.hdrVals, C.CString(h[k]))
	}
}

func lookupMsg(h C.uint64_t, em **C.char) (*msgObj, C.int) {
	m, ok := lookup[*msgObj](uint64(h), kindMsg)
	if !ok {
		return nil, badHandle(em, kindMsg)
	}
	return m, statusOK
}

//export memphis_go_msg_data
func memphis_go_msg_data(h C.uint64_t, data *unsafe.Pointer, n *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if data == nil {
		return nullArg(em, "data")
	}
	if n == nil {
		return nullArg(em, "len")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	setCAddr(data, mo.data)
	*n = C.size_t(mo.n)
	return statusOK
}

//export memphis_go_msg_header_count
func memphis_go_msg_header_count(h C.uint64_t, out *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	mo.mu.Lock()
	defer mo.mu.Unlock()
	if mo.data == nil { // destroyed by another thread meanwhile
		return badHandle(em, kindMsg)
	}
	mo.headers()
	*out = C.size_t(len(mo.hdrKeys))
	return statusOK
}

//export memphis_go_msg_header_at
func memphis_go_msg_header_at(h C.uint64_t, i C.size_t, key, value **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if key == nil {
		return nullArg(em, "key")
	}
	if value == nil {
		return nullArg(em, "value")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	mo.mu.Lock()
	defer mo.mu.Unlock()
	if mo.data == nil { // destroyed by another thread meanwhile
		return badHandle(em, kindMsg)
	}
	mo.headers()
	if uint64(i) >= uint64(len(mo.hdrKeys)) {
		return badArg(em, "header index %d out of range (%d headers)", uint64(i), len(mo.hdrKeys))
	}
	setCPtr(key, mo.hdrKeys[i])
	setCPtr(value, mo.hdrVals[i])
	return statusOK
}

//export memphis_go_msg_header_get
func memphis_go_msg_header_get(h C.uint64_t, key *C.char, value **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	k, st := cText(em, key, "key")
	if st != statusOK {
		return st
	}
	if value == nil {
		return nullArg(em, "value")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	mo.mu.Lock()
	defer mo.mu.Unlock()
	if mo.data == nil { // destroyed by another thread meanwhile
		return badHandle(em, kindMsg)
	}
	mo.headers()
	i := sort.Search(len(mo.hdrKeys), func(i int) bool { return C.GoString(mo.hdrKeys[i]) >= k })
	if i == len(mo.hdrKeys) || C.GoString(mo.hdrKeys[i]) != k {
		return fail(em, C.MEMPHIS_ERR_NOT_FOUND, "no header "+k)
	}
	setCPtr(value, mo.hdrVals[i])
	return statusOK
}

//export memphis_go_msg_sequence
func memphis_go_msg_sequence(h C.uint64_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	*out = C.uint64_t(mo.m.SequenceNumber())
	return statusOK
}

//export memphis_go_msg_time_sent
func memphis_go_msg_time_sent(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "unix_ms")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	*out = 0
	if t := mo.m.TimeSent(); !t.IsZero() {
		*out = C.int64_t(t.UnixMilli())
	}
	return statusOK
}

//export memphis_go_msg_partition
func memphis_go_msg_partition(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	*out = C.int(mo.m.Partition())
	return statusOK
}

//export memphis_go_msg_is_dls
func memphis_go_msg_is_dls(h C.uint64_t, out *C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	*out = C.bool(mo.m.IsDLS())
	return statusOK
}

// ackTimeout bounds waiting for the broker's ack confirmation.
const ackTimeout = 30 * time.Second

//export memphis_go_msg_ack
func memphis_go_msg_ack(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := mo.m.Ack(ctx); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

// memphis_msg_ack_nowait only buffers the ack on the connection, so
// bindings may call it on an event-loop thread.
//
//export memphis_go_msg_ack_nowait
func memphis_go_msg_ack_nowait(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	if err := mo.m.AckNoWait(); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msg_nack
func memphis_go_msg_nack(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	if err := mo.m.Nack(); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msg_delay
func memphis_go_msg_delay(h C.uint64_t, ms C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	var d time.Duration
	if st := setMillis(em, ms, "delay_ms", &d); st != statusOK {
		return st
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	if err := mo.m.Delay(d); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msg_dead_letter
func memphis_go_msg_dead_letter(h C.uint64_t, reason *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	r, st := cText(em, reason, "reason")
	if st != statusOK {
		return st
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	if err := mo.m.DeadLetter(r); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msg_deserialize
func memphis_go_msg_deserialize(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	v, err := mo.m.DataDeserialized()
	if err != nil {
		return failErr(em, err)
	}
	var text []byte
	switch t := v.(type) {
	case []byte:
		text = t
	case string:
		text = []byte(t)
	default:
		if text, err = json.Marshal(v); err != nil {
			return fail(em, C.MEMPHIS_ERR_INTERNAL, "encoding the deserialized message as JSON: "+err.Error())
		}
	}
	setCPtr(out, (*C.char)(C.CBytes(append(text, 0))))
	return statusOK
}

// memphis_msg_schema_type reads local state only, so bindings may call it
// on an event-loop thread.
//
//export memphis_go_msg_schema_type
func memphis_go_msg_schema_type(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "type_out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	setCPtr(out, C.CString(mo.m.SchemaType()))
	return statusOK
}

//export memphis_go_msg_destroy
func memphis_go_msg_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	mo, ok := release[*msgObj](uint64(h), kindMsg)
	if !ok {
		return badHandle(em, kindMsg)
	}
	mo.free()
	return statusOK
}

// lookupMsgArray resolves a C array of message handles for the batch-ack
// calls; an empty array is valid (nothing to do), a bad handle fails it all.
func lookupMsgArray(arr *C.uint64_t, count C.size_t, em **C.char) ([]*sdk.Message, C.int) {
	if count == 0 {
		return nil, statusOK
	}
	if arr == nil {
		return nil, nullArg(em, "msgs")
	}
	ids := unsafe.Slice(arr, int(count))
	msgs := make([]*sdk.Message, len(ids))
	for i, id := range ids {
		mo, st := lookupMsg(id, em)
		if mo == nil {
			return nil, st
		}
		msgs[i] = mo.m
	}
	return msgs, statusOK
}

//export memphis_go_msgs_ack
func memphis_go_msgs_ack(arr *C.uint64_t, count C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	msgs, st := lookupMsgArray(arr, count, em)
	if st != statusOK || len(msgs) == 0 {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := sdk.AckAll(ctx, msgs); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

// memphis_msgs_ack_nowait only buffers the acks, like memphis_msg_ack_nowait.
//
//export memphis_go_msgs_ack_nowait
func memphis_go_msgs_ack_nowait(arr *C.uint64_t, count C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	msgs, st := lookupMsgArray(arr, count, em)
	if st != statusOK || len(msgs) == 0 {
		return st
	}
	if err := sdk.AckAllNoWait(msgs); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msgs_data
func memphis_go_msgs_data(arr *C.uint64_t, count C.size_t, data *unsafe.Pointer, lens *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if count == 0 {
		return statusOK
	}
	if arr == nil {
		return nullArg(em, "msgs")
	}
	if data == nil {
		return nullArg(em, "data")
	}
	if lens == nil {
		return nullArg(em, "lens")
	}
	ids := unsafe.Slice(arr, int(count))
	ds := unsafe.Slice(data, int(count))
	ls := unsafe.Slice(lens, int(count))
	for i, id := range ids {
		mo, st := lookupMsg(id, em)
		if mo == nil {
			return st
		}
		setCAddr(&ds[i], mo.data)
		ls[i] = C.size_t(mo.n)
	}
	return statusOK
}

//export memphis_go_msgs_destroy
func memphis_go_msgs_destroy(arr *C.uint64_t, count C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if arr == nil {
		if count != 0 {
			return nullArg(em, "msgs")
		}
		return statusOK
	}
	// Every entry is released even if one is invalid; the first problem is
	// reported.
	st = statusOK
	for _, id := range unsafe.Slice(arr, int(count)) {
		if id == 0 {
			continue
		}
		mo, ok := release[*msgObj](uint64(id), kindMsg)
		if !ok {
			if st == statusOK {
				st = badHandle(em, kindMsg)
			}
			continue
		}
		mo.free()
	}
	C.free(unsafe.Pointer(arr))
	return st
}
