package sdk

import (
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// StatsVersion is the version of the statistics document (ConnStats and
// its parts, docs/statistics.md). Fields are only ever added within a
// version; a field that changes meaning or unit, or goes away, bumps it.
const StatsVersion = 1

// ConnStats is a snapshot of a connection's statistics: its own counters
// and those of every live producer and consumer on it. Counters count from
// Connect (or from the object's creation) and never go back. Field names
// and units are the JSON document's (docs/statistics.md), which JSON
// renders; the C API and the bindings hand out that same document.
type ConnStats struct {
	Version      int    `json:"version"`
	TimeMs       int64  `json:"time_ms"` // when the snapshot was taken, Unix milliseconds
	ConnectionID string `json:"connection_id"`
	Server       string `json:"server"` // host:port connected to now; "" while disconnected
	Connected    bool   `json:"connected"`
	Closed       bool   `json:"closed"`
	AgeMs        int64  `json:"age_ms"` // since Connect returned

	Reconnects     uint64 `json:"reconnects"`      // successful reconnects
	Disconnects    uint64 `json:"disconnects"`     // connections lost (not counting Close)
	DisconnectedMs int64  `json:"disconnected_ms"` // time without a connection, the current outage included

	// Every message and payload byte on the connection: produces,
	// acknowledgements, pulls, control requests and their replies.
	MsgsOut  uint64 `json:"msgs_out"`
	BytesOut uint64 `json:"bytes_out"`
	MsgsIn   uint64 `json:"msgs_in"`
	BytesIn  uint64 `json:"bytes_in"`

	ControlRequests uint64 `json:"control_requests"` // requests to the broker's control plane (create/destroy station, producer, consumer, schema...)
	ControlFailures uint64 `json:"control_failures"` // of those, the ones that failed (including the broker's refusals)
	SlowConsumers   uint64 `json:"slow_consumers"`   // subscriptions that fell behind and dropped messages (nats.go's slow consumer)
	SchemaUpdates   uint64 `json:"schema_updates"`   // schema changes of used stations received from the broker

	Producers []ProducerStats `json:"producers"` // live producers, by name
	Consumers []ConsumerStats `json:"consumers"` // live consumers, by name
}

// ProducerStats is one producer's part of the statistics. A message
// produced to a multi-station producer counts once per station.
type ProducerStats struct {
	Name     string   `json:"name"`
	Stations []string `json:"stations"`

	// Produced counts every message handed to a produce call (sync,
	// nonblocking or batch), accepted or refused; ProducedBytes their
	// payload bytes. Each gets exactly one result: acknowledged, failed,
	// or still in flight, so Produced == Acked + Failed + InFlight.
	Produced      uint64 `json:"produced"`
	ProducedBytes uint64 `json:"produced_bytes"`
	Acked         uint64 `json:"acked"`      // stored by the broker (duplicates included)
	Duplicates    uint64 `json:"duplicates"` // acknowledged as a duplicate of a stored msg id
	Failed        uint64 `json:"failed"`     // refused by the produce call or failed later
	// FailedByCause splits Failed by status: its keys are the C status
	// names without MEMPHIS_ERR_, in lower case ("timeout",
	// "schema_validation", "unreachable", ...). Causes that never
	// happened are left out.
	FailedByCause map[string]uint64 `json:"failed_by_cause"`
	// Retries is the sum of the reported Delivery.Retries: how often
	// messages were sent again, after a reconnect or an overload answer.
	Retries            uint64 `json:"retries"`
	PossibleDuplicates uint64 `json:"possible_duplicates"` // reported Delivery.PossibleDuplicate
	InFlight           uint64 `json:"in_flight"`           // produced, result not yet reported
	InFlightBytes      uint64 `json:"in_flight_bytes"`     // bytes held in the nonblocking window (payload and headers)
	// AckLatencyUs: from the produce call to the broker's acknowledgement,
	// acknowledged messages only.
	AckLatencyUs Latency `json:"ack_latency_us"`
}

// ConsumerStats is one consumer's part of the statistics.
type ConsumerStats struct {
	Name    string `json:"name"`
	Group   string `json:"group"`
	Station string `json:"station"`

	Fetched      uint64 `json:"fetched"`       // station messages received from the broker
	FetchedBytes uint64 `json:"fetched_bytes"` // their payload bytes
	Redelivered  uint64 `json:"redelivered"`   // of those, delivered by the broker more than once
	DLSMessages  uint64 `json:"dls_messages"`  // poison messages the broker resent to this group
	DLSDropped   uint64 `json:"dls_dropped"`   // resends dropped from the full buffer (they stay in the dead-letter station)
	Delivered    uint64 `json:"delivered"`     // messages handed to the application (consume handler or Fetch)

	Acked        uint64 `json:"acked"`         // acknowledged (confirmed, or sent for AckNoWait)
	AckFailures  uint64 `json:"ack_failures"`  // acks not sent, stale, or not confirmed
	Nacked       uint64 `json:"nacked"`        // Nack
	Delayed      uint64 `json:"delayed"`       // Delay
	DeadLettered uint64 `json:"dead_lettered"` // DeadLetter

	Pulls        uint64 `json:"pulls"`         // pull requests sent to the broker
	EmptyPulls   uint64 `json:"empty_pulls"`   // pulls that ended without a message
	PullFailures uint64 `json:"pull_failures"` // pulls that ended with an error
	// PullLatencyUs: from a pull request to its first message (pulls
	// that got one). HandlerUs: time spent in the consume handler per
	// batch of messages.
	PullLatencyUs Latency `json:"pull_latency_us"`
	HandlerUs     Latency `json:"handler_us"`
}

// JSON renders the snapshot as the statistics document.
func (s *ConnStats) JSON() []byte { return mustJSON(s) }

// JSON renders one producer's part of the statistics document.
func (s *ProducerStats) JSON() []byte { return mustJSON(s) }

// JSON renders one consumer's part of the statistics document.
func (s *ConsumerStats) JSON() []byte { return mustJSON(s) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Plain numbers, strings and maps of them always encode.
		panic("memphis: encoding statistics: " + err.Error())
	}
	return b
}

// causeNames are FailedByCause's keys: the C status names (memphis.h)
// without MEMPHIS_ERR_, in lower case.
var causeNames = [...]string{
	CodeOK:               "ok",
	CodeInvalidArgument:  "invalid_argument",
	CodeNotConnected:     "not_connected",
	CodeTimeout:          "timeout",
	CodeNoMessages:       "no_messages",
	CodeNotFound:         "not_found",
	CodeAlreadyExists:    "already_exists",
	CodeAuth:             "auth",
	CodeTLS:              "tls",
	CodeUnreachable:      "unreachable",
	CodeBroker:           "broker",
	CodeSchemaValidation: "schema_validation",
	CodeHeader:           "header",
	CodeQueueFull:        "queue_full",
	CodeClosed:           "closed",
	CodePayloadTooLarge:  "payload_too_large",
	CodeInternal:         "internal",
}

// connCounters are a connection's own statistics.
type connCounters struct {
	connectedAt time.Time
	reconnects  counter
	disconnects counter
	// downSince is when the current outage began (Unix ns; 0 = none);
	// downTotal sums the ended ones.
	downSince atomic.Int64
	downTotal atomic.Int64

	controlRequests counter
	controlFailures counter
	slowConsumers   counter
	schemaUpdates   counter
}

// linkLost starts an outage.
func (s *connCounters) linkLost() {
	s.disconnects.inc()
	s.downSince.CompareAndSwap(0, time.Now().UnixNano())
}

// linkBack ends the current outage (a reconnect, or the end of the
// connection) and returns how long it lasted.
func (s *connCounters) linkBack() time.Duration {
	since := s.downSince.Swap(0)
	if since == 0 {
		return 0
	}
	d := time.Now().UnixNano() - since
	s.downTotal.Add(d)
	return time.Duration(d)
}

// producerCounters are a producer's statistics. The first group is written
// by producing callers, the second where results arrive (the reply
// dispatcher, or the caller of a sync produce).
type producerCounters struct {
	produced      counter
	producedBytes counter
	_             cacheLinePad
	acked         counter
	duplicates    counter
	failed        counter
	failedBy      [len(causeNames)]counter
	retries       counter
	possibleDups  counter
	ackLatency    histogram
}

// refused counts a message whose produce call failed before it was sent.
func (s *producerCounters) refused(size int, err error) {
	s.produced.inc()
	s.producedBytes.add(uint64(size))
	s.fail(err)
}

func (s *producerCounters) fail(err error) {
	s.failed.inc()
	code := CodeOf(err)
	if code < 0 || int(code) >= len(s.failedBy) {
		code = CodeInternal
	}
	s.failedBy[code].inc()
}

// result counts the final result of a message produced at start.
func (s *producerCounters) result(d *Delivery, start time.Time) {
	if !statsOn {
		return
	}
	if d.Retries > 0 {
		s.retries.add(uint64(d.Retries))
	}
	if d.PossibleDuplicate {
		s.possibleDups.inc()
	}
	if d.Err != nil {
		s.fail(d.Err)
		return
	}
	s.ackLatency.record(time.Since(start))
	if d.Duplicate {
		s.duplicates.inc()
	}
	s.acked.inc()
}

// consumerCounters are a consumer's statistics.
type consumerCounters struct {
	fetched      counter
	fetchedBytes counter
	redelivered  counter
	dlsMessages  counter
	dlsDropped   counter
	delivered    counter
	pulls        counter
	emptyPulls   counter
	pullFailures counter
	pullLatency  histogram
	handler      histogram
	_            cacheLinePad
	// Written by whoever acknowledges (often another goroutine).
	acked        counter
	ackFailures  counter
	nacked       counter
	delayed      counter
	deadLettered counter
}

// Stats returns a snapshot of the connection's statistics, with every live
// producer and consumer. It takes no lock that produce, fetch or ack
// paths take on every message, so it may be called at any rate.
func (c *Conn) Stats() ConnStats {
	now := time.Now()
	s := ConnStats{
		Version:         StatsVersion,
		TimeMs:          now.UnixMilli(),
		ConnectionID:    c.connID,
		AgeMs:           now.Sub(c.stats.connectedAt).Milliseconds(),
		Reconnects:      c.stats.reconnects.load(),
		Disconnects:     c.stats.disconnects.load(),
		ControlRequests: c.stats.controlRequests.load(),
		ControlFailures: c.stats.controlFailures.load(),
		SlowConsumers:   c.stats.slowConsumers.load(),
		SchemaUpdates:   c.stats.schemaUpdates.load() + c.schemaUpdatesSeen(),
		Producers:       []ProducerStats{},
		Consumers:       []ConsumerStats{},
	}
	down := c.stats.downTotal.Load()
	if since := c.stats.downSince.Load(); since != 0 {
		down += now.UnixNano() - since
	}
	s.DisconnectedMs = time.Duration(down).Milliseconds()
	if c.nc != nil {
		s.Connected = c.nc.IsConnected()
		if s.Connected {
			s.Server = c.nc.ConnectedAddr()
		}
		ns := c.nc.Stats()
		s.MsgsOut, s.BytesOut, s.MsgsIn, s.BytesIn = ns.OutMsgs, ns.OutBytes, ns.InMsgs, ns.InBytes
	}
	c.mu.Lock()
	s.Closed = c.closed
	live := make([]any, 0, len(c.live))
	for r := range c.live {
		live = append(live, r)
	}
	c.mu.Unlock()
	for _, r := range live {
		switch v := r.(type) {
		case *Producer:
			s.Producers = append(s.Producers, v.Stats())
		case *Consumer:
			s.Consumers = append(s.Consumers, v.Stats())
		}
	}
	slices.SortFunc(s.Producers, func(a, b ProducerStats) int {
		return cmpStrings(a.Name, b.Name, strings.Join(a.Stations, ","), strings.Join(b.Stations, ","))
	})
	slices.SortFunc(s.Consumers, func(a, b ConsumerStats) int {
		return cmpStrings(a.Name, b.Name, a.Station, b.Station)
	})
	return s
}

func cmpStrings(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

// Stats returns a snapshot of the producer's statistics.
func (p *Producer) Stats() ProducerStats {
	s := &p.stats
	out := ProducerStats{
		Name:          p.name,
		Stations:      make([]string, 0, len(p.stations)),
		FailedByCause: map[string]uint64{},
	}
	for _, sp := range p.stations {
		out.Stations = append(out.Stations, sp.name)
	}
	// Results first, then what was produced: a message counts as produced
	// before its result, so in flight never comes out negative.
	out.Acked = s.acked.load()
	out.Failed = s.failed.load()
	out.Produced = s.produced.load()
	out.ProducedBytes = s.producedBytes.load()
	out.InFlight = out.Produced - min(out.Produced, out.Acked+out.Failed)
	out.Duplicates = s.duplicates.load()
	out.Retries = s.retries.load()
	out.PossibleDuplicates = s.possibleDups.load()
	for code := range s.failedBy {
		if n := s.failedBy[code].load(); n > 0 {
			out.FailedByCause[causeNames[code]] = n
		}
	}
	out.InFlightBytes = uint64(p.win.inFlightBytes())
	out.AckLatencyUs = s.ackLatency.snapshot()
	return out
}

// Stats returns a snapshot of the consumer's statistics.
func (c *Consumer) Stats() ConsumerStats {
	s := &c.stats
	return ConsumerStats{
		Name:          c.name,
		Group:         c.group,
		Station:       c.opts.StationName,
		Fetched:       s.fetched.load(),
		FetchedBytes:  s.fetchedBytes.load(),
		Redelivered:   s.redelivered.load(),
		DLSMessages:   s.dlsMessages.load(),
		DLSDropped:    s.dlsDropped.load(),
		Delivered:     s.delivered.load(),
		Acked:         s.acked.load(),
		AckFailures:   s.ackFailures.load(),
		Nacked:        s.nacked.load(),
		Delayed:       s.delayed.load(),
		DeadLettered:  s.deadLettered.load(),
		Pulls:         s.pulls.load(),
		EmptyPulls:    s.emptyPulls.load(),
		PullFailures:  s.pullFailures.load(),
		PullLatencyUs: s.pullLatency.snapshot(),
		HandlerUs:     s.handler.snapshot(),
	}
}
