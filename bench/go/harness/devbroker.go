package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Devbroker is a memphis-devbroker process started for a standalone run.
type Devbroker struct {
	Host   string
	Port   int
	cmd    *exec.Cmd
	dir    string
	exited chan struct{}
}

// DevbrokerPath is $MEMPHIS_DEVBROKER, or build/bin/memphis-devbroker in the
// first directory upwards from the working directory that has one.
func DevbrokerPath() (string, error) {
	if p := os.Getenv("MEMPHIS_DEVBROKER"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "build", "bin", "memphis-devbroker")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("memphis-devbroker not found (run `make broker` or set MEMPHIS_DEVBROKER, or give --host)")
		}
		dir = parent
	}
}

// StartDevbroker starts memphis-devbroker on a free port with an empty data
// directory and waits for its ready file.
func StartDevbroker() (*Devbroker, error) {
	bin, err := DevbrokerPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "memphis-bench-broker-")
	if err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "ready")
	log, err := os.Create(filepath.Join(dir, "broker.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, "--port", "0", "--data-dir", filepath.Join(dir, "data"), "--ready-file", ready)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	b := &Devbroker{cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(b.exited) }()
	deadline := time.After(60 * time.Second)
	for {
		if data, err := os.ReadFile(ready); err == nil && len(strings.TrimSpace(string(data))) > 0 {
			host, port, err := net.SplitHostPort(strings.TrimSpace(string(data)))
			if err != nil {
				b.Stop()
				return nil, fmt.Errorf("ready file %q: %w", data, err)
			}
			b.Host = host
			b.Port, _ = strconv.Atoi(port)
			fmt.Fprintf(os.Stderr, "bench: started memphis-devbroker on %s:%d\n", b.Host, b.Port)
			return b, nil
		}
		select {
		case <-b.exited:
			out, _ := os.ReadFile(filepath.Join(dir, "broker.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("memphis-devbroker exited before it was ready:\n%s", out)
		case <-deadline:
			b.Stop()
			return nil, errors.New("memphis-devbroker not ready after 60 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends the broker (SIGTERM) and removes its data directory.
func (b *Devbroker) Stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	os.RemoveAll(b.dir)
}
