package main

/*
#include "internal.h"
*/
import "C"

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

// producerObj is a memphis_producer_t.
type producerObj struct {
	p       *sdk.Producer
	id      uint64
	ackWait time.Duration
}

func lookupProducer(h C.uint64_t, em **C.char) (*producerObj, C.int) {
	p, ok := lookup[*producerObj](uint64(h), kindProducer)
	if !ok {
		return nil, badHandle(em, kindProducer)
	}
	return p, statusOK
}

// inOwnCallback reports whether the calling thread is running one of this
// producer's delivery callbacks (which flush/destroy must not wait for).
func (po *producerObj) inOwnCallback() bool {
	return uint64(C.memphis_capi_current_producer()) == po.id
}

//export memphis_go_producer_create
func memphis_go_producer_create(ch, oh C.uint64_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	c, st := lookupConn(ch, em)
	if c == nil {
		return st
	}
	opts, ok := optsCopy[producerOpts](oh, kindProducerOpts)
	if !ok {
		return badHandle(em, kindProducerOpts)
	}
	opts.StationNames = slices.Clone(opts.StationNames)
	p, err := c.CreateProducer(context.Background(), opts)
	if err != nil {
		return failErr(em, err)
	}
	ackWait := opts.AckWait
	if ackWait <= 0 {
		ackWait = sdk.DefaultAckWait
	}
	po := &producerObj{p: p, ackWait: ackWait}
	// The id is only read by callbacks, which cannot run before the first
	// produce, i.e. after this assignment.
	po.id = newHandle(kindProducer, po)
	*out = C.uint64_t(po.id)
	return statusOK
}

// flush waits for every nonblocking produce (bounded by d, <0 = no bound)
// and returns the sdk's failure summary since the previous flush: the one
// record of failed produces. From inside one of this producer's delivery
// callbacks it neither waits (it would wait for that callback) nor takes
// the summary, which stays for the next flush.
func (po *producerObj) flush(d time.Duration) (uint64, C.int, error) {
	if po.inOwnCallback() {
		return 0, statusOK, nil
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if d >= 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	err := po.p.Flush(ctx)
	var fe *sdk.FlushError
	switch {
	case err == nil:
		return 0, statusOK, nil
	case errors.As(err, &fe):
		return uint64(fe.Failed), statusOf(fe.First), err
	}
	return 0, statusOf(err), err // the wait ended first (TIMEOUT)
}

//export memphis_go_producer_flush
func memphis_go_producer_flush(h C.uint64_t, timeoutMs C.int64_t, failed *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	po, st := lookupProducer(h, em)
	if po == nil {
		return st
	}
	d := time.Duration(-1)
	if timeoutMs >= 0 {
		d = time.Duration(timeoutMs) * time.Millisecond
	}
	n, st, err := po.flush(d)
	if failed != nil {
		*failed = C.uint64_t(n)
	}
	if st != statusOK {
		setMsg(em, err.Error())
	}
	return st
}

// destroyTimeout bounds the broker de-registration after the flush.
const destroyTimeout = 30 * time.Second

//export memphis_go_producer_destroy
func memphis_go_producer_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	po, ok := release[*producerObj](uint64(h), kindProducer)
	if !ok {
		return badHandle(em, kindProducer)
	}
	if po.inOwnCallback() {
		// Waiting here would wait for this very callback: finish in the
		// background once the remaining deliveries are in.
		go func() {
			defer func() {
				if r := recover(); r != nil {
					reportPanic(r)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), po.ackWait+destroyTimeout)
			defer cancel()
			_ = po.p.Destroy(ctx)
		}()
		return statusOK
	}
	_, fst, ferr := po.flush(po.ackWait)
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	derr := po.p.Destroy(ctx)
	switch {
	case fst != statusOK:
		setMsg(em, ferr.Error())
		return fst
	case derr != nil && !isClosed(derr):
		return failErr(em, derr)
	}
	return statusOK
}

// isClosed: nothing is left to de-register once the connection is gone, so
// destroying after the connection is not an error.
func isClosed(err error) bool {
	code := sdk.CodeOf(err)
	return code == sdk.CodeClosed || code == sdk.CodeNotConnected
}
