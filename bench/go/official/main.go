// Command memphisgo-bench measures the official memphis.go v1.3.2 (layer
// memphis.go), the anchor of the Go SDK. It lives in its own module, like
// tests/compat, so the product's go.mod does not depend on memphis.go.
//
//	memphisgo-bench [--host H --port P] sync:512:1:2000 ...
package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/memphisdev/memphis.go"

	"github.com/libmemphis/libmemphis/bench/go/harness"
)

func main() {
	harness.Main(map[string]harness.Opener{"memphis.go": open})
}

type layer struct{ conn *memphis.Conn }

func open(_ context.Context, cfg harness.Config) (harness.Layer, error) {
	c, err := memphis.Connect(cfg.Host, cfg.User, memphis.Password(cfg.Password), memphis.Port(cfg.Port))
	if err != nil {
		return nil, err
	}
	return &layer{conn: c}, nil
}

func (l *layer) Close() { l.conn.Close() }

func (l *layer) Run(_ context.Context, cell harness.Cell, station string) (harness.Result, error) {
	if cell.Scenario == harness.Batch {
		return harness.Result{}, harness.Unsupported("memphis.go v1.3.2 has no batch produce call")
	}
	st, err := l.conn.CreateStation(station)
	if err != nil {
		return harness.Result{}, err
	}
	defer func() { _ = st.Destroy() }()
	data := harness.Payload(cell.Size)
	switch cell.Scenario {
	case harness.Fetch, harness.Consume, harness.ConsumeNoAck:
		if err := l.fill(station, data, cell.Count); err != nil {
			return harness.Result{}, fmt.Errorf("filling the station: %w", err)
		}
		k, err := l.conn.CreateConsumer(station, "reader", memphis.BatchSize(harness.BatchSize),
			memphis.PullInterval(time.Millisecond), memphis.BatchMaxWaitTime(time.Second))
		if err != nil {
			return harness.Result{}, err
		}
		defer func() { _ = k.Destroy() }()
		if cell.Scenario == harness.Fetch {
			return fetch(k, cell.Count)
		}
		return consume(k, cell.Count, cell.Scenario == harness.Consume)
	}
	// Producers are not destroyed: in memphis.go v1.3.2 Producer.Destroy
	// leaves the station's functions-listener mutex locked while other
	// producers of the station remain, so the next Destroy or Produce
	// hangs. Destroying the station removes them on the broker.
	producers := make([]*memphis.Producer, cell.Producers)
	for i := range producers {
		p, err := l.conn.CreateProducer(station, fmt.Sprintf("p%d", i))
		if err != nil {
			return harness.Result{}, err
		}
		producers[i] = p
	}
	shares := harness.Split(cell.Count, cell.Producers)
	clock := harness.StartClock()
	lat, err := harness.Parallel(cell.Producers, func(i int) ([]time.Duration, error) {
		p, n := producers[i], shares[i]
		if cell.Scenario == harness.Async {
			return nil, produceAsync(p, data, n)
		}
		lat := make([]time.Duration, 0, n)
		for range n {
			t := time.Now()
			if err := p.Produce(data, memphis.SyncProduce()); err != nil {
				return lat, err
			}
			lat = append(lat, time.Since(t))
		}
		return lat, nil
	})
	if err != nil {
		return harness.Result{}, err
	}
	return clock.Result(cell.Count, lat), nil
}

// produceAsync sends n messages, the last one synchronously: memphis.go
// has no flush, and acks of one stream come back in order, so the last
// ack means every earlier message was stored. (Failures of the earlier
// messages are not visible through memphis.go's API.)
func produceAsync(p *memphis.Producer, data []byte, n int) error {
	for i := 0; i < n-1; i++ {
		if err := p.Produce(data, memphis.AsyncProduce()); err != nil {
			return err
		}
	}
	return p.Produce(data, memphis.SyncProduce())
}

func (l *layer) fill(station string, data []byte, n int) error {
	p, err := l.conn.CreateProducer(station, "filler") // not destroyed: see Run
	if err != nil {
		return err
	}
	return produceAsync(p, data, n)
}

func fetch(k *memphis.Consumer, n int) (harness.Result, error) {
	clock := harness.StartClock()
	for got := 0; got < n; {
		msgs, err := k.Fetch(min(harness.BatchSize, n-got), false)
		if err != nil {
			return harness.Result{}, err
		}
		if len(msgs) == 0 {
			return harness.Result{}, fmt.Errorf("station drained after %d of %d messages", got, n)
		}
		for _, m := range msgs {
			_ = m.Data()
			if err := m.Ack(); err != nil {
				return harness.Result{}, err
			}
		}
		got += len(msgs)
	}
	return clock.Result(n, nil), nil
}

func consume(k *memphis.Consumer, n int, ack bool) (harness.Result, error) {
	var got atomic.Int64
	done := make(chan error, 1)
	clock := harness.StartClock()
	// Errors without messages are the "nothing to fetch" timeouts of a
	// drained station; the wait below bounds a loop that never delivers.
	err := k.Consume(func(msgs []*memphis.Msg, _ error, _ context.Context) {
		for _, m := range msgs {
			_ = m.Data()
			if !ack {
				continue
			}
			if err := m.Ack(); err != nil {
				select {
				case done <- err:
				default:
				}
				return
			}
		}
		if got.Add(int64(len(msgs))) >= int64(n) {
			select {
			case done <- nil:
			default:
			}
		}
	})
	if err != nil {
		return harness.Result{}, err
	}
	err = harness.Wait(done, n)
	res := clock.Result(n, nil)
	k.StopConsume()
	return res, err
}
