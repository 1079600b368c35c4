package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	if o.Host != "127.0.0.1" || o.Port != 6666 || o.DataDir != "./.memphis-data" || o.Memory ||
		o.User != "root" || o.Password != "memphis" || o.Token != "memphis" || o.MaxPayload != 8<<20 || c.readyFile != "" {
		t.Fatalf("defaults %+v", c)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, args := range [][]string{{"--port", "-1"}, {"--port", "70000"}, {"--max-payload", "0"}, {"extra"}, {"--nope"}} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// syncBuffer is a goroutine-safe stdout for run.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunReadyFileAndSignalShutdown(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--port", "0", "--data-dir", filepath.Join(dir, "data"), "--ready-file", ready}, &out, &out)
	}()
	var addr string
	deadline := time.Now().Add(2 * time.Minute)
	for addr == "" {
		if time.Now().After(deadline) {
			t.Fatal("ready file never appeared")
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v", err)
		default:
		}
		if b, err := os.ReadFile(ready); err == nil {
			addr = string(b)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("ready file holds %q", addr)
	}
	for !strings.Contains(out.String(), "memphis-devbroker listening on "+addr+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("stdout %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	nc, err := nats.Connect("nats://"+addr, nats.Name("id::root"), nats.UserInfo("root$1", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no shutdown after SIGTERM")
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Fatalf("ready file left behind: %v", err)
	}
}
