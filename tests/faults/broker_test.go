// Package faults is the fault-injection suite: memphis-devbroker runs as a
// real child process on a free port and is killed (SIGKILL), paused
// (SIGSTOP/SIGCONT) and restarted on the same data directory at random
// points while the Go client produces and consumes. Every test prints its
// figures; the random points come from a seed printed at the start and
// replayed with FAULT_SEED=<seed>.
package faults

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

var (
	brokerBin string // memphis-devbroker, built by TestMain
	seed      uint64
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv("FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAULT_SEED=%q is not a number\n", s)
			return 2
		}
		seed = v
	}
	fmt.Printf("fault seed %d (replay with FAULT_SEED=%d)\n", seed, seed)
	brokerBin = os.Getenv("MEMPHIS_DEVBROKER")
	if brokerBin == "" {
		dir, err := os.MkdirTemp("", "memphis-faults-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer os.RemoveAll(dir)
		brokerBin = filepath.Join(dir, "memphis-devbroker")
		// Built without -race: the broker is the system under fault, not
		// under test.
		cmd := exec.Command("go", "build", "-o", brokerBin, "github.com/libmemphis/libmemphis/cmd/memphis-devbroker")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building memphis-devbroker:", err)
			return 2
		}
	}
	code := m.Run()
	// Printed by TestMain, outside any test, so that the figures show in
	// the suite's log even when every test passed.
	figures.mu.Lock()
	defer figures.mu.Unlock()
	for _, line := range figures.lines {
		fmt.Println(line)
	}
	return code
}

// figures collects each test's printed figures (see figure).
var figures struct {
	mu    sync.Mutex
	lines []string
}

// figure records one line of figures: "faults: <what>: ...".
func figure(format string, args ...any) {
	figures.mu.Lock()
	defer figures.mu.Unlock()
	figures.lines = append(figures.lines, fmt.Sprintf(format, args...))
}

// rng is the test's random source, derived from the suite's seed and the
// test's name so that each test replays alone too.
func rng(t testing.TB) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// broker is a memphis-devbroker child process.
type broker struct {
	t       testing.TB
	dir     string
	host    string
	port    int
	args    []string // more flags (a cluster node's)
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool

	// launched is the process started by launch, until it is ready.
	launched       *exec.Cmd
	launchedExited chan struct{}
}

// startBroker starts a broker with args added to its flags.
func startBroker(t testing.TB, args ...string) *broker {
	t.Helper()
	b := &broker{t: t, dir: t.TempDir(), args: args}
	b.spawn()
	t.Cleanup(func() {
		if b.cmd != nil {
			_ = b.cmd.Process.Signal(syscall.SIGCONT)
			b.signal(syscall.SIGKILL)
		}
	})
	return b
}

// spawn starts the broker on b.port (0: a free one) and b.dir, and waits
// until it accepts connections.
func (b *broker) spawn() {
	b.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b.launch()
		if b.awaitReady(deadline) {
			return
		}
		// Exited: a just-freed port may still be busy; retry.
		time.Sleep(100 * time.Millisecond)
	}
}

// launch starts the process without waiting for it (cluster nodes are
// ready only once a majority of them runs).
func (b *broker) launch() {
	t := b.t
	t.Helper()
	ready := filepath.Join(b.dir, "ready")
	_ = os.Remove(ready)
	logf, err := os.OpenFile(filepath.Join(b.dir, "broker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args := append([]string{"--port", strconv.Itoa(b.port), "--data-dir", filepath.Join(b.dir, "data"), "--ready-file", ready}, b.args...)
	cmd := exec.Command(brokerBin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Dies with the test process, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start broker: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.launched, b.launchedExited = cmd, exited
}

// awaitReady waits for the launched process's ready file: true once it
// accepts connections, false if it exited first. It fails the test at
// deadline.
func (b *broker) awaitReady(deadline time.Time) bool {
	t := b.t
	t.Helper()
	ready := filepath.Join(b.dir, "ready")
	cmd, exited := b.launched, b.launchedExited
	for {
		if data, err := os.ReadFile(ready); err == nil {
			host, port, err := net.SplitHostPort(strings.TrimSpace(string(data)))
			if err == nil {
				b.host = host
				b.port, _ = strconv.Atoi(port)
				b.cmd, b.exited, b.stopped = cmd, exited, false
				b.launched, b.launchedExited = nil, nil
				return true
			}
		}
		select {
		case <-exited:
			if time.Now().After(deadline) {
				t.Fatalf("broker keeps exiting at start; see %s/broker.log", b.dir)
			}
			return false
		case <-time.After(20 * time.Millisecond):
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("broker not ready after 2 minutes; see %s/broker.log", b.dir)
			}
		}
	}
}

// signal sends sig and, for SIGKILL/SIGTERM, waits for the process to end.
func (b *broker) signal(sig syscall.Signal) {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		select {
		case <-b.exited:
		case <-time.After(time.Minute):
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
		b.cmd = nil
	}
}

// kill ends the broker with SIGKILL: no goodbye, no flush.
func (b *broker) kill() { b.signal(syscall.SIGKILL) }

// restart starts it again on the same port and data directory.
func (b *broker) restart() { b.spawn() }

// pause stops the process (SIGSTOP) and waits until it really is stopped.
func (b *broker) pause() {
	b.t.Helper()
	b.signal(syscall.SIGSTOP)
	deadline := time.Now().Add(10 * time.Second)
	for procState(b.cmd.Process.Pid) != 'T' {
		if time.Now().After(deadline) {
			b.t.Fatal("broker did not stop")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (b *broker) resume() { b.signal(syscall.SIGCONT) }

// procState is the state letter of /proc/PID/stat ('T': stopped).
func procState(pid int) byte {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return '?'
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 || i+2 >= len(data) {
		return '?'
	}
	return data[i+2]
}

// connect opens a client connection that reconnects forever with the
// documented default interval (the client probes the port in between).
func (b *broker) connect(t testing.TB, mods ...func(*sdk.ConnectOptions)) *sdk.Conn {
	t.Helper()
	o := sdk.DefaultConnectOptions()
	o.Host, o.Port = b.host, b.port
	o.Username, o.Password = "root", "memphis"
	o.MaxReconnect = -1
	o.Timeout = 5 * time.Second
	for _, m := range mods {
		m(&o)
	}
	c, err := sdk.Connect(testCtx(t), o)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seconds formats a duration for the printed figures.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) }
