package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// logHook is the process-wide log callback (memphis_set_log_callback).
// The sdk logs through capiLogger, whose handler turns records into one
// line of text and hands them to one dispatcher goroutine through a
// bounded buffer: the callback never runs on the goroutine that logged
// (which may be a nats.go callback, the reply dispatcher or a caller
// inside the library), so it may call any library function, and a slow
// callback loses records instead of holding up the library.
type logHook struct {
	// level is the least severe C level delivered; logOff when no callback.
	level atomic.Int32

	mu       sync.Mutex
	cond     *sync.Cond
	cb, ud   uintptr
	started  uint64 // callback calls begun, and returned (under mu)
	finished uint64

	records chan logRecord
	dropped atomic.Uint64 // records lost to a full buffer, not yet reported
	run     sync.Once     // starts the dispatcher with the first callback
}

type logRecord struct {
	level C.int
	text  string
}

const (
	logOff        = -1
	logBufferSize = 1024
)

var hook = newLogHook()

func newLogHook() *logHook {
	h := &logHook{records: make(chan logRecord, logBufferSize)}
	h.cond = sync.NewCond(&h.mu)
	h.level.Store(logOff)
	return h
}

// capiLogger is every C connection's sdk logger.
var capiLogger = slog.New(&logHandler{h: hook})

// cLevel maps an slog level onto memphis_log_level_t.
func cLevel(l slog.Level) C.int {
	switch {
	case l >= slog.LevelError:
		return C.MEMPHIS_LOG_ERROR
	case l >= slog.LevelWarn:
		return C.MEMPHIS_LOG_WARN
	case l >= slog.LevelInfo:
		return C.MEMPHIS_LOG_INFO
	}
	return C.MEMPHIS_LOG_DEBUG
}

func (h *logHook) enabled(level C.int) bool { return int32(level) <= h.level.Load() }

// emit queues a record for the callback, or counts it as dropped.
func (h *logHook) emit(level C.int, text string) {
	if !h.enabled(level) {
		return
	}
	select {
	case h.records <- logRecord{level: level, text: text}:
	default:
		h.dropped.Add(1)
	}
}

// set installs cb (0: none) and waits until calls of the previous one
// have returned, unless called from inside the callback.
func (h *logHook) set(cb, ud uintptr, level C.int) {
	h.mu.Lock()
	h.cb, h.ud = cb, ud
	if cb == 0 {
		h.level.Store(logOff)
	} else {
		h.level.Store(int32(level))
	}
	target := h.started
	if C.memphis_capi_in_log_callback() == 0 {
		for h.finished < target {
			h.cond.Wait()
		}
	}
	h.mu.Unlock()
	if cb != 0 {
		h.run.Do(func() { go h.dispatch() })
	}
}

// dispatch hands records to the callback, one at a time, in order.
func (h *logHook) dispatch() {
	for rec := range h.records {
		h.mu.Lock()
		cb, ud := h.cb, h.ud
		if cb == 0 || !h.enabled(rec.level) {
			h.mu.Unlock()
			continue
		}
		h.started++
		h.mu.Unlock()
		if n := h.dropped.Swap(0); n > 0 && h.enabled(C.MEMPHIS_LOG_WARN) {
			callLog(cb, ud, C.MEMPHIS_LOG_WARN, strconv.FormatUint(n, 10)+
				" log records were dropped: the log callback did not keep up with them")
		}
		callLog(cb, ud, rec.level, rec.text)
		h.mu.Lock()
		h.finished++
		h.cond.Broadcast()
		h.mu.Unlock()
	}
}

func callLog(cb, ud uintptr, level C.int, text string) {
	msg := C.CString(text)
	defer C.free(unsafe.Pointer(msg))
	C.memphis_capi_call_log(C.uintptr_t(cb), level, msg, C.uintptr_t(ud))
}

//export memphis_go_set_log_callback
func memphis_go_set_log_callback(cb, ud C.uintptr_t, level C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	switch level {
	case C.MEMPHIS_LOG_ERROR, C.MEMPHIS_LOG_WARN, C.MEMPHIS_LOG_INFO, C.MEMPHIS_LOG_DEBUG:
	default:
		if cb != 0 {
			return badArg(em, "level must be MEMPHIS_LOG_ERROR, _WARN, _INFO or _DEBUG (got %d)", int(level))
		}
	}
	hook.set(uintptr(cb), uintptr(ud), level)
	return statusOK
}

// logHandler is the slog.Handler of capiLogger: it renders a record as
// "message key=value ..." for the hook.
type logHandler struct {
	h      *logHook
	prefix string // attributes added with WithAttrs, rendered
	group  string // key prefix from WithGroup ("g.")
}

func (l *logHandler) Enabled(_ context.Context, level slog.Level) bool {
	return l.h.enabled(cLevel(level))
}

func (l *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(l.prefix)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, l.group, a)
		return true
	})
	l.h.emit(cLevel(r.Level), b.String())
	return nil
}

func (l *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(l.prefix)
	for _, a := range as {
		appendAttr(&b, l.group, a)
	}
	return &logHandler{h: l.h, prefix: b.String(), group: l.group}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	return &logHandler{h: l.h, prefix: l.prefix, group: l.group + name + "."}
}

// appendAttr writes " key=value", quoting values that would not read back
// as one token.
func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			appendAttr(b, group+a.Key+".", g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " =\"\n\t") {
		v = strconv.Quote(v)
	}
	b.WriteString(v)
}
