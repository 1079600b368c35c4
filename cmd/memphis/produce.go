package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/libmemphis/libmemphis/sdk"
)

// cliName is the producer name (and the consumer name prefix) of the CLI.
const cliName = "memphis-cli"

// producerHelp documents the sdk.ProducerOptions fields that become flags.
var producerHelp = map[string]string{
	"Name":        "producer name",
	"MaxInFlight": "nonblocking produces awaiting their ack at once; a full window blocks",
	"AckWait":     "how long a produce waits for the broker's acknowledgement",
}

func runProduce(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "STATION DATA|-",
		"Produces DATA as one message, or with - each line of stdin as a message\n"+
			"(without its line ending). Waits for every acknowledgement, then prints\n"+
			"how many messages were stored.")
	popts := sdk.DefaultProducerOptions("", cliName)
	bindOptions(c.fs, &popts, producerHelp, "StationNames")
	var mo sdk.ProduceOptions
	mo.Headers = sdk.Headers{}
	c.fs.StringVar(&mo.PartitionKey, "key", "", "partition key (messages with one key go to one partition)")
	c.fs.IntVar(&mo.PartitionNumber, "partition", 0, "partition number, 1-based (default: round robin)")
	c.fs.StringVar(&mo.MsgID, "msg-id", "", "message id; the station drops a repeated id within its idempotency window (DATA only)")
	c.fs.Var(headerFlag(mo.Headers), "header", "message header `KEY=VALUE` (repeatable)")
	cf := addConnFlags(c, s.getenv)
	pos, err := c.parse(args, 2, 2)
	if err != nil {
		return err
	}
	station, data := pos[0], pos[1]
	if data == "-" && mo.MsgID != "" {
		return usagef("--msg-id needs a single message (DATA): every stdin line would carry the same id")
	}
	conn, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	popts.StationNames = []string{station}
	p, err := conn.CreateProducer(ctx, popts)
	if err != nil {
		return err
	}
	var t tally
	if data == "-" {
		err = produceLines(ctx, p, s.in, mo, &t)
	} else {
		err = t.produce(ctx, p, []byte(data), mo)
	}
	if ferr := p.Flush(ctx); err == nil {
		err = ferr
	}
	derr := p.Destroy(ctx)
	t.wg.Wait()
	if err == nil || t.sent() > 0 {
		t.report(s.out, station)
	}
	if err == nil {
		err = derr
	}
	return err
}

// produceLines produces every line of r. The first message the sdk
// refuses stops the reading; what was sent is still acknowledged.
func produceLines(ctx context.Context, p *sdk.Producer, r io.Reader, mo sdk.ProduceOptions, t *tally) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 || rerr == nil {
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
			if err := t.produce(ctx, p, line, mo); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("reading stdin: %w", rerr)
		}
	}
}

// tally counts delivery outcomes reported on library goroutines.
type tally struct {
	wg                         sync.WaitGroup
	mu                         sync.Mutex
	stored, duplicates, failed int
}

func (t *tally) produce(ctx context.Context, p *sdk.Producer, data []byte, mo sdk.ProduceOptions) error {
	t.wg.Add(1)
	err := p.ProduceAsync(ctx, data, mo, func(d sdk.Delivery) {
		t.mu.Lock()
		switch {
		case d.Err != nil:
			t.failed++
		case d.Duplicate:
			t.duplicates++
		default:
			t.stored++
		}
		t.mu.Unlock()
		t.wg.Done()
	})
	if err != nil {
		t.wg.Done()
	}
	return err
}

func (t *tally) sent() int { return t.stored + t.duplicates + t.failed }

// report prints the outcome once every delivery was reported.
func (t *tally) report(w io.Writer, station string) {
	fmt.Fprintf(w, "produced %d message(s) to %s", t.stored, station)
	if t.duplicates > 0 {
		fmt.Fprintf(w, ", %d duplicate(s) dropped", t.duplicates)
	}
	if t.failed > 0 {
		fmt.Fprintf(w, ", %d failed", t.failed)
	}
	fmt.Fprintln(w)
}
