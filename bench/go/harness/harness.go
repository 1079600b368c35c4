// Package harness is what every Go benchmark program of bench/ shares: the
// command line (--host/--port/--user/--password, cells), a memphis-devbroker
// started when no host is given, the measuring clock and the JSON line each
// measured cell prints. The other languages' harnesses (bench/c, bench/python,
// bench/ruby) speak the same protocol; bench/README.md describes it.
package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Scenarios, as named on the command line and in the results.
const (
	Sync    = "sync"    // one synchronous produce after another (per-message latency recorded)
	Async   = "async"   // nonblocking produce, timed until every message is acknowledged
	Batch   = "batch"   // the batch produce call, chunks of BatchSize, until acknowledged
	Fetch   = "fetch"   // fetch BatchSize at a time and acknowledge, from a filled station
	Consume = "consume" // the callback consume loop, acknowledging, from a filled station
	// ConsumeNoAck is the consume loop only reading each message: what the
	// loop itself costs, without the acks' publishes.
	ConsumeNoAck = "consume-noack"
)

// BatchSize is the chunk of the batch scenario and the fetch / consume batch.
const BatchSize = 500

// Config is how to reach the broker.
type Config struct {
	Host     string
	Port     int
	User     string
	Password string
}

// Cell is one measurement: SCENARIO:SIZE:PRODUCERS:COUNT on the command line.
type Cell struct {
	Scenario  string
	Size      int // payload bytes
	Producers int // concurrent producers on one connection (produce scenarios)
	Count     int // messages in total, over all producers
}

// ParseCell reads "scenario:size:producers:count".
func ParseCell(s string) (Cell, error) {
	f := strings.Split(strings.TrimSpace(s), ":")
	if len(f) != 4 {
		return Cell{}, fmt.Errorf("cell %q: want scenario:size:producers:count", s)
	}
	var c Cell
	c.Scenario = f[0]
	nums := []*int{&c.Size, &c.Producers, &c.Count}
	for i, p := range nums {
		v, err := strconv.Atoi(f[i+1])
		if err != nil || v < 1 {
			return Cell{}, fmt.Errorf("cell %q: field %d must be a positive integer", s, i+2)
		}
		*p = v
	}
	switch c.Scenario {
	case Sync, Async, Batch, Fetch, Consume, ConsumeNoAck:
	default:
		return Cell{}, fmt.Errorf("cell %q: unknown scenario %q", s, c.Scenario)
	}
	return c, nil
}

// String is the command-line form of the cell.
func (c Cell) String() string {
	return fmt.Sprintf("%s:%d:%d:%d", c.Scenario, c.Size, c.Producers, c.Count)
}

// Result is the JSON line printed for one cell.
type Result struct {
	Layer       string    `json:"layer"`
	Scenario    string    `json:"scenario"`
	Size        int       `json:"size"`
	Producers   int       `json:"producers"`
	Messages    int       `json:"messages,omitempty"`
	Seconds     float64   `json:"seconds,omitempty"`
	MsgPerS     float64   `json:"msg_per_s,omitempty"`
	CPUUsPerMsg float64   `json:"cpu_us_per_msg,omitempty"`
	LatencyUs   []float64 `json:"latency_us,omitempty"` // quantiles 0, 0.5, ..., 100 %
	Unsupported string    `json:"unsupported,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// Unsupported is returned by a layer for a scenario it has no API for.
type Unsupported string

func (u Unsupported) Error() string { return string(u) }

// Layer measures cells, each on a fresh station it creates and removes.
type Layer interface {
	Run(ctx context.Context, cell Cell, station string) (Result, error)
	Close()
}

// Opener connects a layer.
type Opener func(ctx context.Context, cfg Config) (Layer, error)

// Main parses the command line, connects the chosen layer and measures the
// cells given as arguments, or, with none, one cell per line of stdin
// (bench/run.py drives harnesses that way), printing one JSON line each.
func Main(layers map[string]Opener) {
	os.Exit(run(layers))
}

func run(layers map[string]Opener) int {
	names := make([]string, 0, len(layers))
	for n := range layers {
		names = append(names, n)
	}
	sort.Strings(names)
	var cfg Config
	layerName := flag.String("layer", names[0], "layer to measure: "+strings.Join(names, ", "))
	flag.StringVar(&cfg.Host, "host", "", "broker host (default: start a fresh memphis-devbroker)")
	flag.IntVar(&cfg.Port, "port", 6666, "broker port")
	flag.StringVar(&cfg.User, "user", "root", "user name")
	flag.StringVar(&cfg.Password, "password", "memphis", "password")
	prefix := flag.String("station-prefix", "", "station name prefix (default bench-<layer>-<pid>)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [flags] [scenario:size:producers:count ...]\n", os.Args[0])
		fmt.Fprintln(os.Stderr, "scenarios: sync async batch fetch consume consume-noack; no cells: read them from stdin")
		flag.PrintDefaults()
	}
	flag.Parse()
	open, ok := layers[*layerName]
	if !ok {
		return fail("unknown layer %q (have %s)", *layerName, strings.Join(names, ", "))
	}
	if cfg.Host == "" {
		b, err := StartDevbroker()
		if err != nil {
			return fail("%v", err)
		}
		defer b.Stop()
		cfg.Host, cfg.Port = b.Host, b.Port
	}
	if *prefix == "" {
		*prefix = fmt.Sprintf("bench-%s-%d", stationSafe(*layerName), os.Getpid())
	}
	ctx := context.Background()
	layer, err := open(ctx, cfg)
	if err != nil {
		return fail("%s: connect to %s:%d: %v", *layerName, cfg.Host, cfg.Port, err)
	}
	defer layer.Close()
	out := json.NewEncoder(os.Stdout)
	seq := 0
	measure := func(spec string) error {
		seq++
		res := Result{Layer: *layerName}
		cell, err := ParseCell(spec)
		if err == nil {
			res.Scenario, res.Size, res.Producers = cell.Scenario, cell.Size, cell.Producers
			var r Result
			r, err = layer.Run(ctx, cell, fmt.Sprintf("%s-%d", *prefix, seq))
			if err == nil {
				r.Layer, r.Scenario, r.Size, r.Producers = res.Layer, res.Scenario, res.Size, res.Producers
				res = r
			}
		}
		var u Unsupported
		switch {
		case errors.As(err, &u):
			res.Unsupported = string(u)
		case err != nil:
			res.Error = err.Error()
		}
		return out.Encode(res)
	}
	if flag.NArg() > 0 {
		for _, spec := range flag.Args() {
			if err := measure(spec); err != nil {
				return fail("writing result: %v", err)
			}
		}
		return 0
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if line := strings.TrimSpace(in.Text()); line != "" {
			if err := measure(line); err != nil {
				return fail("writing result: %v", err)
			}
		}
	}
	return 0
}

// stationSafe keeps a name to the characters station names allow.
func stationSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	return 1
}

// Split divides count messages among n producers (the first ones get the
// remainder).
func Split(count, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = count / n
		if i < count%n {
			out[i]++
		}
	}
	return out
}

// Payload is a message of size bytes.
func Payload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}
