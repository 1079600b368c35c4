package harness

import (
	"fmt"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Clock is the start of a measured interval: wall time and this process's
// CPU time (user + system, all threads), so the broker's CPU is not in it.
type Clock struct {
	wall time.Time
	cpu  time.Duration
}

// StartClock starts measuring.
func StartClock() Clock { return Clock{cpu: cpuTime(), wall: time.Now()} }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Result is the cell's figures for n messages handled since the clock started.
func (c Clock) Result(n int, latencies []time.Duration) Result {
	wall, cpu := time.Since(c.wall), cpuTime()-c.cpu
	r := Result{
		Messages:    n,
		Seconds:     wall.Seconds(),
		MsgPerS:     float64(n) / wall.Seconds(),
		CPUUsPerMsg: float64(cpu.Microseconds()) / float64(n),
	}
	if len(latencies) > 0 {
		r.LatencyUs = Quantiles(latencies)
	}
	return r
}

// Quantiles are the 0, 0.5, 1, ..., 100 % points of the latencies in
// microseconds (nearest rank), enough to draw a CDF; the raw samples would
// make the results file large for nothing.
func Quantiles(lat []time.Duration) []float64 {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	out := make([]float64, 201)
	for i := range out {
		idx := (i*(len(s)-1) + 100) / 200
		out[i] = float64(s[idx].Nanoseconds()) / 1e3
	}
	return out
}

// Parallel runs work(i) for i in [0, n) on n goroutines, all released at the
// same moment, and returns the first error; the latencies each returns are
// merged.
func Parallel(n int, work func(i int) ([]time.Duration, error)) ([]time.Duration, error) {
	if n == 1 {
		return work(0)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		all   []time.Duration
		first error
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			lat, err := work(i)
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			if err != nil && first == nil {
				first = err
			}
		}(i)
	}
	close(start)
	wg.Wait()
	return all, first
}

// ConsumeTimeout bounds how long a consume-loop cell waits for its messages.
const ConsumeTimeout = 5 * time.Minute

// Wait returns what arrives on done, or an error after ConsumeTimeout.
func Wait(done <-chan error, n int) error {
	select {
	case err := <-done:
		return err
	case <-time.After(ConsumeTimeout):
		return fmt.Errorf("consume loop did not deliver %d messages within %s", n, ConsumeTimeout)
	}
}
