package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/libmemphis/libmemphis/sdk"
)

// consumerHelp documents the sdk.ConsumerOptions fields that become flags.
var consumerHelp = map[string]string{
	"Group":            "consumer group; a named group keeps its position across runs (default: a new group for this run, deleted at exit)",
	"BatchSize":        "messages per fetch; a fetch returns once it has them or --batch-max-wait has passed",
	"BatchMaxWait":     "how long one fetch waits for messages",
	"MaxAckTime":       "redeliver a message not acknowledged within this time",
	"MaxMsgDeliveries": "deliveries before a message becomes a poison message",
}

// consumerSkip are the ConsumerOptions fields a command sets itself, or
// that a fetch loop does not use (PullInterval paces the sdk's own loop).
var consumerSkip = []string{"StationName", "Name", "PullInterval", "StartConsumeFromSequence", "LastMessages"}

// bindStart adds --from-seq and --last, the two ways to choose where a new
// group starts. Using both is an error the sdk reports.
func bindStart(c *cmdLine, o *sdk.ConsumerOptions) {
	c.fs.Uint64Var(&o.StartConsumeFromSequence, "from-seq", o.StartConsumeFromSequence, "a new group starts at this sequence number")
	c.fs.Int64Var(&o.LastMessages, "last", o.LastMessages, "a new group starts with the last N messages (-1 = all)")
}

func runConsume(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "STATION",
		"Consumes STATION and prints each message, then acknowledges it. Text\n"+
			"prints the data and a newline; json prints one object per line:\n"+
			`  {"station","sequence","partition","time_sent","headers","data"}`+"\n"+
			"(data_base64 instead of data when the payload is not UTF-8).\n"+
			"Stops after --count messages, after --timeout, or on Ctrl-C.")
	opts := sdk.DefaultConsumerOptions("", "")
	bindOptions(c.fs, &opts, consumerHelp, consumerSkip...)
	bindStart(c, &opts)
	count := c.fs.Int("count", 0, "stop after this many messages (0 = no limit)")
	timeout := c.fs.Duration("timeout", 0, "stop after this long (0 = no limit); fewer than --count messages by then is a failure")
	format := newChoice("text", "text", "json")
	c.fs.Var(format, "format", "output `format`: text or json")
	cf := addConnFlags(c, s.getenv)
	pos, err := c.parse(args, 1, 1)
	if err != nil {
		return err
	}
	if *count < 0 {
		return usagef("--count must not be negative")
	}
	if *timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	conn, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	opts.StationName, opts.Name = pos[0], uniqueName(cliName)
	ephemeral := opts.Group == ""
	cons, err := conn.CreateConsumer(ctx, opts)
	if err != nil {
		return err
	}
	if ephemeral {
		// Only a group made for this run is deleted: a named group keeps
		// its position for the next run.
		defer func() { _ = cons.Destroy(context.WithoutCancel(ctx)) }()
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	w := bufio.NewWriter(s.out)
	defer w.Flush()
	got, outage := 0, false
	for *count == 0 || got < *count {
		n := opts.BatchSize
		if *count > 0 {
			n = min(n, *count-got)
		}
		msgs, err := cons.Fetch(ctx, n, sdk.PartitionSelector{})
		if perr := printAndAck(ctx, w, pos[0], msgs, format.value); perr != nil {
			return perr
		}
		got += len(msgs)
		if ctx.Err() != nil {
			break
		}
		if sdk.CodeOf(err) == sdk.CodeNotConnected {
			// The connection is reconnecting: wait for it. Once its
			// attempts run out the fetch fails with CodeClosed (exit 3).
			if !outage {
				fmt.Fprintf(s.err, "%s: waiting for the broker: %s\n", path, strings.TrimPrefix(err.Error(), "memphis: "))
			}
			outage = true
			sleepCtx(ctx, outagePause)
			continue
		}
		if err != nil {
			return err
		}
		outage = false
	}
	if *count > 0 && got < *count {
		return fmt.Errorf("received %d of %d messages", got, *count)
	}
	return nil
}

// outagePause paces fetches while the connection is down.
const outagePause = 200 * time.Millisecond

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// printAndAck writes msgs, flushes them out, then acknowledges them: a
// message is acknowledged only once it was printed (at least once).
func printAndAck(ctx context.Context, w *bufio.Writer, station string, msgs []*sdk.Message, format string) error {
	if len(msgs) == 0 {
		return nil
	}
	for _, m := range msgs {
		if err := printMessage(w, station, m, format); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return sdk.AckAll(context.WithoutCancel(ctx), msgs)
}

// jsonMessage is one line of --format json.
type jsonMessage struct {
	Station    string            `json:"station"`
	Sequence   uint64            `json:"sequence"`
	Partition  int               `json:"partition"`
	TimeSent   *time.Time        `json:"time_sent,omitempty"`
	Headers    map[string]string `json:"headers"`
	Data       *string           `json:"data,omitempty"`
	DataBase64 []byte            `json:"data_base64,omitempty"`
}

func printMessage(w io.Writer, station string, m *sdk.Message, format string) error {
	data := m.Data()
	if format == "text" {
		if _, err := w.Write(data); err != nil {
			return err
		}
		_, err := w.Write([]byte{'\n'})
		return err
	}
	jm := jsonMessage{Station: station, Sequence: m.SequenceNumber(), Partition: m.Partition(), Headers: m.Headers()}
	if ts := m.TimeSent(); !ts.IsZero() {
		jm.TimeSent = &ts
	}
	if utf8.Valid(data) {
		str := string(data)
		jm.Data = &str
	} else {
		jm.DataBase64 = data
	}
	line, err := json.Marshal(jm)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	return err
}

// uniqueName is prefix plus a random suffix: consumer names must be unique
// per connection, and a default group must not collide with another run's.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + "-" + hex.EncodeToString(b[:])
}
