package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/libmemphis/libmemphis/sdk"
)

// queueObj is a memphis_queue_t: a bounded channel of events that library
// goroutines fill (delivery reports, consume batches) and application
// threads drain with memphis_queue_poll. Bounded, so a slow poller applies
// back-pressure instead of letting memory grow.
type queueObj struct {
	ch     chan qevent
	wake   chan struct{} // capacity 1: a pending wake-up
	closed chan struct{} // closed by close/destroy
	once   sync.Once

	// mu orders pushes against destroy's final drain: pushers hold it shared,
	// destroy exclusively, so no event lands after the drain (and leaks).
	mu      sync.RWMutex
	drained bool

	// The optional wake-up fd (memphis_queue_set_wakeup_fd). armed is set
	// by a poll that finds the queue empty; the push that clears it
	// writes to the fd. wmu orders those writes against disabling, so no
	// byte reaches an fd the caller has taken back.
	armed  atomic.Bool
	hasFD  atomic.Bool
	wmu    sync.Mutex
	wfd    int
	wbytes []byte
}

// qevent is one event with its C memory (text, msgs) owned by the queue
// until a poll hands it to the caller.
type qevent struct {
	kind   C.int
	status C.int
	text   *C.char
	seq    uint64
	ud     uintptr
	msgs   *C.uint64_t
	count  int
	json   *C.char // stats_json
}

const (
	defaultQueueCap = 8192
	maxQueueCap     = 1 << 24
)

func lookupQueue(h C.uint64_t, em **C.char) (*queueObj, C.int) {
	q, ok := lookup[*queueObj](uint64(h), kindQueue)
	if !ok {
		return nil, badHandle(em, kindQueue)
	}
	return q, statusOK
}

// free releases the C memory of an event nobody will receive.
func (e *qevent) free() {
	if e.text != nil {
		C.free(unsafe.Pointer(e.text))
	}
	if e.json != nil {
		C.free(unsafe.Pointer(e.json))
	}
	if e.msgs != nil {
		for _, id := range unsafe.Slice(e.msgs, e.count) {
			if mo, ok := release[*msgObj](uint64(id), kindMsg); ok {
				mo.free()
			}
		}
		C.free(unsafe.Pointer(e.msgs))
	}
}

// push queues e, waiting for room while the queue is full. It gives up (and
// frees e) when the queue is closed or `cancel` (may be nil) is closed.
func (q *queueObj) push(e qevent, cancel <-chan struct{}) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.drained || q.isClosed() {
		e.free()
		return
	}
	select {
	case q.ch <- e:
		q.signal()
	case <-q.closed:
		e.free()
	case <-cancel:
		e.free()
	}
}

// tryPush queues e if there is room now, else frees it: for events a
// newer one soon replaces (periodic statistics), never worth waiting for.
func (q *queueObj) tryPush(e qevent) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.drained || q.isClosed() {
		e.free()
		return
	}
	select {
	case q.ch <- e:
		q.signal()
	default:
		e.free()
	}
}

// signal writes the wake-up bytes if the queue is armed.
func (q *queueObj) signal() {
	if !q.hasFD.Load() || !q.armed.CompareAndSwap(true, false) {
		return
	}
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.wbytes != nil {
		// EAGAIN (full pipe) is fine: unread bytes already signal.
		_, _ = syscall.Write(q.wfd, q.wbytes)
	}
}

// next takes a queued event without waiting. With a wake-up fd, finding
// the queue empty arms it; the second look closes the race with a push
// that happened just before arming (and so did not write).
func (q *queueObj) next() (qevent, bool) {
	select {
	case e := <-q.ch:
		return e, true
	default:
	}
	if !q.hasFD.Load() {
		return qevent{}, false
	}
	q.armed.Store(true)
	select {
	case e := <-q.ch:
		return e, true
	default:
		return qevent{}, false
	}
}

// setWakeup replaces the wake-up fd (fd < 0: none).
func (q *queueObj) setWakeup(fd int, payload []byte) {
	q.wmu.Lock()
	q.wfd, q.wbytes = fd, payload
	q.hasFD.Store(payload != nil)
	q.wmu.Unlock()
	if payload != nil {
		q.armed.Store(true)
		if len(q.ch) > 0 {
			q.signal()
		}
	}
}

func (q *queueObj) isClosed() bool {
	select {
	case <-q.closed:
		return true
	default:
		return false
	}
}

func (q *queueObj) close() { q.once.Do(func() { close(q.closed) }) }

// first waits up to timeout (<0: no limit) for an event. ok is false on
// timeout or wake-up; closed is true once the queue is closed and empty.
func (q *queueObj) first(timeout time.Duration) (e qevent, ok, closed bool) {
	if e, ok = q.next(); ok {
		return e, true, false
	}
	if q.isClosed() {
		return e, false, true
	}
	if timeout == 0 {
		return e, false, false
	}
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case e = <-q.ch:
		return e, true, false
	case <-q.wake:
		return e, false, false
	case <-expire:
		return e, false, false
	case <-q.closed:
		// Events queued before the close are still handed out.
		select {
		case e = <-q.ch:
			return e, true, false
		default:
			return e, false, true
		}
	}
}

//export memphis_go_queue_new
func memphis_go_queue_new(capacity C.size_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	n := int(defaultQueueCap)
	if capacity > 0 {
		if uint64(capacity) > maxQueueCap {
			return badArg(em, "queue capacity must be at most %d (got %d)", maxQueueCap, uint64(capacity))
		}
		n = int(capacity)
	}
	q := &queueObj{ch: make(chan qevent, n), wake: make(chan struct{}, 1), closed: make(chan struct{})}
	*out = C.uint64_t(newHandle(kindQueue, q))
	return statusOK
}

//export memphis_go_queue_poll
func memphis_go_queue_poll(h C.uint64_t, out *C.memphis_event_t, max C.size_t, timeoutMs C.int64_t, count *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if count == nil {
		return nullArg(em, "count")
	}
	*count = 0
	if out == nil {
		return nullArg(em, "events")
	}
	if max == 0 || uint64(max) > 1<<32 {
		return badArg(em, "max must be between 1 and 2^32 (got %d)", uint64(max))
	}
	q, st := lookupQueue(h, em)
	if q == nil {
		return st
	}
	e, ok, closed := q.first(time.Duration(timeoutMs) * time.Millisecond)
	if closed {
		return fail(em, C.MEMPHIS_ERR_CLOSED, "the queue is closed")
	}
	if !ok {
		return statusOK
	}
	evs := unsafe.Slice(out, int(max))
	n := 0
	for {
		fill(&evs[n], e)
		n++
		if n == len(evs) {
			break
		}
		var more bool
		if e, more = q.next(); !more {
			break
		}
	}
	*count = C.size_t(n)
	return statusOK
}

// fill writes e into the caller's struct; its C memory passes to the caller.
func fill(d *C.memphis_event_t, e qevent) {
	d.kind = C.memphis_event_kind_t(e.kind)
	d.status = C.memphis_status_t(e.status)
	setCPtr(&d.error_message, e.text)
	d.sequence = C.uint64_t(e.seq)
	// user_data is the caller's opaque value, never memory Go may follow:
	// write it as an integer.
	*(*uintptr)(unsafe.Pointer(&d.user_data)) = e.ud
	setCAddr((*unsafe.Pointer)(unsafe.Pointer(&d.msgs)), unsafe.Pointer(e.msgs))
	d.count = C.size_t(e.count)
	setCPtr(&d.stats_json, e.json)
}

//export memphis_go_queue_wake
func memphis_go_queue_wake(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	q, st := lookupQueue(h, em)
	if q == nil {
		return st
	}
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return statusOK
}

// maxWakeupBytes covers an eventfd's 8-byte counter.
const maxWakeupBytes = 8

//export memphis_go_queue_set_wakeup_fd
func memphis_go_queue_set_wakeup_fd(h C.uint64_t, fd C.int, payload unsafe.Pointer, size C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	q, st := lookupQueue(h, em)
	if q == nil {
		return st
	}
	if fd < -1 {
		return badArg(em, "fd must be a file descriptor or -1 to disable (got %d)", int(fd))
	}
	if fd == -1 {
		q.setWakeup(-1, nil)
		return statusOK
	}
	if payload == nil {
		return nullArg(em, "payload")
	}
	if size == 0 || size > maxWakeupBytes {
		return badArg(em, "payload size must be 1 to %d bytes (got %d)", maxWakeupBytes, uint64(size))
	}
	q.setWakeup(int(fd), C.GoBytes(payload, C.int(size)))
	return statusOK
}

//export memphis_go_queue_close
func memphis_go_queue_close(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	q, st := lookupQueue(h, em)
	if q == nil {
		return st
	}
	q.close()
	return statusOK
}

//export memphis_go_queue_destroy
func memphis_go_queue_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	q, ok := release[*queueObj](uint64(h), kindQueue)
	if !ok {
		return badHandle(em, kindQueue)
	}
	q.close() // first: pushers waiting for room give up, so mu is free soon
	q.mu.Lock()
	q.drained = true
	q.mu.Unlock()
	q.setWakeup(-1, nil) // the fd is the caller's again
	for {
		select {
		case e := <-q.ch:
			e.free()
			continue
		default:
		}
		break
	}
	return statusOK
}

// delivery builds the delivery function of one message reporting to q.
func (q *queueObj) delivery(ud C.uintptr_t) func(sdk.Delivery) {
	return func(d sdk.Delivery) { q.deliver(uintptr(ud), d) }
}

// batchDelivery is the one delivery function of a whole batch; uds (nil:
// all NULL) holds each message's user data.
func (q *queueObj) batchDelivery(uds []uintptr) func(int, sdk.Delivery) {
	return func(i int, d sdk.Delivery) { q.deliver(udAt(uds, i), d) }
}

// deliver queues the delivery report d of the message with user data ud.
func (q *queueObj) deliver(ud uintptr, d sdk.Delivery) {
	// Runs on an sdk goroutine: a panic here would kill the process.
	defer func() {
		if r := recover(); r != nil {
			reportPanic(r)
		}
	}()
	// count carries the retry details (memphis_event_retries).
	details := min(d.Retries, int(C.MEMPHIS_CAPI_EVENT_RETRIES_MASK))
	if d.PossibleDuplicate {
		details |= int(C.MEMPHIS_CAPI_EVENT_POSSIBLE_DUPLICATE)
	}
	e := qevent{kind: C.MEMPHIS_EVENT_DELIVERY, status: statusOf(d.Err), seq: d.Sequence, ud: ud, count: details}
	if d.Err != nil {
		e.text = C.CString(d.Err.Error())
	}
	q.push(e, nil)
}
