package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/libmemphis/libmemphis/sdk"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestStatsPrintsTheConnectionDocument(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	r := mustCLI(t, e, "", "stats")
	if !strings.Contains(r.stdout, "\n  \"version\": 1,\n") {
		t.Fatalf("not an indented document:\n%s", r.stdout)
	}
	var s sdk.ConnStats
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if s.Version != sdk.StatsVersion || !s.Connected || s.Closed || s.Server != b.Addr() || s.ConnectionID == "" ||
		s.Reconnects != 0 || s.ControlRequests != 0 || len(s.Producers) != 0 || len(s.Consumers) != 0 || s.AgeMs < 0 {
		t.Fatalf("stats %+v", s)
	}
	validStats(t, r.stdout)

	// --compact: the same document on one line.
	r = mustCLI(t, e, "", "stats", "--compact")
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, `{"version":1,`) {
		t.Fatalf("compact output %q", r.stdout)
	}
	validStats(t, r.stdout)
}

// validStats checks a document against docs/statistics.schema.json.
func validStats(t *testing.T, doc string) {
	t.Helper()
	f, err := os.Open("../../docs/statistics.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sd, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource("statistics.schema.json", sd); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("statistics.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("not a statistics document: %v\n%s", err, doc)
	}
}

func TestStatsErrors(t *testing.T) {
	b := startBroker(t)
	ok := brokerEnv(b)
	closed := env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": closedPort(t)}
	wantExit(t, cli(t, closed, "", "stats"), exitConnect, "unreachable")
	wantExit(t, cli(t, ok, "", "stats", "extra"), exitUsage, `unexpected argument "extra"`)
	wantExit(t, cli(t, ok, "", "stats", "--password", "nope"), exitConnect, "credentials")
	r := cli(t, ok, "", "stats", "-h")
	if r.code != exitOK || !strings.Contains(r.stdout, "Usage: memphis stats") || !strings.Contains(r.stdout, "--compact") {
		t.Fatalf("help: exit %d\n%s", r.code, r.stdout)
	}
}
