package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/libmemphis/libmemphis/sdk"
)

// produceOpts converts the caller's memphis_produce_opts_t (NULL = unset).
func produceOpts(p *C.memphis_produce_opts_t, em **C.char) (sdk.ProduceOptions, C.int) {
	var o sdk.ProduceOptions
	if p == nil {
		return o, statusOK
	}
	// The headers field is a handle id, not memory: read it as an integer
	// so Go never holds it in a pointer-typed variable.
	if hid := *(*uint64)(unsafe.Pointer(&p.headers)); hid != 0 {
		ho, ok := lookup[*headersObj](hid, kindHeaders)
		if !ok {
			return o, badHandle(em, kindHeaders)
		}
		o.Headers = ho.snapshot()
	}
	var st C.int
	if o.MsgID, st = optText(em, p.msg_id, "msg_id"); st != statusOK {
		return o, st
	}
	if o.PartitionKey, st = optText(em, p.partition_key, "partition_key"); st != statusOK {
		return o, st
	}
	o.PartitionNumber = int(p.partition_number)
	o.Awaited = bool(p.awaited)
	return o, setMillis(em, p.ack_wait_ms, "ack_wait_ms", &o.AckWait)
}

// maxPayload is far above any NATS max_payload (64 MB at most); larger
// lengths are rejected at once.
const maxPayload = 1 << 31

// maxBatchBytes bounds the bytes of one batch call.
const maxBatchBytes = 1 << 32

// payload views the caller's buffer without copying it. That is safe
// because the sdk never keeps message data after a produce call returns
// (nats.go copies it into its write buffer while publishing; see
// sdk.Producer.ProduceAsync), and the caller's buffer is valid for the
// whole call — so the caller may still reuse it at once.
func payload(data unsafe.Pointer, n C.size_t, em **C.char) ([]byte, C.int) {
	if data == nil {
		if n != 0 {
			return nil, nullArg(em, "data (with len > 0)")
		}
		return []byte{}, statusOK
	}
	if uint64(n) > maxPayload {
		return nil, fail(em, C.MEMPHIS_ERR_PAYLOAD_TOO_LARGE, fmt.Sprintf("len %d is larger than any broker accepts", uint64(n)))
	}
	return unsafe.Slice((*byte)(data), int(n)), statusOK
}

//export memphis_go_producer_produce
func memphis_go_producer_produce(h C.uint64_t, data unsafe.Pointer, n C.size_t, po *C.memphis_produce_opts_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	p, st := lookupProducer(h, em)
	if p == nil {
		return st
	}
	msg, st := payload(data, n, em)
	if st != statusOK {
		return st
	}
	o, st := produceOpts(po, em)
	if st != statusOK {
		return st
	}
	if err := p.p.Produce(context.Background(), msg, o); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

// canceled is an already cancelled context: with it a full window fails at
// once instead of waiting.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// blockCtx turns block_timeout_ms into the context bounding the wait for
// room in the in-flight window. Inside a delivery callback it never
// waits: the room would be freed by reports queued behind that callback.
func blockCtx(ms C.int64_t) (context.Context, context.CancelFunc) {
	if C.memphis_capi_current_producer() != 0 {
		ms = 0
	}
	switch {
	case ms == 0:
		return canceled, func() {}
	case ms > 0:
		return context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
	}
	return context.Background(), func() {}
}

// asyncErr reports a produce that was not accepted. A timeout caused by the
// block context means the window stayed full: that is QUEUE_FULL.
func asyncErr(ctx context.Context, em **C.char, err error) C.int {
	if ctx.Err() != nil && sdk.CodeOf(err) == sdk.CodeTimeout {
		return fail(em, C.MEMPHIS_ERR_QUEUE_FULL, "in-flight window is full: "+err.Error())
	}
	return failErr(em, err)
}

// done builds the delivery function of one message (nil without a
// callback: the sdk counts a failure for flush either way).
func (po *producerObj) done(cb, ud C.uintptr_t) func(sdk.Delivery) {
	if cb == 0 {
		return nil
	}
	return func(d sdk.Delivery) { po.deliver(cb, ud, d) }
}

// batchDone builds the one delivery function of a whole batch; uds (nil:
// all NULL) is the Go copy of the caller's user_data array.
func (po *producerObj) batchDone(cb C.uintptr_t, uds []uintptr) func(int, sdk.Delivery) {
	if cb == 0 {
		return nil
	}
	return func(i int, d sdk.Delivery) { po.deliver(cb, C.uintptr_t(udAt(uds, i)), d) }
}

// udAt is message i's user data (0 when the caller passed none).
func udAt(uds []uintptr, i int) uintptr {
	if uds == nil {
		return 0
	}
	return uds[i]
}

// deliver hands one delivery report to the caller's callback.
func (po *producerObj) deliver(cb, ud C.uintptr_t, d sdk.Delivery) {
	// Runs on an sdk goroutine: a panic here would kill the process.
	defer func() {
		if r := recover(); r != nil {
			reportPanic(r)
		}
	}()
	st := statusOf(d.Err)
	var text *C.char
	if d.Err != nil {
		text = C.CString(d.Err.Error())
		defer C.free(unsafe.Pointer(text))
	}
	dup := 0
	if d.PossibleDuplicate {
		dup = 1
	}
	C.memphis_capi_call_delivery(cb, st, text, C.uint64_t(d.Sequence), ud, C.uint64_t(po.id), C.int(d.Retries), C.int(dup))
}

//export memphis_go_producer_produce_async
func memphis_go_producer_produce_async(h C.uint64_t, data unsafe.Pointer, n C.size_t, popts *C.memphis_produce_opts_t,
	cb, ud C.uintptr_t, blockMs C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	p, st := lookupProducer(h, em)
	if p == nil {
		return st
	}
	return p.produceAsync(data, n, popts, p.done(cb, ud), blockMs, em)
}

//export memphis_go_producer_produce_async_to_queue
func memphis_go_producer_produce_async_to_queue(h C.uint64_t, data unsafe.Pointer, n C.size_t, popts *C.memphis_produce_opts_t,
	qh C.uint64_t, ud C.uintptr_t, blockMs C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	p, st := lookupProducer(h, em)
	if p == nil {
		return st
	}
	q, st := lookupQueue(qh, em)
	if q == nil {
		return st
	}
	return p.produceAsync(data, n, popts, q.delivery(ud), blockMs, em)
}

// produceAsync sends one nonblocking message reporting to done.
func (p *producerObj) produceAsync(data unsafe.Pointer, n C.size_t, popts *C.memphis_produce_opts_t, done func(sdk.Delivery),
	blockMs C.int64_t, em **C.char) C.int {
	msg, st := payload(data, n, em)
	if st != statusOK {
		return st
	}
	o, st := produceOpts(popts, em)
	if st != statusOK {
		return st
	}
	ctx, cancel := blockCtx(blockMs)
	defer cancel()
	if err := p.p.ProduceAsync(ctx, msg, o, done); err != nil {
		return asyncErr(ctx, em, err)
	}
	return statusOK
}

//export memphis_go_producer_produce_batch
func memphis_go_producer_produce_batch(h C.uint64_t, data *unsafe.Pointer, lens *C.size_t, popts *C.memphis_produce_opts_t,
	count C.size_t, cb C.uintptr_t, uds *C.uintptr_t, blockMs C.int64_t, accepted *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if accepted != nil {
		*accepted = 0
	}
	p, st := lookupProducer(h, em)
	if p == nil {
		return st
	}
	return p.produceBatch(data, lens, popts, count, func(us []uintptr) func(int, sdk.Delivery) { return p.batchDone(cb, us) },
		uds, blockMs, accepted, em)
}

//export memphis_go_producer_produce_batch_to_queue
func memphis_go_producer_produce_batch_to_queue(h C.uint64_t, data *unsafe.Pointer, lens *C.size_t, popts *C.memphis_produce_opts_t,
	count C.size_t, qh C.uint64_t, uds *C.uintptr_t, blockMs C.int64_t, accepted *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if accepted != nil {
		*accepted = 0
	}
	p, st := lookupProducer(h, em)
	if p == nil {
		return st
	}
	q, st := lookupQueue(qh, em)
	if q == nil {
		return st
	}
	return p.produceBatch(data, lens, popts, count, q.batchDelivery, uds, blockMs, accepted, em)
}

// produceBatch sends a batch of nonblocking messages in one
// sdk call with cut-off semantics (the header's *accepted contract). done
// builds the batch's one delivery function from the copied user data.
func (p *producerObj) produceBatch(data *unsafe.Pointer, lens *C.size_t, popts *C.memphis_produce_opts_t, count C.size_t,
	done func([]uintptr) func(int, sdk.Delivery), uds *C.uintptr_t, blockMs C.int64_t, accepted *C.size_t, em **C.char) (st C.int) {
	if count == 0 {
		return statusOK
	}
	if data == nil {
		return nullArg(em, "data")
	}
	if lens == nil {
		return nullArg(em, "lens")
	}
	if uint64(count) > 1<<32 {
		return badArg(em, "count %d is not a plausible batch size", uint64(count))
	}
	ds := unsafe.Slice(data, int(count))
	ls := unsafe.Slice(lens, int(count))
	var optv []C.memphis_produce_opts_t
	if popts != nil {
		optv = unsafe.Slice(popts, int(count))
	}
	total := uint64(0)
	for i := range ds {
		if ds[i] == nil && ls[i] != 0 {
			return nullArg(em, fmt.Sprintf("data[%d] (with len > 0)", i))
		}
		if total += uint64(ls[i]); uint64(ls[i]) > maxPayload || total > maxBatchBytes {
			return fail(em, C.MEMPHIS_ERR_PAYLOAD_TOO_LARGE, "batch holds more bytes than any broker accepts; split it")
		}
	}
	msgs := make([]sdk.BatchMessage, len(ds))
	// Options that do not convert cut the batch off there, as a refusal
	// by the sdk would; the messages before them are still sent.
	optSt := statusOK
	for i := range ds {
		// Used in place, like payload's view.
		msgs[i].Data = []byte{}
		if n := int(ls[i]); n > 0 {
			msgs[i].Data = unsafe.Slice((*byte)(ds[i]), n)
		}
		if optv != nil {
			if msgs[i].Options, optSt = produceOpts(&optv[i], em); optSt != statusOK {
				msgs = msgs[:i]
				break
			}
		}
	}
	// Reports arrive after this call returns, when the caller's array may
	// be gone: they read this copy.
	var us []uintptr
	if uds != nil {
		us = make([]uintptr, len(msgs))
		for i, u := range unsafe.Slice(uds, len(msgs)) {
			us[i] = uintptr(u)
		}
	}
	ctx, cancel := blockCtx(blockMs)
	defer cancel()
	sent, err := p.p.ProduceBatchStopOnError(ctx, msgs, done(us))
	if accepted != nil {
		*accepted = C.size_t(sent)
	}
	if err != nil {
		return asyncErr(ctx, em, err)
	}
	return optSt
}

//export memphis_go_conn_produce
func memphis_go_conn_produce(ch C.uint64_t, station, name *C.char, data unsafe.Pointer, n C.size_t,
	popts *C.memphis_produce_opts_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, st := cText(em, station, "station_name")
	if st != statusOK {
		return st
	}
	pn, st := cText(em, name, "producer_name")
	if st != statusOK {
		return st
	}
	c, st := lookupConn(ch, em)
	if c == nil {
		return st
	}
	msg, st := payload(data, n, em)
	if st != statusOK {
		return st
	}
	o, st := produceOpts(popts, em)
	if st != statusOK {
		return st
	}
	if err := c.Produce(context.Background(), s, pn, msg, o); err != nil {
		return failErr(em, err)
	}
	return statusOK
}
