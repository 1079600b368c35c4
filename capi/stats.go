package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import (
	"unsafe"

	"github.com/libmemphis/libmemphis/sdk"
)

// Statistics: the sdk renders the document (sdk.ConnStats.JSON); this
// file only hands it to C.

//export memphis_go_conn_stats_json
func memphis_go_conn_stats_json(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "json")
	}
	c, st := lookupConn(h, em)
	if c == nil {
		return st
	}
	s := c.Stats()
	setCPtr(out, cJSON(s.JSON()))
	return statusOK
}

//export memphis_go_producer_stats_json
func memphis_go_producer_stats_json(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "json")
	}
	p, st := lookupProducer(h, em)
	if p == nil {
		return st
	}
	s := p.p.Stats()
	setCPtr(out, cJSON(s.JSON()))
	return statusOK
}

//export memphis_go_consumer_stats_json
func memphis_go_consumer_stats_json(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "json")
	}
	co, st := lookupConsumer(h, em)
	if co == nil {
		return st
	}
	s := co.c.Stats()
	setCPtr(out, cJSON(s.JSON()))
	return statusOK
}

// cJSON copies a document into malloc'd, NUL-terminated C memory.
func cJSON(doc []byte) *C.char {
	p := (*C.char)(C.malloc(C.size_t(len(doc) + 1)))
	buf := unsafe.Slice((*byte)(unsafe.Pointer(p)), len(doc)+1)
	copy(buf, doc)
	buf[len(doc)] = 0
	return p
}

//export memphis_go_conn_opts_set_stats_cb
func memphis_go_conn_opts_set_stats_cb(h C.uint64_t, cb, ud C.uintptr_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kindConnOpts, em, func(o *sdk.ConnectOptions) C.int {
		o.StatsHandler = nil
		if cb != 0 {
			o.StatsHandler = func(s sdk.ConnStats) { statsToCallback(cb, ud, s) }
		}
		return statusOK
	})
}

//export memphis_go_conn_opts_set_stats_queue
func memphis_go_conn_opts_set_stats_queue(h, qh C.uint64_t, ud C.uintptr_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if qh != 0 {
		if q, st := lookupQueue(qh, em); q == nil {
			return st
		}
	}
	return optsSet(h, kindConnOpts, em, func(o *sdk.ConnectOptions) C.int {
		o.StatsHandler = nil
		if qh != 0 {
			// The queue is looked up at every snapshot: one destroyed
			// meanwhile drops them.
			o.StatsHandler = func(s sdk.ConnStats) { statsToQueue(qh, ud, s) }
		}
		return statusOK
	})
}

func statsToCallback(cb, ud C.uintptr_t, s sdk.ConnStats) {
	// Runs on an sdk goroutine: a panic here would kill the process.
	defer func() {
		if r := recover(); r != nil {
			reportPanic(r)
		}
	}()
	doc := s.JSON()
	text := cJSON(doc)
	defer C.free(unsafe.Pointer(text))
	C.memphis_capi_call_stats(cb, text, C.size_t(len(doc)), ud)
}

func statsToQueue(qh C.uint64_t, ud C.uintptr_t, s sdk.ConnStats) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic(r)
		}
	}()
	q, ok := lookup[*queueObj](uint64(qh), kindQueue)
	if !ok {
		return
	}
	q.tryPush(qevent{kind: C.MEMPHIS_EVENT_STATS, status: statusOK, ud: uintptr(ud), json: cJSON(s.JSON())})
}
