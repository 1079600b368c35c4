package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Control-plane request timing (§1.1): 20 s per attempt, up to 5 resends
// when the attempt timed out.
const (
	requestTimeout = 20 * time.Second
	timeoutRetries = 5
)

// request sends one control-plane request and returns the raw reply; it
// counts the request, and its failure, in the connection's statistics.
func (c *Conn) request(ctx context.Context, op, subject string, body any) ([]byte, error) {
	c.stats.controlRequests.inc()
	data, err := c.requestRaw(ctx, op, subject, body)
	if err != nil {
		c.stats.controlFailures.inc()
	}
	return data, err
}

func (c *Conn) requestRaw(ctx context.Context, op, subject string, body any) ([]byte, error) {
	if err := c.checkOpen(op); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Op: op, Msg: "encoding request", Err: err}
	}
	var lastErr error
	for attempt := 0; attempt <= timeoutRetries; attempt++ {
		actx, cancel := context.WithTimeout(ctx, requestTimeout)
		msg, err := c.requestOnce(actx, subject, payload)
		cancel()
		if err == nil {
			return msg.Data, nil
		}
		lastErr = err
		// Only a timed-out attempt is worth repeating, and only while the
		// caller's own context still allows it.
		if ctx.Err() != nil || !(errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) {
			break
		}
		if attempt < timeoutRetries {
			logAttrs(c.log, slog.LevelWarn, "control request timed out; retrying", slog.String("op", op),
				slog.String("subject", subject), slog.Int("attempt", attempt+1))
		}
	}
	if errors.Is(lastErr, nats.ErrNoResponders) {
		return nil, &Error{Code: CodeBroker, Op: op, Msg: "broker does not serve " + subject + " (is this a Memphis broker?)", Err: lastErr}
	}
	if !c.nc.IsConnected() && !errors.Is(lastErr, context.Canceled) {
		return nil, &Error{Code: CodeNotConnected, Op: op, Msg: "connection to the broker is down", Err: lastErr}
	}
	return nil, wrapErr(op, lastErr)
}

// requestOnce is one request attempt (bounded by ctx). It rides through an
// outage: while the connection is down it waits for the reconnect, and
// right after one it retries "no responders" (the broker's control plane
// may still be starting), instead of failing at once.
func (c *Conn) requestOnce(ctx context.Context, subject string, payload []byte) (*nats.Msg, error) {
	for {
		change := c.linkChanged()
		msg, err := c.nc.RequestWithContext(ctx, subject, payload)
		var wait <-chan time.Time
		switch {
		case err == nil:
			return msg, nil
		case neverLeft(err):
			wait = nil // until the link changes
		case errors.Is(err, nats.ErrNoResponders) && c.unsettled():
			wait = time.After(100 * time.Millisecond)
		default:
			return nil, err
		}
		select {
		case <-change:
		case <-wait:
		case <-ctx.Done():
			return nil, err
		}
	}
}

// requestEmptyOK handles response style A: empty = success, text = error.
func (c *Conn) requestEmptyOK(ctx context.Context, op, subject string, body any) error {
	data, err := c.request(ctx, op, subject, body)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		c.stats.controlFailures.inc()
		return brokerErr(op, string(data))
	}
	return nil
}

// requestJSON handles response styles B and C: a JSON object with an
// "error" field, or (style C failures) plain text.
func (c *Conn) requestJSON(ctx context.Context, op, subject string, body any, out errorCarrier) error {
	data, err := c.request(ctx, op, subject, body)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if jerr := json.Unmarshal(data, out); jerr != nil {
		c.stats.controlFailures.inc()
		return brokerErr(op, string(data))
	}
	if e := out.errText(); e != "" {
		c.stats.controlFailures.inc()
		return brokerErr(op, e)
	}
	return nil
}

type errorCarrier interface{ errText() string }

type errorOnly struct {
	Error string `json:"error"`
}

func (e *errorOnly) errText() string { return e.Error }

// clientsUpdate is the §2.6 broadcast.
type clientsUpdate struct {
	StationName string `json:"station_name"`
	Type        string `json:"type"`
	Update      *bool  `json:"update"`
}

func (c *Conn) onClientsUpdate(m *nats.Msg) {
	var u clientsUpdate
	if json.Unmarshal(m.Data, &u) != nil {
		return
	}
	switch u.Type {
	case "send_notification":
		c.flags.mu.Lock()
		c.flags.sendNotification = u.Update != nil && *u.Update
		c.flags.mu.Unlock()
	case "schemaverse_to_dls":
		c.flags.mu.Lock()
		c.flags.schemaverseToDLS[u.StationName] = u.Update != nil && *u.Update
		c.flags.mu.Unlock()
	case "remove_station":
		c.dropCached(u.StationName)
	}
}

// dropCached forgets one-shot producers/consumers of a removed station so
// the next one-shot call registers afresh.
func (c *Conn) dropCached(internalStation string) {
	prefix := internalStation + "_"
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.producers {
		if strings.HasPrefix(k, prefix) {
			delete(c.producers, k)
		}
	}
	for k := range c.consumers {
		if strings.HasPrefix(k, prefix) {
			delete(c.consumers, k)
		}
	}
}

// SchemaverseToDLS reports the station's "send schema failures to DLS"
// flag as last received from the broker.
func (c *Conn) SchemaverseToDLS(internalStation string) bool {
	c.flags.mu.Lock()
	defer c.flags.mu.Unlock()
	return c.flags.schemaverseToDLS[internalStation]
}

// SendNotification reports the cluster's "notify on schema failures" flag.
func (c *Conn) SendNotification() bool {
	c.flags.mu.Lock()
	defer c.flags.mu.Unlock()
	return c.flags.sendNotification
}

func (c *Conn) setSchemaverseToDLS(internalStation string, v bool) {
	c.flags.mu.Lock()
	c.flags.schemaverseToDLS[internalStation] = v
	c.flags.mu.Unlock()
}
