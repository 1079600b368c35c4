package sdk

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// ProducerOptions configures CreateProducer.
type ProducerOptions struct {
	// StationNames lists the stations every message is produced to (one
	// station is the common case; several make a multi-station producer).
	StationNames []string
	Name         string
	// MaxInFlight and MaxInFlightBytes bound the nonblocking produces
	// waiting for their acknowledgement, by count and by payload plus
	// header bytes (0 = the default). When the window is full
	// ProduceAsync blocks until the message's deadline, then fails with
	// CodeQueueFull: never an unbounded queue. A message larger than
	// MaxInFlightBytes is still sent, alone.
	MaxInFlight      int
	MaxInFlightBytes int64
	// AckWait is each message's deadline, counted from the produce call:
	// waiting for room in the window, resends after a reconnect and
	// retries after an overload answer all happen within it. Default 15 s.
	AckWait time.Duration
	// Idempotent gives every message without a MsgID a unique one, so
	// that a message resent after a broker crash or reconnect is stored
	// once (the broker de-duplicates within the station's idempotency
	// window). Off by default: see docs/resilience.md for its cost.
	Idempotent bool
}

// Producer defaults. DefaultMaxInFlightBytes keeps one producer well below
// the broker's per-stream ingest queue (nats-server: 128 MiB), beyond
// which it answers 429 "too many requests".
const (
	DefaultMaxInFlight      = 4000 // nats.go's own async publish window
	DefaultMaxInFlightBytes = 32 << 20
	DefaultAckWait          = 15 * time.Second
)

// DefaultProducerOptions returns options for a producer named name on
// station, with a 4000-message, 32 MiB window and the documented 15 s ack
// wait. The arguments come in DefaultConsumerOptions' order; for a
// multi-station producer, append the other stations to StationNames.
func DefaultProducerOptions(station, name string) ProducerOptions {
	return ProducerOptions{
		StationNames:     []string{station},
		Name:             name,
		MaxInFlight:      DefaultMaxInFlight,
		MaxInFlightBytes: DefaultMaxInFlightBytes,
		AckWait:          DefaultAckWait,
	}
}

// Producer publishes messages to one or more stations. It is safe for
// concurrent use.
type Producer struct {
	conn     *Conn
	name     string // lower-case, as registered
	opts     ProducerOptions
	stations []*stationProducer

	producedBy []string // header values shared by every message (read-only)
	connID     []string

	win       window        // nonblocking produces awaiting their result
	closing   chan struct{} // closed on Destroy/Close: wakes window waiters
	destroyed atomic.Bool
	// destroying is claimed by the one Destroy call that unregisters: a
	// second, concurrent Destroy must not release the station's schema
	// listener again (it is reference counted across producers/consumers).
	destroying atomic.Bool
	closeOne   sync.Once

	ids msgIDs // message ids of an idempotent producer

	stats   producerCounters
	failLog logLimit // "nonblocking produce failed" records
}

// stationProducer is the per-station registration of a producer.
type stationProducer struct {
	name     string // as given by the user
	internal string
	parts    *partitionSet
	subjects map[int]string // partition -> produce subject
}

// The §5 bodies shared with the broker (internal/wire).
type (
	createProducerReq  = wire.CreateProducerReq
	destroyProducerReq = wire.DestroyProducerReq
)

// createProducerResp wraps the §5.2 response only to give it errText.
type createProducerResp struct{ wire.CreateProducerResp }

func (r *createProducerResp) errText() string { return r.Error }

func (o *ProducerOptions) validate(op string) error {
	if len(o.StationNames) == 0 {
		return newErr(CodeInvalidArgument, op, "at least one station name is required")
	}
	for _, s := range o.StationNames {
		if err := validateName(op, "Station", s); err != nil {
			return err
		}
	}
	if err := validateName(op, "Producer", o.Name); err != nil {
		return err
	}
	if o.MaxInFlight < 0 {
		return newErr(CodeInvalidArgument, op, "MaxInFlight must not be negative")
	}
	if o.MaxInFlightBytes < 0 {
		return newErr(CodeInvalidArgument, op, "MaxInFlightBytes must not be negative")
	}
	if o.AckWait < 0 {
		return newErr(CodeInvalidArgument, op, "AckWait must not be negative")
	}
	return nil
}

// CreateProducer registers a producer on every station in opts (a missing
// station is created by the broker with default settings, §4.3).
func (c *Conn) CreateProducer(ctx context.Context, opts ProducerOptions) (*Producer, error) {
	const op = "create producer"
	if err := c.checkOpen(op); err != nil {
		return nil, err
	}
	if err := opts.validate(op); err != nil {
		return nil, err
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.MaxInFlightBytes == 0 {
		opts.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if opts.AckWait == 0 {
		opts.AckWait = DefaultAckWait
	}
	name := strings.ToLower(opts.Name)
	p := &Producer{
		conn:       c,
		name:       name,
		opts:       opts,
		producedBy: []string{name},
		connID:     []string{c.connID},
		win:        newWindow(opts.MaxInFlight, opts.MaxInFlightBytes),
		closing:    make(chan struct{}),
	}
	if opts.Idempotent {
		p.ids.init()
	}
	for _, st := range opts.StationNames {
		sp, err := c.registerProducer(ctx, name, st)
		if err != nil {
			p.unregister(context.WithoutCancel(ctx))
			return nil, err
		}
		p.stations = append(p.stations, sp)
	}
	if err := c.track(p); err != nil {
		p.unregister(context.WithoutCancel(ctx))
		return nil, err
	}
	return p, nil
}

func (c *Conn) registerProducer(ctx context.Context, name, station string) (*stationProducer, error) {
	const op = "create producer"
	var resp createProducerResp
	err := c.requestJSON(ctx, op, wire.SubjProducerCreate, createProducerReq{
		Name:         name,
		StationName:  station,
		ConnectionID: c.connID,
		ProducerType: "application",
		ReqVersion:   4,
		Username:     c.username,
		AppID:        appID,
		SdkLang:      wire.SDKLang,
	}, &resp)
	if err != nil {
		return nil, err
	}
	internal := internalName(station)
	sp := &stationProducer{
		name:     station,
		internal: internal,
		parts:    &partitionSet{station: station, list: resp.PartitionsUpdate.PartitionsList},
		subjects: map[int]string{},
	}
	if len(sp.parts.list) == 0 {
		sp.subjects[0] = produceSubject(internal, 0)
	}
	for _, pn := range sp.parts.list {
		sp.subjects[pn] = produceSubject(internal, pn)
	}
	c.setSchemaverseToDLS(internal, resp.SchemaverseToDls)
	c.flags.mu.Lock()
	c.flags.sendNotification = resp.SendNotification
	c.flags.mu.Unlock()
	c.seedSchema(internal, resp.SchemaUpdate)
	return sp, nil
}

// Name is the producer's (lower-case) name.
func (p *Producer) Name() string { return p.name }

// Flush waits until every nonblocking produce issued so far is
// acknowledged or failed. It returns nil when all succeeded since the
// previous Flush, otherwise a *FlushError: how many failed (failures
// handed to delivery callbacks included) and the first failure. A ctx
// that ends first gives a CodeTimeout error and leaves the failures for
// the next Flush.
func (p *Producer) Flush(ctx context.Context) error {
	if p == nil {
		return newErr(CodeInvalidArgument, "flush", "nil producer")
	}
	return p.win.drained(ctx)
}

// Destroy flushes pending nonblocking produces (bounded by ctx), then
// unregisters the producer from every station. The producer is unusable
// afterwards, even when the flush failed.
func (p *Producer) Destroy(ctx context.Context) error {
	const op = "destroy producer"
	if p == nil {
		return newErr(CodeInvalidArgument, op, "nil producer")
	}
	if p.destroyed.Load() || !p.destroying.CompareAndSwap(false, true) {
		return nil
	}
	flushErr := p.Flush(ctx)
	p.shutdown(nil)
	p.conn.untrack(p)
	forget(p.conn, producerCache, p)
	err := p.unregister(ctx)
	return errors.Join(flushErr, err)
}

// shutdown stops new produces and wakes blocked window waiters.
func (p *Producer) shutdown(error) {
	p.destroyed.Store(true)
	p.closeOne.Do(func() { close(p.closing) })
}

func (p *Producer) unregister(ctx context.Context) error {
	var errs []error
	for _, sp := range p.stations {
		p.conn.releaseSchema(sp.internal)
		if p.conn.isClosed() {
			continue
		}
		err := p.conn.requestEmptyOK(ctx, "destroy producer", wire.SubjProducerDestroy, destroyProducerReq{
			Name: p.name, StationName: sp.name, Username: p.conn.username,
			ConnectionID: p.conn.connID, ReqVersion: 1,
		})
		if err != nil && !strings.Contains(err.Error(), "not exist") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
