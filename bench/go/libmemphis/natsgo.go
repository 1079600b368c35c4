package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/libmemphis/libmemphis/bench/go/harness"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/libmemphis/libmemphis/sdk"
)

// natsGoLayer is the anchor: raw nats.go JetStream on its own connection,
// publishing to and pulling from the stream of a station created through
// the SDK (so stream and durable are configured exactly as the broker does
// for every layer), with the two headers every Memphis message carries.
type natsGoLayer struct {
	admin  *sdk.Conn // creates and removes stations and consumer groups only
	nc     *nats.Conn
	js     jetstream.JetStream
	connID string
}

func openNatsGo(ctx context.Context, cfg harness.Config) (harness.Layer, error) {
	admin, err := connectSDK(ctx, cfg)
	if err != nil {
		return nil, err
	}
	connID := uuid.NewString()
	nc, err := nats.Connect(fmt.Sprintf("nats://%s:%d", cfg.Host, cfg.Port),
		nats.UserInfo(cfg.User, cfg.Password), nats.Name(connID+"::"+cfg.User))
	if err != nil {
		_ = admin.Close()
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		_ = admin.Close()
		return nil, err
	}
	return &natsGoLayer{admin: admin, nc: nc, js: js, connID: connID}, nil
}

func (l *natsGoLayer) Close() {
	l.nc.Close()
	_ = l.admin.Close()
}

// The first partition's stream of a station and its subject (protocol §3.2).
func streamOf(station string) string  { return wire.InternalName(station) + "$1" }
func subjectOf(station string) string { return streamOf(station) + ".final" }

func (l *natsGoLayer) header(producer string) nats.Header {
	return nats.Header{"$memphis_producedBy": {producer}, "$memphis_connectionId": {l.connID}}
}

func (l *natsGoLayer) Run(ctx context.Context, cell harness.Cell, station string) (harness.Result, error) {
	if cell.Scenario == harness.Batch {
		return harness.Result{}, harness.Unsupported("nats.go has no batch publish call (async is its bulk path)")
	}
	st, err := l.admin.CreateStation(ctx, sdk.DefaultStationOptions(station))
	if err != nil {
		return harness.Result{}, err
	}
	defer func() { _ = st.Destroy(ctx) }()
	data := harness.Payload(cell.Size)
	subject := subjectOf(station)
	switch cell.Scenario {
	case harness.Fetch, harness.Consume, harness.ConsumeNoAck:
		if err := l.publishAsync(subject, data, l.header("filler"), cell.Count); err != nil {
			return harness.Result{}, fmt.Errorf("filling the station: %w", err)
		}
		k, err := l.admin.CreateConsumer(ctx, sdk.DefaultConsumerOptions(station, "reader"))
		if err != nil {
			return harness.Result{}, err
		}
		defer func() { _ = k.Destroy(ctx) }()
		jc, err := l.js.Consumer(ctx, streamOf(station), wire.InternalName("reader"))
		if err != nil {
			return harness.Result{}, err
		}
		if cell.Scenario == harness.Fetch {
			return l.fetch(jc, cell.Count)
		}
		return l.consume(jc, cell.Count, cell.Scenario == harness.Consume)
	}
	shares := harness.Split(cell.Count, cell.Producers)
	clock := harness.StartClock()
	lat, err := harness.Parallel(cell.Producers, func(i int) ([]time.Duration, error) {
		hdr, n := l.header(fmt.Sprintf("p%d", i)), shares[i]
		if cell.Scenario == harness.Async {
			return nil, l.publishAsync(subject, data, hdr, n)
		}
		lat := make([]time.Duration, 0, n)
		for range n {
			t := time.Now()
			if _, err := l.js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data, Header: hdr}); err != nil {
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

// publishAsync publishes n messages with the SDK's window and ack wait and
// returns once all are acknowledged.
func (l *natsGoLayer) publishAsync(subject string, data []byte, hdr nats.Header, n int) error {
	var failed atomic.Int64
	js, err := jetstream.New(l.nc, jetstream.WithPublishAsyncMaxPending(sdk.DefaultMaxInFlight),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return err
	}
	for range n {
		m := &nats.Msg{Subject: subject, Data: data, Header: hdr}
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(sdk.DefaultAckWait)); err != nil {
			return err
		}
	}
	<-js.PublishAsyncComplete()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d messages failed", f, n)
	}
	return nil
}

func (l *natsGoLayer) fetch(jc jetstream.Consumer, n int) (harness.Result, error) {
	clock := harness.StartClock()
	for got := 0; got < n; {
		batch, err := jc.Fetch(min(harness.BatchSize, n-got), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return harness.Result{}, err
		}
		before := got
		for m := range batch.Messages() {
			_ = m.Data()
			if err := m.Ack(); err != nil {
				return harness.Result{}, err
			}
			got++
		}
		if err := batch.Error(); err != nil {
			return harness.Result{}, err
		}
		if got == before {
			return harness.Result{}, fmt.Errorf("station drained after %d of %d messages", got, n)
		}
	}
	// The acks are plain publishes: one round trip makes sure the broker has them.
	if err := l.nc.Flush(); err != nil {
		return harness.Result{}, err
	}
	return clock.Result(n, nil), nil
}

func (l *natsGoLayer) consume(jc jetstream.Consumer, n int, ack bool) (harness.Result, error) {
	var got atomic.Int64
	done := make(chan error, 1)
	clock := harness.StartClock()
	cc, err := jc.Consume(func(m jetstream.Msg) {
		_ = m.Data()
		var err error
		if ack {
			err = m.Ack()
		}
		if err != nil || got.Add(1) >= int64(n) {
			select {
			case done <- err:
			default:
			}
		}
	}, jetstream.PullMaxMessages(harness.BatchSize))
	if err != nil {
		return harness.Result{}, err
	}
	err = harness.Wait(done, n)
	if err == nil {
		err = l.nc.Flush()
	}
	res := clock.Result(n, nil)
	cc.Stop()
	return res, err
}
