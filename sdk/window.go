package sdk

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// window bounds a producer's unacknowledged nonblocking produces by count
// and by bytes, and keeps the failure summary Flush reports. A produce
// takes room for its message before it is sent and gives it back when its
// delivery result is final, so neither the client's retained copies nor
// the broker's ingest queue grow without bound.
type window struct {
	mu       sync.Mutex
	maxCount int
	maxBytes int64
	count    int
	bytes    int64
	// A producer blocked on a full window sleeps until it has drained to
	// these marks: one wake-up per batch of acknowledgements instead of
	// one per acknowledgement (a cgo caller pays two thread switches per
	// wake-up).
	lowCount int
	lowBytes int64
	room     chan struct{} // closed at the low-water marks; nil while nobody waits
	idle     chan struct{} // closed whenever count drops to 0

	// The one record of failed nonblocking produces: Flush returns it
	// (capi's memphis_producer_flush and the bindings read it there).
	firstErr error // first failed delivery since the last Flush
	failed   int
}

func newWindow(maxCount int, maxBytes int64) window {
	return window{
		maxCount: maxCount,
		maxBytes: maxBytes,
		lowCount: maxCount - max(1, maxCount/8),
		lowBytes: maxBytes - max(1, maxBytes/8),
	}
}

// fits reports whether a message of size bytes may go now. A message
// larger than the whole byte window goes when nothing else is in flight.
// w.mu must be held.
func (w *window) fits(size int64) bool {
	return w.count < w.maxCount && (w.count == 0 || w.bytes+size <= w.maxBytes)
}

// take counts one message as in flight; w.mu must be held.
func (w *window) take(size int64) {
	if w.count == 0 {
		w.idle = make(chan struct{})
	}
	w.count++
	w.bytes += size
}

// acquire takes room for one message, waiting until deadline (or ctx, or
// closing) when the window is full.
func (w *window) acquire(ctx context.Context, size int64, deadline time.Time, closing <-chan struct{}) error {
	w.mu.Lock()
	if w.fits(size) {
		w.take(size)
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	return w.wait(ctx, size, deadline, closing)
}

// acquireUpTo takes room for the longest prefix of n messages (of sizes
// size(0), size(1)...) that fits now, or when nothing fits, for the first
// once it does (waiting as acquire does). It returns how many messages it
// took room for.
func (w *window) acquireUpTo(ctx context.Context, n int, size func(int) int64, deadline time.Time, closing <-chan struct{}) (int, error) {
	w.mu.Lock()
	k := 0
	for k < n && w.fits(size(k)) {
		w.take(size(k))
		k++
	}
	w.mu.Unlock()
	if k > 0 {
		return k, nil
	}
	if err := w.wait(ctx, size(0), deadline, closing); err != nil {
		return 0, err
	}
	return 1, nil
}

// wait is acquire's slow path.
func (w *window) wait(ctx context.Context, size int64, deadline time.Time, closing <-chan struct{}) error {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		w.mu.Lock()
		if w.fits(size) {
			w.take(size)
			w.mu.Unlock()
			return nil
		}
		// finish checks the low-water condition under w.mu, so the drain
		// that crosses it cannot be missed.
		if w.room == nil {
			w.room = make(chan struct{})
		}
		room := w.room
		w.mu.Unlock()
		select {
		case <-room:
		case <-t.C:
			// Room may have freed without the window draining far.
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.fits(size) {
				w.take(size)
				return nil
			}
			return &Error{Code: CodeQueueFull, Op: opProduce,
				Msg: "in-flight window (" + strconv.Itoa(w.maxCount) + " messages, " + strconv.Itoa(int(w.maxBytes)) + " bytes) stayed full until the message's deadline"}
		case <-ctx.Done():
			return &Error{Code: CodeTimeout, Op: opProduce, Msg: "waiting for room in the in-flight window", Err: ctx.Err()}
		case <-closing:
			return &Error{Code: CodeClosed, Op: opProduce, Msg: "producer is destroyed"}
		}
	}
}

// finish gives back the room of one message whose result is final and
// records a failure for Flush (record false: the caller got the error).
func (w *window) finish(size int64, err error, record bool) {
	w.mu.Lock()
	w.count--
	w.bytes -= size
	if err != nil && record {
		if w.failed == 0 {
			w.firstErr = err
		}
		w.failed++
	}
	w.wake()
	w.mu.Unlock()
}

// release gives back the room of messages that were never sent.
func (w *window) release(sizes []int64) {
	w.mu.Lock()
	for _, s := range sizes {
		w.count--
		w.bytes -= s
	}
	w.wake()
	w.mu.Unlock()
}

// wake closes room and idle as the counts allow; w.mu must be held.
func (w *window) wake() {
	if w.room != nil && (w.count == 0 || w.count <= w.lowCount && w.bytes <= w.lowBytes) {
		close(w.room)
		w.room = nil
	}
	if w.count == 0 && w.idle != nil {
		close(w.idle)
		w.idle = nil
	}
}

// drained waits until nothing is in flight and returns the failure summary
// since the previous call.
func (w *window) drained(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.count == 0 {
			err := w.takeFailures()
			w.mu.Unlock()
			return err
		}
		idle := w.idle
		w.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return &Error{Code: CodeTimeout, Op: "flush", Msg: "messages still awaiting acknowledgement", Err: ctx.Err()}
		}
	}
}

// takeFailures returns and resets the failure summary; w.mu must be held.
func (w *window) takeFailures() error {
	if w.failed == 0 {
		return nil
	}
	err := &FlushError{Failed: w.failed, First: w.firstErr}
	w.firstErr, w.failed = nil, 0
	return err
}

// FlushError is what Flush returns when nonblocking produces failed since
// the previous Flush (failures handed to delivery callbacks included,
// those of ProduceOptions.Awaited produces not): how many, and the first
// failure, whose Code it carries (CodeOf, errors.As and errors.Is see
// First).
type FlushError struct {
	Failed int
	First  error
}

func (e *FlushError) Error() string {
	if e.Failed == 1 {
		return e.First.Error()
	}
	return "memphis: flush: " + strconv.Itoa(e.Failed) + " messages failed; first failure: " + e.First.Error()
}

// Unwrap exposes the first failure.
func (e *FlushError) Unwrap() error { return e.First }

// inFlightBytes is the number of bytes counted in the window.
func (w *window) inFlightBytes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bytes
}

// inFlight is the number of messages counted in the window.
func (w *window) inFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}
