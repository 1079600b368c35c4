package sdk

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// ConsumerOptions configures CreateConsumer. Start from DefaultConsumerOptions.
type ConsumerOptions struct {
	StationName, Name, Group string // Group "" = the consumer name

	PullInterval time.Duration // pause between batches in the consume loop
	BatchSize    int           // 1..5000
	BatchMaxWait time.Duration // how long one fetch waits for messages
	MaxAckTime   time.Duration // redelivery after this long without ack
	// MaxMsgDeliveries is how often a message is delivered before it
	// becomes a poison message in the dead-letter station (1..10).
	MaxMsgDeliveries int
	// StartConsumeFromSequence (>= 1) and LastMessages (>= -1; -1 = all)
	// choose where a new group starts; they cannot be combined.
	StartConsumeFromSequence uint64
	LastMessages             int64
}

// MaxBatchSize is the largest batch a fetch may ask for.
const MaxBatchSize = 5000

// maxMsgDeliveries is the broker's upper bound of MaxMsgDeliveries.
const maxMsgDeliveries = 10

// DefaultConsumerOptions returns the documented defaults: pull every 1 s,
// batches of 10 waiting up to 5 s, 30 s max ack time, 10 deliveries,
// start from sequence 1 with all messages.
func DefaultConsumerOptions(station, name string) ConsumerOptions {
	return ConsumerOptions{
		StationName:              station,
		Name:                     name,
		PullInterval:             time.Second,
		BatchSize:                10,
		BatchMaxWait:             5 * time.Second,
		MaxAckTime:               30 * time.Second,
		MaxMsgDeliveries:         10,
		StartConsumeFromSequence: 1,
		LastMessages:             -1,
	}
}

func (o *ConsumerOptions) validate(op string) error {
	if err := validateName(op, "Station", o.StationName); err != nil {
		return err
	}
	if err := validateName(op, "Consumer", o.Name); err != nil {
		return err
	}
	if o.Group != "" {
		if err := validateName(op, "Consumer group", o.Group); err != nil {
			return err
		}
	}
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		return newErr(CodeInvalidArgument, op, "Batch size can not be greater than 5000 or less than 1")
	}
	if o.StartConsumeFromSequence < 1 {
		return newErr(CodeInvalidArgument, op, "startConsumeFromSequence has to be a positive number")
	}
	if o.LastMessages < -1 {
		return newErr(CodeInvalidArgument, op, "min value for LastMessages is -1")
	}
	if o.StartConsumeFromSequence > 1 && o.LastMessages > -1 {
		return newErr(CodeInvalidArgument, op, "Consumer creation options can't contain both startConsumeFromSequence and lastMessages")
	}
	if o.PullInterval < 0 || o.BatchMaxWait < 0 || o.MaxAckTime < 0 {
		return newErr(CodeInvalidArgument, op, "durations must not be negative")
	}
	if o.MaxMsgDeliveries < 1 || o.MaxMsgDeliveries > maxMsgDeliveries {
		// The broker would silently turn any other value into 10.
		return newErr(CodeInvalidArgument, op, "max_msg_deliveries must be between 1 and 10")
	}
	return nil
}

// Consumer reads a station as a member of a consumer group. It is safe for
// concurrent use; at most one consume loop runs at a time.
type Consumer struct {
	conn            *Conn
	opts            ConsumerOptions
	name            string // lower-case
	group           string // external group name, lower-case
	internalStation string
	internalGroup   string
	parts           *partitionSet

	dlsSub *nats.Subscription
	dls    dlsBuffer

	mu        sync.Mutex
	userCtx   any
	loop      *consumeLoop
	destroyed bool

	stats  consumerCounters
	dlsLog logLimit // "poison-message buffer full" records
}

// createConsumerReq is the §7.1 request. It is not shared with the broker
// (internal/wire) on purpose: the broker decodes the sequence fields as
// *int64 to detect absence, while the SDK sends StartConsumeFromSequence as
// the uint64 of its public options.
type createConsumerReq struct {
	Name                     string `json:"name"`
	StationName              string `json:"station_name"`
	ConnectionID             string `json:"connection_id"`
	ConsumerType             string `json:"consumer_type"`
	ConsumerGroup            string `json:"consumers_group"`
	MaxAckTimeMillis         int64  `json:"max_ack_time_ms"`
	MaxMsgDeliveries         int    `json:"max_msg_deliveries"`
	Username                 string `json:"username"`
	StartConsumeFromSequence uint64 `json:"start_consume_from_sequence"`
	LastMessages             int64  `json:"last_messages"`
	RequestVersion           int    `json:"req_version"`
	AppID                    string `json:"app_id"`
	SdkLang                  string `json:"sdk_lang"`
}

// createConsumerResp wraps the §7.2 response only to give it errText.
type createConsumerResp struct{ wire.CreateConsumerResp }

func (r *createConsumerResp) errText() string { return r.Error }

// destroyConsumerReq is the §7.5 body shared with the broker (internal/wire).
type destroyConsumerReq = wire.DestroyConsumerReq

// CreateConsumer registers a consumer (a missing station is created by the
// broker with default settings) and subscribes to the group's DLS resends.
func (c *Conn) CreateConsumer(ctx context.Context, opts ConsumerOptions) (*Consumer, error) {
	const op = "create consumer"
	if err := c.checkOpen(op); err != nil {
		return nil, err
	}
	if err := opts.validate(op); err != nil {
		return nil, err
	}
	def := DefaultConsumerOptions("", "")
	if opts.PullInterval == 0 {
		opts.PullInterval = def.PullInterval
	}
	if opts.BatchMaxWait == 0 {
		opts.BatchMaxWait = def.BatchMaxWait
	}
	name := strings.ToLower(opts.Name)
	group := strings.ToLower(opts.Group)
	if group == "" {
		group = name
	}
	var resp createConsumerResp
	err := c.requestJSON(ctx, op, wire.SubjConsumerCreate, createConsumerReq{
		Name:                     name,
		StationName:              opts.StationName,
		ConnectionID:             c.connID,
		ConsumerType:             "application",
		ConsumerGroup:            group,
		MaxAckTimeMillis:         opts.MaxAckTime.Milliseconds(),
		MaxMsgDeliveries:         opts.MaxMsgDeliveries,
		Username:                 c.username,
		StartConsumeFromSequence: opts.StartConsumeFromSequence,
		LastMessages:             opts.LastMessages,
		RequestVersion:           4,
		AppID:                    appID,
		SdkLang:                  wire.SDKLang,
	}, &resp)
	if err != nil {
		return nil, err
	}
	cons := &Consumer{
		conn:            c,
		opts:            opts,
		name:            name,
		group:           group,
		internalStation: internalName(opts.StationName),
		internalGroup:   internalName(group),
	}
	cons.parts = &partitionSet{station: opts.StationName, list: resp.PartitionsUpdate.PartitionsList}
	cons.dls.init()
	c.seedSchema(cons.internalStation, resp.SchemaUpdate)
	if opts.LastMessages > 0 {
		if err := cons.ensureDurables(ctx); err != nil {
			_ = cons.unregister(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	subj := dlsSubject(cons.internalStation, cons.internalGroup)
	// Queue = subject, as both official SDKs do, so exactly one member of
	// the group gets each resend.
	cons.dlsSub, err = c.nc.QueueSubscribe(subj, subj, cons.onDLS)
	if err == nil {
		err = c.track(cons)
	}
	if err != nil {
		cons.shutdown()
		_ = cons.unregister(context.WithoutCancel(ctx))
		return nil, wrapErr(op, err)
	}
	return cons, nil
}

// Name is the consumer's (lower-case) name; Group its group.
func (c *Consumer) Name() string  { return c.name }
func (c *Consumer) Group() string { return c.group }

// Partitions returns the station's partition numbers.
func (c *Consumer) Partitions() []int { return append([]int(nil), c.parts.list...) }

// SetContext sets the value passed to the consume handler.
func (c *Consumer) SetContext(v any) {
	c.mu.Lock()
	c.userCtx = v
	c.mu.Unlock()
}

func (c *Consumer) context() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userCtx
}

// shutdown stops the consume loop and the DLS subscription (no request).
func (c *Consumer) shutdown() {
	c.mu.Lock()
	c.destroyed = true
	loop := c.loop
	c.loop = nil
	c.mu.Unlock()
	if loop != nil {
		loop.stopAndWait()
	}
	if c.dlsSub != nil {
		_ = c.dlsSub.Unsubscribe()
	}
	c.dls.close()
}

// Destroy stops consuming and unregisters the consumer. When it was the
// last active member of its group the broker deletes the group's position.
func (c *Consumer) Destroy(ctx context.Context) error {
	const op = "destroy consumer"
	if c == nil {
		return newErr(CodeInvalidArgument, op, "nil consumer")
	}
	// Check and mark in one step: a second, concurrent Destroy must not
	// release the station's reference-counted schema listener again.
	c.mu.Lock()
	already := c.destroyed
	c.destroyed = true
	c.mu.Unlock()
	if already {
		return nil
	}
	c.shutdown()
	c.conn.untrack(c)
	forget(c.conn, consumerCache, c)
	return c.unregister(ctx)
}

func (c *Consumer) unregister(ctx context.Context) error {
	c.conn.releaseSchema(c.internalStation)
	if c.conn.isClosed() {
		return nil
	}
	err := c.conn.requestEmptyOK(ctx, "destroy consumer", wire.SubjConsumerDestroy, destroyConsumerReq{
		Name: c.name, StationName: c.opts.StationName, Username: c.conn.username,
		ConnectionID: c.conn.connID, ReqVersion: 1,
	})
	if err != nil && strings.Contains(err.Error(), "not exist") {
		return nil
	}
	return err
}

func (c *Consumer) isDestroyed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.destroyed
}

var errConsumerDestroyed = errors.New("consumer is destroyed")
