package sdk

import (
	"context"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

// holdWindow takes n slots of p's window for stand-in messages whose
// acknowledgements never come; releaseWindow gives them back.
func holdWindow(p *Producer, n int) {
	p.win.mu.Lock()
	for range n {
		p.win.take(0)
	}
	p.win.mu.Unlock()
}

func releaseWindow(p *Producer, n int) { p.win.release(make([]int64, n)) }

// waiting reports whether someone sleeps on w's room channel.
func (w *window) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.room != nil
}

// A producer blocked on a full window resumes only once the window has
// drained to its low-water mark (one wake-up per batch of acks, not per
// ack); at its deadline it still takes a slot that freed meanwhile.
func TestWindowWaitResumesAtLowWater(t *testing.T) {
	w := newWindow(16, 1<<30)
	if w.lowCount != 14 {
		t.Fatalf("low water of a 16-slot window: %d, want 14", w.lowCount)
	}
	ctx := context.Background()
	hold := func(n int) {
		w.mu.Lock()
		for range n {
			w.take(1)
		}
		w.mu.Unlock()
	}
	hold(16)
	done := make(chan error, 1)
	go func() { done <- w.acquire(ctx, 1, time.Now().Add(time.Minute), nil) }()
	devbrokertest.WaitFor(t, "the waiter to block", w.waiting)
	w.finish(1, nil, true) // 15 left: above low water, the waiter sleeps on
	if !w.waiting() {
		t.Fatal("waiter woken with the window still above low water")
	}
	w.finish(1, nil, true) // 14 left: low water
	if err := recv(t, done, "waiter"); err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if got := w.inFlight(); got != 15 {
		t.Fatalf("window holds %d after the waiter took its slot, want 15", got)
	}
	// A slot that frees without reaching low water is taken at the deadline.
	hold(1)
	w.finish(1, nil, true)
	if err := w.acquire(ctx, 1, time.Now().Add(20*time.Millisecond), nil); err != nil {
		t.Fatalf("acquire with one free slot: %v", err)
	}
	// A window that stays full is reported as such.
	if err := w.acquire(ctx, 1, time.Now().Add(20*time.Millisecond), nil); CodeOf(err) != CodeQueueFull {
		t.Fatalf("acquire on a full window: %v, want QueueFull", err)
	}
	w.release(make([]int64, 16))
	if got := w.inFlight(); got != 0 {
		t.Fatalf("in flight after releasing everything: %d", got)
	}
}

// The byte bound holds as well as the count bound; a message larger than
// the whole byte window goes alone; Flush's summary counts failures.
func TestWindowBytes(t *testing.T) {
	w := newWindow(100, 1000)
	ctx := context.Background()
	soon := func() time.Time { return time.Now().Add(20 * time.Millisecond) }
	for range 4 {
		if err := w.acquire(ctx, 250, soon(), nil); err != nil {
			t.Fatalf("acquire within the byte window: %v", err)
		}
	}
	if err := w.acquire(ctx, 1, soon(), nil); CodeOf(err) != CodeQueueFull {
		t.Fatalf("acquire beyond the byte window: %v, want QueueFull", err)
	}
	// A batch takes the prefix that fits.
	w.release([]int64{250, 250})
	sizes := []int64{200, 200, 200}
	n, err := w.acquireUpTo(ctx, len(sizes), func(i int) int64 { return sizes[i] }, soon(), nil)
	if err != nil || n != 2 {
		t.Fatalf("acquireUpTo = %d, %v; want 2 of 3 fitting", n, err)
	}
	w.release([]int64{250, 250, 200, 200})
	// Oversized: alone, and only alone.
	if err := w.acquire(ctx, 5000, soon(), nil); err != nil {
		t.Fatalf("oversized message on an empty window: %v", err)
	}
	if err := w.acquire(ctx, 1, soon(), nil); CodeOf(err) != CodeQueueFull {
		t.Fatalf("acquire beside an oversized message: %v, want QueueFull", err)
	}
	w.finish(5000, ErrTimeout, true)
	if err := w.drained(ctx); CodeOf(err) != CodeTimeout {
		t.Fatalf("drained: %v, want the recorded timeout", err)
	}
	if err := w.drained(ctx); err != nil {
		t.Fatalf("second drained re-reported: %v", err)
	}
	// ctx and closing end a wait.
	w.mu.Lock()
	w.take(1000)
	w.mu.Unlock()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.acquire(cctx, 1, time.Now().Add(time.Minute), nil); CodeOf(err) != CodeTimeout {
		t.Fatalf("cancelled wait: %v", err)
	}
	closing := make(chan struct{})
	close(closing)
	if err := w.acquire(ctx, 1, time.Now().Add(time.Minute), closing); CodeOf(err) != CodeClosed {
		t.Fatalf("wait on a closing producer: %v", err)
	}
}
