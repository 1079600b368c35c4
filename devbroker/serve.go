package devbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// requestTimeout bounds the work done for one control-plane request. It is
// long on purpose: a station with thousands of partitions takes longer than
// the SDKs' 20 s request timeout to create, and finishing the job lets the
// SDK's retry (which waits for the control lock) find the station in place.
const requestTimeout = 5 * time.Minute

// Control-plane subjects (protocol doc §1.4).
const (
	subjStationCreate   = wire.SubjStationCreate
	subjStationDestroy  = wire.SubjStationDestroy
	subjProducerCreate  = wire.SubjProducerCreate
	subjProducerDestroy = wire.SubjProducerDestroy
	subjConsumerCreate  = wire.SubjConsumerCreate
	subjConsumerDestroy = wire.SubjConsumerDestroy
	subjSchemaCreate    = wire.SubjSchemaCreate
	subjSchemaAttach    = wire.SubjSchemaAttach
	subjSchemaDetach    = wire.SubjSchemaDetach
	subjClientUpdates   = wire.SubjClientUpdates
)

// requestHandler answers one request; the returned bytes are the reply
// payload (which may be empty: style A success).
type requestHandler func(ctx context.Context, data []byte) []byte

// subscribeAll subscribes the control plane, the pull-probe answerer and
// the DLS side channels.
func (b *Broker) subscribeAll() error {
	handlers := []struct {
		subject, queue string
		h              requestHandler
	}{
		{subjStationCreate, "memphis_station_creations_listeners_group", styleAHandler(b, "station creation", b.createStation)},
		{subjStationDestroy, "memphis_station_destructions_listeners_group", styleAHandler(b, "station destruction", func(ctx context.Context, r destroyStationReq) error {
			return b.destroyStation(ctx, r.StationName)
		})},
		{subjProducerCreate, "memphis_producer_creations_listeners_group", b.handleProducerCreate},
		{subjProducerDestroy, "memphis_producer_destructions_listeners_group", styleAHandler(b, "producer destruction", b.destroyProducer)},
		{subjConsumerCreate, "memphis_consumer_creations_listeners_group", b.handleConsumerCreate},
		{subjConsumerDestroy, "memphis_consumer_destructions_listeners_group", styleAHandler(b, "consumer destruction", b.destroyConsumer)},
		{subjSchemaCreate, "memphis_schema_creations_listeners_group", b.handleSchemaCreate},
		{subjSchemaAttach, "memphis_schema_attachments_listeners_group", styleAHandler(b, "schema attachment", b.attachSchema)},
		{subjSchemaDetach, "memphis_schema_detachments_listeners_group", styleAHandler(b, "schema detachment", b.detachSchema)},
	}
	for _, h := range handlers {
		if err := b.serve(h.subject, h.queue, h.h); err != nil {
			return err
		}
	}
	if err := b.subscribePullProbes(); err != nil {
		return err
	}
	if err := b.subscribeConnections(); err != nil {
		return err
	}
	return b.subscribeDLS()
}

// serve queue-subscribes subject and runs h for each message in its own
// goroutine, replying when the message carries a reply subject.
func (b *Broker) serve(subject, queue string, h requestHandler) error {
	sub, err := b.nc.QueueSubscribe(subject, queue, func(m *nats.Msg) {
		if !b.track() {
			return // stopping: nats.go may still hand over a queued message
		}
		go func() {
			defer b.wg.Done()
			reply := b.safeHandle(subject, h, m.Data)
			if m.Reply == "" {
				return
			}
			if err := m.Respond(reply); err != nil {
				b.logf("devbroker: reply on %s: %v", subject, err)
			}
		}()
	})
	if err != nil {
		return fmt.Errorf("devbroker: subscribe %s: %w", subject, err)
	}
	b.subs = append(b.subs, sub)
	return nil
}

// track registers an in-flight handler unless Stop has begun, so Stop's
// wait never races with a late Add.
func (b *Broker) track() bool {
	b.stateMu.Lock()
	defer b.stateMu.Unlock()
	if b.stopping {
		return false
	}
	b.wg.Add(1)
	return true
}

// safeHandle runs h with a deadline and turns a panic into an error reply:
// bad input must never take the broker down.
func (b *Broker) safeHandle(subject string, h requestHandler, data []byte) (reply []byte) {
	ctx, cancel := context.WithTimeout(b.ctx, requestTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			b.logf("devbroker: panic handling %s: %v\n%s", subject, r, debug.Stack())
			reply = []byte(fmt.Sprintf("memphis-devbroker internal error handling %s: %v", subject, r))
		}
	}()
	return h(ctx, data)
}

// styleAHandler is the shape every style-A control request shares: decode
// the JSON request, run fn under the control lock (control-plane changes are
// serialised), answer empty or with the error text.
func styleAHandler[T any](b *Broker, what string, fn func(context.Context, T) error) requestHandler {
	return func(ctx context.Context, data []byte) []byte {
		var req T
		if err := json.Unmarshal(data, &req); err != nil {
			return styleA(fmt.Errorf("invalid %s request: %v", what, err))
		}
		return styleA(b.withControl(ctx, func(ctx context.Context) error {
			return fn(ctx, req)
		}))
	}
}

// styleA is the empty-or-text response (protocol doc §1.2).
func styleA(err error) []byte {
	if err == nil {
		return []byte{}
	}
	return []byte(err.Error())
}
