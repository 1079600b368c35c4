package sdk

import (
	"sync/atomic"
	"time"
)

// statsLoop hands ConnectOptions.StatsHandler a snapshot every
// StatsInterval, on its own goroutine, until Close.
type statsLoop struct {
	stop chan struct{}
	done chan struct{}
	goid atomic.Uint64 // the loop's goroutine: Close from the handler must not wait for itself
}

func (c *Conn) startStatsLoop() {
	every, h := c.opts.StatsInterval, c.opts.StatsHandler
	if every <= 0 || h == nil {
		return
	}
	l := &statsLoop{stop: make(chan struct{}), done: make(chan struct{})}
	c.statsLoop = l
	go func() {
		l.goid.Store(curGoroutineID())
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				select {
				case <-l.stop:
					return
				default:
				}
				h(c.Stats())
			}
		}
	}()
}

// end stops the loop and waits for a running handler call to return,
// unless it is that call which closes the connection.
func (l *statsLoop) end() {
	if l == nil {
		return
	}
	close(l.stop)
	if l.goid.Load() != curGoroutineID() {
		<-l.done
	}
}
