package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/memphis once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "memphis-cli-test"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "memphis"), ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "memphis")
}

// exe runs the built binary with the broker's address in its environment.
func exe(t *testing.T, b *devbroker.Broker, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "MEMPHIS_HOST=127.0.0.1", "MEMPHIS_USERNAME=root", "MEMPHIS_PASSWORD=memphis",
		"MEMPHIS_TOKEN=", "MEMPHIS_PORT="+strconv.Itoa(b.Port()))
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestBinaryEndToEnd(t *testing.T) {
	b := startBroker(t)
	if r := exe(t, b, "", "station", "create", "e2e", "--partitions-number", "2"); r.code != 0 || r.stdout != "station e2e created\n" {
		t.Fatalf("%+v", r)
	}
	var in strings.Builder
	for i := range 200 {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	r := exe(t, b, in.String(), "produce", "e2e", "-", "--header", "via=binary")
	if r.code != 0 || r.stdout != "produced 200 message(s) to e2e\n" {
		t.Fatalf("%+v", r)
	}
	r = exe(t, b, "", "consume", "e2e", "--count", "200", "--format", "json", "--batch-size", "50")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	seen := map[string]bool{}
	perPartition := map[int]int{}
	for _, m := range jsonLines(t, r.stdout) {
		if m.Headers["via"] != "binary" || m.Sequence == 0 {
			t.Fatalf("message %+v", m)
		}
		seen[dataOf(m)] = true
		perPartition[m.Partition]++
	}
	if len(seen) != 200 || perPartition[1] == 0 || perPartition[2] == 0 || perPartition[1]+perPartition[2] != 200 {
		t.Fatalf("%d distinct, per partition %v", len(seen), perPartition)
	}
	r = exe(t, b, "", "bench", "both", "e2e-bench", "--count", "400", "--format", "json")
	var rep benchReport
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil {
		t.Fatalf("%+v", r)
	}
	checkSide(t, "producers", rep.Producers, 1, 400, 128, true)
	checkSide(t, "consumers", rep.Consumers, 1, 400, 128, false)
	r = exe(t, b, "", "stats", "--compact")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	validStats(t, r.stdout)
	if r := exe(t, b, "", "station", "destroy", "e2e"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestBinaryExitCodes(t *testing.T) {
	b := startBroker(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, exitOK, ""},
		{[]string{"produce"}, exitUsage, "missing argument"},
		{[]string{"consume", "x", "--format", "yaml"}, exitUsage, "want one of text, json"},
		{[]string{"station", "create", "x", "--port", closedPort(t)}, exitConnect, "unreachable"},
		{[]string{"station", "create", "x", "--password", "wrong"}, exitConnect, "credentials"},
		{[]string{"consume", "empty", "--count", "1", "--timeout", "1s", "--batch-max-wait", "200ms"}, exitFailed, "received 0 of 1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := exe(t, b, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "panic") {
				t.Fatalf("exit %d (want %d), stderr %q", r.code, tc.code, r.stderr)
			}
		})
	}
}

// An interrupted consume without --count is a normal end: what was printed
// was acknowledged, and the exit status is 0.
func TestBinaryConsumeStopsOnInterrupt(t *testing.T) {
	b := startBroker(t)
	if r := exe(t, b, "a\nb\n", "produce", "sig", "-"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	cmd := exec.Command(binary(t), "consume", "sig", "--group", "sig-group", "--batch-max-wait", "200ms")
	cmd.Env = append(os.Environ(), "MEMPHIS_HOST=127.0.0.1", "MEMPHIS_PORT="+strconv.Itoa(b.Port()),
		"MEMPHIS_USERNAME=root", "MEMPHIS_PASSWORD=memphis", "MEMPHIS_TOKEN=")
	var out devbrokertest.Output
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	for out.String() != "a\nb\n" {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v, stderr %q", err, errOut.String())
	}
	// Both messages were acknowledged: the named group has nothing left.
	r := exe(t, b, "", "consume", "sig", "--group", "sig-group", "--count", "1", "--timeout", "1s", "--batch-max-wait", "200ms")
	if r.code != exitFailed || r.stdout != "" {
		t.Fatalf("%+v", r)
	}
}

// The CLI is a program on sdk/: it must not link the C API or the broker.
func TestImportsOnlySDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/capi", "/devbroker", "nats-server"} {
			if strings.Contains(dep, banned) {
				t.Errorf("cmd/memphis depends on %s", dep)
			}
		}
	}
	if !strings.Contains(string(out), "github.com/libmemphis/libmemphis/sdk\n") {
		t.Fatal("go list shows no sdk dependency")
	}
}
