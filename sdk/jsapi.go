package sdk

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// jsVerdict is what the JetStream API says about a stream or durable.
type jsVerdict int

const (
	jsFound jsVerdict = iota
	jsStreamMissing
	jsConsumerMissing
	jsUnavailable // the API did not answer: the broker is away, restarting or shutting down
)

// jsLookupWait bounds one JetStream API lookup.
const jsLookupWait = 2 * time.Second

// JetStream API error codes (nats-server errors.json).
const (
	jsErrStreamNotFound   = 10059
	jsErrConsumerNotFound = 10014
)

// jsLookup asks the JetStream API whether stream (and, when durable is not
// empty, that durable consumer of it) exists. "No responders" and silence
// are an unavailable API, never a missing object.
func (c *Conn) jsLookup(ctx context.Context, stream, durable string) jsVerdict {
	subj := "$JS.API.STREAM.INFO." + stream
	if durable != "" {
		subj = "$JS.API.CONSUMER.INFO." + stream + "." + durable
	}
	ctx, cancel := context.WithTimeout(ctx, jsLookupWait)
	defer cancel()
	m, err := c.nc.RequestWithContext(ctx, subj, nil)
	if err != nil {
		return jsUnavailable
	}
	var r struct {
		Error *struct {
			Code    int `json:"code"`
			ErrCode int `json:"err_code"`
		} `json:"error"`
	}
	if json.Unmarshal(m.Data, &r) != nil || r.Error == nil {
		return jsFound
	}
	switch {
	case r.Error.ErrCode == jsErrStreamNotFound:
		return jsStreamMissing
	case r.Error.ErrCode == jsErrConsumerNotFound:
		return jsConsumerMissing
	case r.Error.Code == 503:
		return jsUnavailable
	}
	return jsFound
}

// streamChecks limits checkStream to one lookup per stream at a time and
// per streamCheckEvery.
type streamChecks struct {
	mu   sync.Mutex
	last map[string]time.Time
}

const streamCheckEvery = 500 * time.Millisecond

// checkStream looks up, in the background, the stream of a produce that no
// stream answered. If the stream does not exist the station (or
// partition) is gone, not unavailable: its pending produces fail at once
// with CodeNotFound instead of being retried until their deadline.
func (c *Conn) checkStream(sp *stationProducer, partition int) {
	stream := streamName(sp.internal, partition)
	c.checks.mu.Lock()
	if c.checks.last == nil {
		c.checks.last = map[string]time.Time{}
	}
	if t, ok := c.checks.last[stream]; ok && time.Since(t) < streamCheckEvery {
		c.checks.mu.Unlock()
		return
	}
	c.checks.last[stream] = time.Now().Add(jsLookupWait) // also covers the lookup itself
	c.checks.mu.Unlock()
	go func() {
		v := c.jsLookup(context.Background(), stream, "")
		c.checks.mu.Lock()
		c.checks.last[stream] = time.Now()
		c.checks.mu.Unlock()
		if v != jsStreamMissing {
			return
		}
		c.replies.failProduces(func(e *pubEntry) bool { return e.sp == sp && e.partition == partition },
			&Error{Code: CodeNotFound, Op: opProduce, Msg: "no stream answered: the station (or partition) does not exist"})
	}()
}
