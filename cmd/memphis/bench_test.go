package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
)

func benchJSON(t *testing.T, r result) benchReport {
	t.Helper()
	var rep benchReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v in %q", err, r.stdout)
	}
	return rep
}

// checkSide checks one side's counts are exact and its figures consistent.
func checkSide(t *testing.T, name string, s *sideReport, clients, count, size int, latency bool) {
	t.Helper()
	if s == nil {
		t.Fatalf("%s: missing", name)
	}
	if s.Clients != clients || s.Messages != count || s.Failed != 0 || s.Bytes != int64(count*size) || len(s.Errors) != 0 {
		t.Fatalf("%s: %+v", name, s)
	}
	if s.Seconds <= 0 || s.MsgsPerSec <= 0 || (size > 0 && s.MBPerSec <= 0) {
		t.Fatalf("%s: rates %+v", name, s)
	}
	sum := 0
	for _, c := range s.PerClient {
		sum += c.Messages
	}
	if len(s.PerClient) != clients || sum != count {
		t.Fatalf("%s: per client %+v", name, s.PerClient)
	}
	l := s.AckLatency
	if !latency {
		if l != nil {
			t.Fatalf("%s: latency %+v", name, l)
		}
		return
	}
	if l == nil || l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Fatalf("%s: latency %+v", name, l)
	}
}

func TestBenchModes(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	total := 0
	for _, tc := range []struct {
		mode      string
		producers int
	}{{"nonblocking", 1}, {"sync", 2}, {"batch", 3}} {
		t.Run(tc.mode, func(t *testing.T) {
			r := mustCLI(t, e, "", "bench", "produce", "bench-st", "--mode", tc.mode, "--count", "1000",
				"--size", "64", "--producers", itoa(tc.producers), "--produce-batch", "64", "--format", "json")
			rep := benchJSON(t, r)
			if rep.Station != "bench-st" || rep.Count != 1000 || rep.Size == nil || *rep.Size != 64 || rep.Mode != tc.mode || rep.Consumers != nil {
				t.Fatalf("report %+v", rep)
			}
			checkSide(t, "producers", rep.Producers, tc.producers, 1000, 64, true)
			total += 1000
		})
	}
	// The station now holds exactly what was produced: consumers read it.
	r := mustCLI(t, e, "", "bench", "consume", "bench-st", "--count", itoa(total), "--consumers", "3",
		"--batch-size", "100", "--format", "json")
	rep := benchJSON(t, r)
	checkSide(t, "consumers", rep.Consumers, 3, total, 64, false)
	if rep.Producers != nil {
		t.Fatalf("report %+v", rep)
	}
	// One more than the station holds: the consumers give up at the timeout.
	r = cli(t, e, "", "bench", "consume", "bench-st", "--count", itoa(total+1), "--batch-size", "500",
		"--batch-max-wait", "300ms", "--timeout", "3s")
	wantExit(t, r, exitFailed, "consumers: "+itoa(total)+" of "+itoa(total+1)+" messages received")
}

func TestBenchBoth(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	// Old messages in the station: 'both' reads only the ones it produces.
	mustCLI(t, e, "old\nold\n", "produce", "memphis-bench", "-")
	r := mustCLI(t, e, "", "bench", "both", "--count", "3000", "--size", "256", "--producers", "2",
		"--consumers", "2", "--batch-size", "200", "--format", "json")
	rep := benchJSON(t, r)
	if rep.Station != "memphis-bench" || rep.Mode != "nonblocking" {
		t.Fatalf("report %+v", rep)
	}
	checkSide(t, "producers", rep.Producers, 2, 3000, 256, true)
	checkSide(t, "consumers", rep.Consumers, 2, 3000, 256, false)
	// Consumer groups and producers are cleaned up; the messages stay.
	js := jetStream(t, b)
	if d := durables(t, js, "memphis-bench", 1); len(d) != 0 {
		t.Fatalf("groups left: %v", d)
	}
}

func TestBenchTextOutput(t *testing.T) {
	b := startBroker(t)
	r := mustCLI(t, brokerEnv(b), "", "bench", "both", "text-bench", "--count", "500", "--producers", "2")
	for _, want := range []string{
		"station text-bench, 500 messages of 128 B, nonblocking produce\n",
		"producers (2): 500 msgs in ", "consumers (1): 500 msgs in ",
		" msg/s, ", " MB/s", "ack latency: p50 ", ", p90 ", ", p99 ", ", max ",
		"  [1] ", "  [2] ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("%q not in\n%s", want, r.stdout)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench"}, exitUsage, "missing command"},
		{[]string{"bench", "sideways"}, exitUsage, `unknown command "sideways"`},
		{[]string{"bench", "produce", "--count", "0"}, exitUsage, "--count must be at least 1"},
		{[]string{"bench", "produce", "--size", "-1"}, exitUsage, "--size must not be negative"},
		{[]string{"bench", "produce", "--producers", "0"}, exitUsage, "--producers must be at least 1"},
		{[]string{"bench", "produce", "--mode", "turbo"}, exitUsage, "want one of nonblocking, sync, batch"},
		{[]string{"bench", "produce", "--produce-batch", "0"}, exitUsage, "--produce-batch must be at least 1"},
		{[]string{"bench", "produce", "--consumers", "2"}, exitUsage, "flag provided but not defined: -consumers"},
		{[]string{"bench", "consume", "--consumers", "0"}, exitUsage, "--consumers must be at least 1"},
		{[]string{"bench", "consume", "--mode", "sync"}, exitUsage, "flag provided but not defined: -mode"},
		{[]string{"bench", "both", "--from-seq", "2"}, exitUsage, "flag provided but not defined: -from-seq"},
		{[]string{"bench", "both", "--timeout", "-1s"}, exitUsage, "--timeout must not be negative"},
		{[]string{"bench", "both", "a", "b"}, exitUsage, `unexpected argument "b"`},
		{[]string{"bench", "both", "--batch-size", "0"}, exitUsage, "Batch size"},
		{[]string{"bench", "produce", "bad name"}, exitUsage, "Only alphanumeric"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantExit(t, cli(t, e, "", tc.args...), tc.code, tc.want)
		})
	}
}

// Producers that fail do not leave the consumers of 'both' waiting for
// messages that will never come: the run ends and fails at once.
func TestBenchBothProducersFail(t *testing.T) {
	b := startBroker(t, func(o *devbroker.Options) { o.MaxPayload = 1024 })
	r := cli(t, brokerEnv(b), "", "bench", "both", "--count", "50", "--size", "2048", "--format", "json")
	wantExit(t, r, exitFailed, "producers: 0 of 50 messages acknowledged")
	rep := benchJSON(t, r)
	if rep.Producers.Messages != 0 || rep.Producers.Failed != 50 || len(rep.Producers.Errors) != 1 ||
		!strings.Contains(rep.Producers.Errors[0], "payload") || rep.Consumers.Messages != 0 {
		t.Fatalf("report %+v %+v", rep.Producers, rep.Consumers)
	}
}

func TestConsumeQuota(t *testing.T) {
	q := newQuota(context.Background(), 10)
	if a, b := q.reserve(4), q.reserve(8); a != 4 || b != 6 || q.reserve(1) != 0 {
		t.Fatalf("reserved %d, %d", a, b)
	}
	q.remaining.Add(2) // a fetch of 6 brought 4
	q.got(8)
	if q.done() || q.ctx.Err() != nil {
		t.Fatal("done at 8 of 10")
	}
	q.lower(8) // the producers got only 8 through
	if !q.done() || q.reserve(5) != 0 || q.ctx.Err() == nil {
		t.Fatalf("after lower: want %d remaining %d", q.want.Load(), q.remaining.Load())
	}
	q.lower(20) // raising is not lowering
	if q.want.Load() != 8 {
		t.Fatalf("want %d", q.want.Load())
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, unsorted
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(d)
	if *got != (latencySummary{P50: 50, P90: 90, P99: 99, Max: 100}) {
		t.Fatalf("%+v", got)
	}
	if one := percentiles([]time.Duration{3 * time.Millisecond}); *one != (latencySummary{3, 3, 3, 3}) {
		t.Fatalf("%+v", one)
	}
	if d[0] != 100*time.Millisecond {
		t.Fatal("percentiles sorted its input in place")
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q", n, got)
		}
	}
}
