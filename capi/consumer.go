package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/libmemphis/libmemphis/sdk"
)

// consumerObj is a memphis_consumer_t.
type consumerObj struct {
	c         *sdk.Consumer
	conn      *sdk.Conn
	id        uint64
	batchSize int

	// qstop is closed by stop/destroy so that a consume batch waiting for
	// room in a full event queue gives up instead of holding up the stop.
	mu    sync.Mutex
	qstop chan struct{}
}

// cancelQueued releases a consume loop's batch that waits for queue room.
func (co *consumerObj) cancelQueued() {
	co.mu.Lock()
	if co.qstop != nil {
		close(co.qstop)
		co.qstop = nil
	}
	co.mu.Unlock()
}

// cancelQueuedOf releases the queue-waiting batches of every consumer of
// conn: closing a connection stops its consume loops, which must not wait
// for a poller that may never come.
func cancelQueuedOf(conn *sdk.Conn) {
	each(kindConsumer, func(co *consumerObj) {
		if co.conn == conn {
			co.cancelQueued()
		}
	})
}

func lookupConsumer(h C.uint64_t, em **C.char) (*consumerObj, C.int) {
	c, ok := lookup[*consumerObj](uint64(h), kindConsumer)
	if !ok {
		return nil, badHandle(em, kindConsumer)
	}
	return c, statusOK
}

// selector builds the partition choice of consume/fetch calls; the sdk
// checks it against the station's partitions.
func selector(key *C.char, number C.int, em **C.char) (sdk.PartitionSelector, C.int) {
	k, st := optText(em, key, "partition_key")
	return sdk.PartitionSelector{Key: k, Number: int(number)}, st
}

//export memphis_go_consumer_create
func memphis_go_consumer_create(ch, oh C.uint64_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	c, st := lookupConn(ch, em)
	if c == nil {
		return st
	}
	opts, ok := optsCopy[sdk.ConsumerOptions](oh, kindConsumerOpts)
	if !ok {
		return badHandle(em, kindConsumerOpts)
	}
	cons, err := c.CreateConsumer(context.Background(), opts)
	if err != nil {
		return failErr(em, err)
	}
	co := &consumerObj{c: cons, conn: c, batchSize: opts.BatchSize}
	co.id = newHandle(kindConsumer, co)
	*out = C.uint64_t(co.id)
	return statusOK
}

// handler adapts a C consume callback to the sdk's handler. It runs on the
// consume loop's goroutine, one batch at a time.
func (co *consumerObj) handler(cb, ud C.uintptr_t) sdk.ConsumeHandler {
	return func(msgs []*sdk.Message, err error, _ any) {
		defer func() {
			if r := recover(); r != nil {
				reportPanic(r)
			}
		}()
		st := statusOK
		var text *C.char
		if err != nil {
			st = consumeStatus(err)
			text = C.CString(err.Error())
			defer C.free(unsafe.Pointer(text))
		}
		arr := newMsgArray(msgs)
		defer C.free(unsafe.Pointer(arr))
		C.memphis_capi_call_consume(cb, arr, C.size_t(len(msgs)), st, text, ud, C.uint64_t(co.id))
	}
}

// consumeStatus is the status a consume callback or event reports for err.
func consumeStatus(err error) C.int {
	if errors.Is(err, sdk.ErrNoMessages) {
		return C.MEMPHIS_ERR_NO_MESSAGES
	}
	return statusOf(err)
}

//export memphis_go_consumer_consume
func memphis_go_consumer_consume(h C.uint64_t, cb, ud C.uintptr_t, key *C.char, number C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if cb == 0 {
		return nullArg(em, "cb")
	}
	co, st := lookupConsumer(h, em)
	if co == nil {
		return st
	}
	sel, st := selector(key, number, em)
	if st != statusOK {
		return st
	}
	if err := co.c.Consume(co.handler(cb, ud), sel); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_consumer_consume_to_queue
func memphis_go_consumer_consume_to_queue(h, qh C.uint64_t, ud C.uintptr_t, key *C.char, number C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	co, st := lookupConsumer(h, em)
	if co == nil {
		return st
	}
	q, st := lookupQueue(qh, em)
	if q == nil {
		return st
	}
	sel, st := selector(key, number, em)
	if st != statusOK {
		return st
	}
	stop := make(chan struct{})
	handler := func(msgs []*sdk.Message, err error, _ any) {
		defer func() {
			if r := recover(); r != nil {
				reportPanic(r)
			}
		}()
		e := qevent{kind: C.MEMPHIS_EVENT_CONSUME, status: statusOK, ud: uintptr(ud)}
		if err != nil {
			e.status = consumeStatus(err)
			e.text = C.CString(err.Error())
		}
		e.msgs, e.count = newMsgArray(msgs), len(msgs)
		q.push(e, stop)
	}
	co.mu.Lock()
	if err := co.c.Consume(handler, sel); err != nil {
		co.mu.Unlock()
		return failErr(em, err)
	}
	co.qstop = stop
	co.mu.Unlock()
	return statusOK
}

//export memphis_go_consumer_stop
func memphis_go_consumer_stop(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	co, st := lookupConsumer(h, em)
	if co == nil {
		return st
	}
	co.cancelQueued()
	// The sdk calls stopping an idle consumer an error; the C API promises
	// stop is idempotent, which is what finalizers in bindings need.
	if err := co.c.StopConsume(); err != nil && sdk.CodeOf(err) != sdk.CodeInvalidArgument {
		return failErr(em, err)
	}
	return statusOK
}

// fetchTimeout bounds one fetch beyond the consumer's own batch wait.
const fetchTimeout = 10 * time.Minute

//export memphis_go_consumer_fetch
func memphis_go_consumer_fetch(h C.uint64_t, batch C.size_t, key *C.char, number C.int, out **C.uint64_t, count *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "msgs")
	}
	if count == nil {
		return nullArg(em, "count")
	}
	setCPtr(out, nil)
	*count = 0
	co, st := lookupConsumer(h, em)
	if co == nil {
		return st
	}
	sel, st := selector(key, number, em)
	if st != statusOK {
		return st
	}
	n := co.batchSize
	if batch > 0 {
		n = int(min(uint64(batch), math.MaxInt32+1)) // the sdk refuses what is too large
	}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	msgs, err := co.c.Fetch(ctx, n, sel)
	if err != nil {
		return failErr(em, err)
	}
	setCPtr(out, newMsgArray(msgs))
	*count = C.size_t(len(msgs))
	return statusOK
}

//export memphis_go_consumer_destroy
func memphis_go_consumer_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	co, ok := release[*consumerObj](uint64(h), kindConsumer)
	if !ok {
		return badHandle(em, kindConsumer)
	}
	co.cancelQueued()
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	if err := co.c.Destroy(ctx); err != nil && !isClosed(err) {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_fetch_messages
func memphis_go_fetch_messages(ch, oh C.uint64_t, key *C.char, number C.int, out **C.uint64_t, count *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "msgs")
	}
	if count == nil {
		return nullArg(em, "count")
	}
	setCPtr(out, nil)
	*count = 0
	c, st := lookupConn(ch, em)
	if c == nil {
		return st
	}
	opts, ok := optsCopy[sdk.ConsumerOptions](oh, kindConsumerOpts)
	if !ok {
		return badHandle(em, kindConsumerOpts)
	}
	sel, st := selector(key, number, em)
	if st != statusOK {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	msgs, err := c.FetchMessages(ctx, opts, sel)
	if err != nil {
		return failErr(em, err)
	}
	setCPtr(out, newMsgArray(msgs))
	*count = C.size_t(len(msgs))
	return statusOK
}
