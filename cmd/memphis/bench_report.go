package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// benchReport is what a bench run prints (--format json: this object).
type benchReport struct {
	Station   string      `json:"station"`
	Count     int         `json:"count"`
	Size      *int        `json:"size,omitempty"` // message size, when producing
	Mode      string      `json:"mode,omitempty"`
	Producers *sideReport `json:"producers,omitempty"`
	Consumers *sideReport `json:"consumers,omitempty"`
}

// sideReport sums up the producers or the consumers.
type sideReport struct {
	Clients    int             `json:"clients"`
	Messages   int             `json:"messages"` // acknowledged by the broker / fetched and acknowledged
	Failed     int             `json:"failed"`
	Bytes      int64           `json:"bytes"`
	Seconds    float64         `json:"seconds"`
	MsgsPerSec float64         `json:"msgs_per_sec"`
	MBPerSec   float64         `json:"mb_per_sec"`
	AckLatency *latencySummary `json:"ack_latency_ms,omitempty"`
	PerClient  []clientReport  `json:"per_client"`
	Errors     []string        `json:"errors,omitempty"`
}

type clientReport struct {
	Messages   int     `json:"messages"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
}

// latencySummary holds percentiles in milliseconds.
type latencySummary struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// summarize folds the clients' runs into one side's report. The side's
// time runs from start to its last acknowledgement or message.
func summarize(runs []clientRun, start time.Time, producers bool) *sideReport {
	r := &sideReport{Clients: len(runs)}
	end := start
	var all []time.Duration
	for _, c := range runs {
		r.Messages += c.ok
		r.Bytes += c.bytes
		r.Failed += c.failed
		if c.end.After(end) {
			end = c.end
		}
		all = append(all, c.latency...)
		if c.err != nil {
			r.Errors = append(r.Errors, c.err.Error())
		}
		secs := 0.0
		if !c.end.IsZero() {
			secs = c.end.Sub(start).Seconds()
		}
		r.PerClient = append(r.PerClient, clientReport{
			Messages: c.ok, Seconds: secs,
			MsgsPerSec: rate(float64(c.ok), secs), MBPerSec: rate(float64(c.bytes)/1e6, secs),
		})
	}
	r.Seconds = end.Sub(start).Seconds()
	r.MsgsPerSec = rate(float64(r.Messages), r.Seconds)
	r.MBPerSec = rate(float64(r.Bytes)/1e6, r.Seconds)
	if producers && len(all) > 0 {
		r.AckLatency = percentiles(all)
	}
	return r
}

func rate(n, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return n / secs
}

// percentiles uses the nearest-rank method on a sorted copy.
func percentiles(d []time.Duration) *latencySummary {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p/100*float64(len(s))+0.999999) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	return &latencySummary{P50: at(50), P90: at(90), P99: at(99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (rep *benchReport) write(w io.Writer, format string) error {
	if format == "json" {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "station %s, %s messages", rep.Station, commas(rep.Count))
	if rep.Size != nil {
		fmt.Fprintf(w, " of %d B, %s produce", *rep.Size, rep.Mode)
	}
	fmt.Fprintln(w)
	rep.Producers.writeText(w, "producers")
	rep.Consumers.writeText(w, "consumers")
	return nil
}

func (r *sideReport) writeText(w io.Writer, name string) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "%s (%d): %s msgs in %.3fs: %s msg/s, %.2f MB/s",
		name, r.Clients, commas(r.Messages), r.Seconds, commas(int(r.MsgsPerSec+0.5)), r.MBPerSec)
	if r.Failed > 0 {
		fmt.Fprintf(w, ", %s failed", commas(r.Failed))
	}
	fmt.Fprintln(w)
	if l := r.AckLatency; l != nil {
		fmt.Fprintf(w, "  ack latency: p50 %s, p90 %s, p99 %s, max %s\n",
			fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P99), fmtMs(l.Max))
	}
	if len(r.PerClient) > 1 {
		for i, c := range r.PerClient {
			fmt.Fprintf(w, "  [%d] %s msgs: %s msg/s, %.2f MB/s\n",
				i+1, commas(c.Messages), commas(int(c.MsgsPerSec+0.5)), c.MBPerSec)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func fmtMs(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + "ms" }

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// verdict fails the run when a side did not get all its messages through.
func (rep *benchReport) verdict(cfg benchConfig) error {
	var errs []error
	if p := rep.Producers; p != nil && p.Messages < cfg.count {
		errs = append(errs, fmt.Errorf("producers: %d of %d messages acknowledged", p.Messages, cfg.count))
	}
	if c := rep.Consumers; c != nil && c.Messages < cfg.count {
		errs = append(errs, fmt.Errorf("consumers: %d of %d messages received", c.Messages, cfg.count))
	}
	return errors.Join(errs...)
}
