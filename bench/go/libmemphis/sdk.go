package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/libmemphis/libmemphis/bench/go/harness"
	"github.com/libmemphis/libmemphis/sdk"
)

// sdkLayer measures the Go SDK.
type sdkLayer struct{ conn *sdk.Conn }

func connectSDK(ctx context.Context, cfg harness.Config) (*sdk.Conn, error) {
	o := sdk.DefaultConnectOptions()
	o.Host, o.Port, o.Username, o.Password = cfg.Host, cfg.Port, cfg.User, cfg.Password
	return sdk.Connect(ctx, o)
}

func openSDK(ctx context.Context, cfg harness.Config) (harness.Layer, error) {
	c, err := connectSDK(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &sdkLayer{conn: c}, nil
}

func (l *sdkLayer) Close() { _ = l.conn.Close() }

func (l *sdkLayer) Run(ctx context.Context, cell harness.Cell, station string) (harness.Result, error) {
	st, err := l.conn.CreateStation(ctx, sdk.DefaultStationOptions(station))
	if err != nil {
		return harness.Result{}, err
	}
	defer func() { _ = st.Destroy(ctx) }()
	data := harness.Payload(cell.Size)
	switch cell.Scenario {
	case harness.Fetch, harness.Consume, harness.ConsumeNoAck:
		if err := l.fill(ctx, station, data, cell.Count); err != nil {
			return harness.Result{}, fmt.Errorf("filling the station: %w", err)
		}
		if cell.Scenario == harness.Fetch {
			return l.fetch(ctx, station, cell.Count)
		}
		return l.consume(ctx, station, cell.Count, cell.Scenario == harness.Consume)
	}
	producers := make([]*sdk.Producer, cell.Producers)
	for i := range producers {
		p, err := l.conn.CreateProducer(ctx, sdk.DefaultProducerOptions(station, fmt.Sprintf("p%d", i)))
		if err != nil {
			return harness.Result{}, err
		}
		defer func() { _ = p.Destroy(ctx) }()
		producers[i] = p
	}
	shares := harness.Split(cell.Count, cell.Producers)
	clock := harness.StartClock()
	lat, err := harness.Parallel(cell.Producers, func(i int) ([]time.Duration, error) {
		p, n := producers[i], shares[i]
		switch cell.Scenario {
		case harness.Sync:
			lat := make([]time.Duration, 0, n)
			for range n {
				t := time.Now()
				if err := p.Produce(ctx, data, sdk.ProduceOptions{}); err != nil {
					return lat, err
				}
				lat = append(lat, time.Since(t))
			}
			return lat, nil
		case harness.Async:
			for range n {
				if err := p.ProduceAsync(ctx, data, sdk.ProduceOptions{}, nil); err != nil {
					return nil, err
				}
			}
			return nil, p.Flush(ctx)
		default: // batch
			msgs := make([]sdk.BatchMessage, harness.BatchSize)
			for i := range msgs {
				msgs[i].Data = data
			}
			for sent := 0; sent < n; sent += harness.BatchSize {
				if err := p.ProduceBatch(ctx, msgs[:min(harness.BatchSize, n-sent)], nil); err != nil {
					return nil, err
				}
			}
			return nil, p.Flush(ctx)
		}
	})
	if err != nil {
		return harness.Result{}, err
	}
	return clock.Result(cell.Count, lat), nil
}

func (l *sdkLayer) fill(ctx context.Context, station string, data []byte, n int) error {
	p, err := l.conn.CreateProducer(ctx, sdk.DefaultProducerOptions(station, "filler"))
	if err != nil {
		return err
	}
	defer func() { _ = p.Destroy(ctx) }()
	for range n {
		if err := p.ProduceAsync(ctx, data, sdk.ProduceOptions{}, nil); err != nil {
			return err
		}
	}
	return p.Flush(ctx)
}

func (l *sdkLayer) consumer(ctx context.Context, station string) (*sdk.Consumer, error) {
	o := sdk.DefaultConsumerOptions(station, "reader")
	o.BatchSize, o.BatchMaxWait, o.PullInterval = harness.BatchSize, time.Second, time.Millisecond
	return l.conn.CreateConsumer(ctx, o)
}

func (l *sdkLayer) fetch(ctx context.Context, station string, n int) (harness.Result, error) {
	k, err := l.consumer(ctx, station)
	if err != nil {
		return harness.Result{}, err
	}
	defer func() { _ = k.Destroy(ctx) }()
	clock := harness.StartClock()
	for got := 0; got < n; {
		msgs, err := k.Fetch(ctx, min(harness.BatchSize, n-got), sdk.PartitionSelector{})
		if err != nil {
			return harness.Result{}, err
		}
		if len(msgs) == 0 {
			return harness.Result{}, fmt.Errorf("station drained after %d of %d messages", got, n)
		}
		for _, m := range msgs {
			_ = m.Data()
		}
		if err := sdk.AckAll(ctx, msgs); err != nil {
			return harness.Result{}, err
		}
		got += len(msgs)
	}
	return clock.Result(n, nil), nil
}

func (l *sdkLayer) consume(ctx context.Context, station string, n int, ack bool) (harness.Result, error) {
	k, err := l.consumer(ctx, station)
	if err != nil {
		return harness.Result{}, err
	}
	defer func() { _ = k.Destroy(ctx) }()
	var got atomic.Int64
	done := make(chan error, 1)
	clock := harness.StartClock()
	err = k.Consume(func(msgs []*sdk.Message, err error, _ any) {
		if err != nil {
			if !errors.Is(err, sdk.ErrNoMessages) {
				select {
				case done <- err:
				default:
				}
			}
			return
		}
		for _, m := range msgs {
			_ = m.Data()
		}
		// Without ack the messages would come back after the ack wait;
		// the station is destroyed with the cell long before.
		if ack {
			if err := sdk.AckAll(ctx, msgs); err != nil {
				select {
				case done <- err:
				default:
				}
			}
		}
		if got.Add(int64(len(msgs))) >= int64(n) {
			select {
			case done <- nil:
			default:
			}
		}
	}, sdk.PartitionSelector{})
	if err != nil {
		return harness.Result{}, err
	}
	err = harness.Wait(done, n)
	res := clock.Result(n, nil)
	_ = k.StopConsume()
	return res, err
}
