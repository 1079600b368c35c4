package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/libmemphis/libmemphis/sdk"
)

func TestProduceOneMessageWithOptions(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	mustCLI(t, e, "", "station", "create", "orders", "--partitions-number", "3")
	r := mustCLI(t, e, "", "produce", "orders", `{"id":1}`,
		"--header", "trace=abc", "--header", "kind=a=b", "--msg-id", "order-1", "--partition", "2")
	if r.stdout != "produced 1 message(s) to orders\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	// The same msg-id again is dropped by the station.
	r = mustCLI(t, e, "", "produce", "orders", `{"id":1}`, "--msg-id", "order-1", "--partition", "2")
	if r.stdout != "produced 0 message(s) to orders, 1 duplicate(s) dropped\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	// Flags may come before the arguments too.
	mustCLI(t, e, "", "produce", "--key", "customer-7", "orders", "keyed")

	r = mustCLI(t, e, "", "consume", "orders", "--count", "2", "--format", "json")
	msgs := jsonLines(t, r.stdout)
	if len(msgs) != 2 {
		t.Fatalf("%d messages: %s", len(msgs), r.stdout)
	}
	slices.SortFunc(msgs, func(a, b jsonMessage) int { return strings.Compare(dataOf(b), dataOf(a)) })
	m := msgs[0] // {"id":1} sorts after "keyed"
	if dataOf(m) != `{"id":1}` || m.Partition != 2 || m.Sequence != 1 || m.Station != "orders" || m.TimeSent == nil ||
		m.Headers["trace"] != "abc" || m.Headers["kind"] != "a=b" || m.Headers["msg-id"] != "order-1" {
		t.Fatalf("message %+v", m)
	}
	if dataOf(msgs[1]) != "keyed" || msgs[1].Headers["trace"] != "" {
		t.Fatalf("keyed message %+v", msgs[1])
	}
	// A key always routes to one partition.
	mustCLI(t, e, "", "produce", "--key", "customer-7", "orders", "keyed again")
	r = mustCLI(t, e, "", "consume", "orders", "--count", "3", "--format", "json")
	part := map[string]int{}
	for _, m := range jsonLines(t, r.stdout) {
		part[dataOf(m)] = m.Partition
	}
	if len(part) != 3 || part["keyed"] == 0 || part["keyed"] != part["keyed again"] {
		t.Fatalf("partitions %v", part)
	}
}

func TestProduceStdinLines(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	lines := []string{"one", "", "three\r", "four"}
	r := mustCLI(t, e, strings.Join(lines, "\n"), "produce", "lines", "-", "--header", "src=stdin")
	if r.stdout != "produced 4 message(s) to lines\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = mustCLI(t, e, "", "consume", "lines", "--count", "4", "--format", "json")
	var got []string
	for _, m := range jsonLines(t, r.stdout) {
		got = append(got, dataOf(m))
		if m.Headers["src"] != "stdin" {
			t.Fatalf("headers %v", m.Headers)
		}
	}
	// One message per line, in order, without its line ending (CRLF too).
	if want := []string{"one", "", "three", "four"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Many lines: every one arrives exactly once.
	var sb strings.Builder
	for i := range 2500 {
		fmt.Fprintf(&sb, "m%d\n", i)
	}
	r = mustCLI(t, e, sb.String(), "produce", "many", "-")
	if r.stdout != "produced 2500 message(s) to many\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = mustCLI(t, e, "", "consume", "many", "--count", "2500", "--batch-size", "500")
	text := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(text) != 2500 {
		t.Fatalf("%d lines", len(text))
	}
	seen := map[string]bool{}
	for _, l := range text {
		seen[l] = true
	}
	if len(seen) != 2500 || !seen["m0"] || !seen["m2499"] {
		t.Fatalf("%d distinct lines", len(seen))
	}
}

func TestProduceErrors(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	mustCLI(t, e, "", "station", "create", "p3", "--partitions-number", "3")
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"produce", "p3"}, exitUsage, "missing argument: want STATION DATA|-"},
		{"", []string{"produce", "p3", "a", "b"}, exitUsage, `unexpected argument "b"`},
		{"", []string{"produce", "p3", "x", "--header", "novalue"}, exitUsage, "want KEY=VALUE"},
		{"", []string{"produce", "p3", "x", "--header", "$memphis_x=1"}, exitUsage, "should not start with $memphis"},
		{"", []string{"produce", "p3", "x", "--header", "=v"}, exitUsage, "header key can not be empty"},
		{"", []string{"produce", "p3", "x", "--key", "k", "--partition", "2"}, exitUsage, "both partition number and partition key"},
		{"", []string{"produce", "p3", "x", "--partition", "4"}, exitUsage, "out of range"},
		{"", []string{"produce", "p3", "x", "--partition", "many"}, exitUsage, "-partition"},
		{"", []string{"produce", "p3", "x", "--max-in-flight", "-1"}, exitUsage, "MaxInFlight"},
		{"", []string{"produce", "p3", "x", "--name", "bad name"}, exitUsage, "Only alphanumeric"},
		{"a\nb\n", []string{"produce", "p3", "-", "--msg-id", "1"}, exitUsage, "--msg-id needs a single message"},
		{"a\nb\n", []string{"produce", "p3", "-", "--header", "$memphis=1"}, exitUsage, "line 1: "},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := cli(t, e, tc.stdin, tc.args...)
			wantExit(t, r, tc.code, tc.want)
			if r.stdout != "" {
				t.Fatalf("nothing was produced, yet stdout %q", r.stdout)
			}
		})
	}
	// None of it reached the station.
	r := cli(t, e, "", "consume", "p3", "--count", "1", "--timeout", "1s", "--batch-max-wait", "200ms")
	wantExit(t, r, exitFailed, "received 0 of 1 messages")
}

func TestConsumeGroupsAndStart(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	js := jetStream(t, b)
	var in strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&in, "m%d\n", i)
	}
	mustCLI(t, e, in.String(), "produce", "log", "-")

	lines := func(out string) []string { return strings.Fields(out) }
	// A named group keeps its position across runs.
	r := mustCLI(t, e, "", "consume", "log", "--group", "readers", "--count", "3")
	if got := lines(r.stdout); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("first run %v", got)
	}
	r = mustCLI(t, e, "", "consume", "log", "--group", "readers", "--count", "3")
	if got := lines(r.stdout); !slices.Equal(got, []string{"m4", "m5", "m6"}) {
		t.Fatalf("second run %v", got)
	}
	if got := durables(t, js, "log", 1); !slices.Equal(got, []string{"readers"}) {
		t.Fatalf("durables %v", got)
	}
	// Without --group every run reads from the start and leaves no group.
	for range 2 {
		r = mustCLI(t, e, "", "consume", "log", "--count", "2")
		if got := lines(r.stdout); !slices.Equal(got, []string{"m1", "m2"}) {
			t.Fatalf("fresh group %v", got)
		}
	}
	if got := durables(t, js, "log", 1); !slices.Equal(got, []string{"readers"}) {
		t.Fatalf("durables after fresh groups %v", got)
	}
	r = mustCLI(t, e, "", "consume", "log", "--from-seq", "8", "--count", "3", "--format", "json")
	var seqs []uint64
	for _, m := range jsonLines(t, r.stdout) {
		seqs = append(seqs, m.Sequence)
	}
	if !slices.Equal(seqs, []uint64{8, 9, 10}) {
		t.Fatalf("--from-seq 8: %v", seqs)
	}
	r = mustCLI(t, e, "", "consume", "log", "--last", "2", "--count", "2")
	if got := lines(r.stdout); !slices.Equal(got, []string{"m9", "m10"}) {
		t.Fatalf("--last 2: %v", got)
	}
	// --timeout without --count prints what there is and succeeds.
	r = mustCLI(t, e, "", "consume", "log", "--timeout", "2s", "--batch-max-wait", "200ms")
	if got := lines(r.stdout); len(got) != 10 {
		t.Fatalf("--timeout alone: %v", got)
	}
}

func TestConsumeBinaryDataAsBase64(t *testing.T) {
	b := startBroker(t)
	conn := sdkConn(t, b)
	raw := []byte{0xff, 0x00, 0xfe, '\n'}
	if err := conn.Produce(context.Background(), "bin", "p", raw, sdk.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	r := mustCLI(t, brokerEnv(b), "", "consume", "bin", "--count", "1", "--format", "json")
	m := jsonLines(t, r.stdout)
	if len(m) != 1 || m[0].Data != nil || string(m[0].DataBase64) != string(raw) {
		t.Fatalf("output %s", r.stdout)
	}
	if !strings.Contains(r.stdout, `"data_base64":"/wD+Cg=="`) {
		t.Fatalf("output %s", r.stdout)
	}
}

func TestConsumeErrors(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	mustCLI(t, e, "a\nb\n", "produce", "two", "-")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"consume"}, exitUsage, "missing argument"},
		{[]string{"consume", "two", "--format", "xml"}, exitUsage, "want one of text, json"},
		{[]string{"consume", "two", "--count", "-1"}, exitUsage, "--count must not be negative"},
		{[]string{"consume", "two", "--timeout", "-1s"}, exitUsage, "--timeout must not be negative"},
		{[]string{"consume", "two", "--from-seq", "2", "--last", "1"}, exitUsage, "can't contain both"},
		{[]string{"consume", "two", "--from-seq", "0"}, exitUsage, "startConsumeFromSequence"},
		{[]string{"consume", "two", "--last", "-2"}, exitUsage, "LastMessages"},
		{[]string{"consume", "two", "--batch-size", "0"}, exitUsage, "Batch size"},
		{[]string{"consume", "two", "--group", "bad group"}, exitUsage, "Only alphanumeric"},
		// Fewer messages than --count by the deadline: an operation failure,
		// after printing what did arrive.
		{[]string{"consume", "two", "--count", "3", "--timeout", "1500ms", "--batch-max-wait", "200ms"}, exitFailed, "received 2 of 3 messages"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantExit(t, cli(t, e, "", tc.args...), tc.code, tc.want)
		})
	}
	r := cli(t, e, "", "consume", "two", "--count", "3", "--timeout", "1500ms", "--batch-max-wait", "200ms")
	if r.stdout != "a\nb\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
}

// consumeInBackground runs a consume command in-process while the test
// works on the broker; lines returns what it has printed so far.
func consumeInBackground(t *testing.T, e env, args ...string) (lines func() []string, wait func() result) {
	t.Helper()
	var out, errOut devbrokertest.Output
	done := make(chan int, 1)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	go func() {
		done <- run(ctx, append([]string{"consume"}, args...), stdio{
			in: strings.NewReader(""), out: &out, err: &errOut,
			getenv: func(k string) string { return e[k] },
		})
	}()
	t.Cleanup(cancel)
	lines = func() []string { return strings.Fields(out.String()) }
	wait = func() result {
		code := <-done
		return result{code: code, stdout: out.String(), stderr: errOut.String()}
	}
	return lines, wait
}

func waitLines(t *testing.T, lines func() []string, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for len(lines()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %v printed", lines())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A broker restart in the middle of a consume is waited out: messages from
// before and after it all arrive, once, and the command succeeds.
func TestConsumeSurvivesBrokerRestart(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	mustCLI(t, e, "before-1\nbefore-2\n", "produce", "steady", "-")
	lines, wait := consumeInBackground(t, e, "steady", "--group", "steady-g", "--count", "4",
		"--batch-max-wait", "300ms", "--max-reconnect", "-1", "--reconnect-interval", "100ms")
	waitLines(t, lines, 2)
	b = devbrokertest.Restart(t, b)
	mustCLI(t, brokerEnv(b), "after-1\nafter-2\n", "produce", "steady", "-")
	r := wait()
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := strings.Fields(r.stdout); !slices.Equal(got, []string{"before-1", "before-2", "after-1", "after-2"}) {
		t.Fatalf("got %v", got)
	}
	if !strings.Contains(r.stderr, "waiting for the broker") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

// A broker that stays away ends the consume with the connection exit status
// once the reconnect attempts have run out.
func TestConsumeBrokerGone(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	mustCLI(t, e, "only\n", "produce", "lonely", "-")
	lines, wait := consumeInBackground(t, e, "lonely", "--batch-max-wait", "300ms",
		"--max-reconnect", "2", "--reconnect-interval", "100ms")
	waitLines(t, lines, 1)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	r := wait()
	if r.code != exitConnect || r.stdout != "only\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
