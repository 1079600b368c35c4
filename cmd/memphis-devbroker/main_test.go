package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
)

func noEnv(string) string { return "" }

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, &bytes.Buffer{}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	// Credentials stay unset: the broker then applies the documented
	// defaults (and warns about them).
	if o.Host != "127.0.0.1" || o.Port != 6666 || o.DataDir != "./.memphis-data" || o.Memory ||
		o.User != "" || o.Password != "" || o.Token != "" || o.MaxPayload != 8<<20 || c.readyFile != "" {
		t.Fatalf("defaults %+v", c)
	}
	// No cluster; fsync every second.
	if o.ServerName != "" || o.ClusterName != "memphis" || o.ClusterPort != 0 || o.Routes != nil || o.Advertise != "" ||
		o.SyncAlways || o.SyncInterval != time.Second {
		t.Fatalf("cluster and sync defaults %+v", o)
	}
}

func TestParseClusterFlags(t *testing.T) {
	c, err := parseFlags([]string{"--server-name", "n1", "--cluster-name", "c", "--cluster-port", "6222",
		"--routes", "nats-route://127.0.0.1:6222,nats-route://127.0.0.1:6223", "--advertise", "broker.example:6666",
		"--sync", "always"}, &bytes.Buffer{}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	if o.ServerName != "n1" || o.ClusterName != "c" || o.ClusterPort != 6222 || len(o.Routes) != 2 ||
		o.Routes[1] != "nats-route://127.0.0.1:6223" || o.Advertise != "broker.example:6666" || !o.SyncAlways {
		t.Fatalf("%+v", o)
	}
	if c, err = parseFlags([]string{"--sync", "250ms"}, &bytes.Buffer{}, noEnv); err != nil || c.opts.SyncInterval != 250*time.Millisecond {
		t.Fatalf("--sync 250ms: %v %+v", err, c.opts)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--port", "-1"}, {"--port", "70000"}, {"--max-payload", "0"}, {"extra"}, {"--nope"},
		{"--password-file", filepath.Join(dir, "missing")},
		{"--token-file", empty},
		{"--password", "x", "--password-file", secret},
		{"--token", "x", "--token-file", secret},
		{"--routes", "nats-route://127.0.0.1:6222"}, // no --cluster-port
		{"--cluster-port", "-1"}, {"--cluster-port", "70000"},
		{"--sync", "never"}, {"--sync", "0s"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}, noEnv); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestCredentialSources(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("from file \r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := filepath.Join(dir, "tok")
	if err := os.WriteFile(tok, []byte("tok-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envUser: "envuser", envPassword: "envpass", envToken: "envtok"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		args                  []string
		getenv                func(string) string
		user, password, token string
	}{
		{nil, getenv, "envuser", "envpass", "envtok"},
		{[]string{"--user", "bob", "--password", "flagpass"}, getenv, "bob", "flagpass", "envtok"},
		// Only the trailing line break goes; the inner and trailing space stay.
		{[]string{"--password-file", pw, "--token-file", tok}, getenv, "envuser", "from file ", "tok-file"},
		{[]string{"--token", "t"}, noEnv, "", "", "t"},
	}
	for _, tc := range cases {
		c, err := parseFlags(tc.args, &bytes.Buffer{}, tc.getenv)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.opts.User != tc.user || c.opts.Password != tc.password || c.opts.Token != tc.token {
			t.Errorf("%v: got user %q password %q token %q", tc.args, c.opts.User, c.opts.Password, c.opts.Token)
		}
	}
}

// runBroker starts run with args plus a free port, a fresh data dir and a
// ready file, and returns the address once the ready file and the
// "listening" line are there. stop sends SIGTERM and checks the clean exit
// and the ready file's removal.
func runBroker(t *testing.T, args ...string) (addr string, out *devbrokertest.Output, stop func()) {
	t.Helper()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	out = &devbrokertest.Output{}
	done := make(chan error, 1)
	all := append([]string{"--port", "0", "--data-dir", filepath.Join(dir, "data"), "--ready-file", ready}, args...)
	go func() { done <- run(all, out, out) }()
	deadline := time.Now().Add(2 * time.Minute)
	for addr == "" {
		if time.Now().After(deadline) {
			t.Fatal("ready file never appeared")
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out.String())
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
	stop = func() {
		t.Helper()
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
	return addr, out, stop
}

// A node of a cluster says which node of which cluster it is. (Its peer
// here is a node started in this process: run serves one per process.)
func TestRunClusterNode(t *testing.T) {
	ports := devbrokertest.FreePorts(t, 3)
	routes := fmt.Sprintf("nats-route://127.0.0.1:%d,nats-route://127.0.0.1:%d", ports[0], ports[1])
	peer := make(chan *devbroker.Broker, 1)
	go func() {
		b, err := devbroker.Start(context.Background(), devbroker.Options{Host: "127.0.0.1", Port: ports[2],
			DataDir: t.TempDir(), ClusterPort: ports[1], ClusterName: "lab", Routes: strings.Split(routes, ",")})
		if err != nil {
			t.Error(err)
		}
		peer <- b
	}()
	_, out, stop := runBroker(t, "--cluster-port", strconv.Itoa(ports[0]), "--routes", routes,
		"--server-name", "n1", "--cluster-name", "lab")
	want := fmt.Sprintf("memphis-devbroker node n1 of cluster lab, routes on port %d\n", ports[0])
	if !strings.Contains(out.String(), want) {
		t.Fatalf("stdout %q lacks %q", out.String(), want)
	}
	if b := <-peer; b != nil {
		defer b.Stop() //nolint:errcheck
	}
	stop()
}

func TestRunReadyFileAndSignalShutdown(t *testing.T) {
	addr, out, stop := runBroker(t)
	nc, err := nats.Connect("nats://"+addr, nats.Name("id::root"), nats.UserInfo("root$1", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	// With no credential configured the defaults work, and one line says so.
	if n := strings.Count(out.String(), "default credentials are active"); n != 1 {
		t.Fatalf("want one default-credentials warning, got %d in:\n%s", n, out.String())
	}
	stop()
}

// A password from a file replaces the default password, and since no
// token was configured, token logins (the default "memphis" included) are
// refused. Nothing default is left, so nothing is warned about.
func TestRunPasswordFileOnly(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, out, stop := runBroker(t, "--password-file", pw)
	defer stop()
	dial := func(opts ...nats.Option) error {
		nc, err := nats.Connect("nats://"+addr, append(opts, nats.MaxReconnects(0))...)
		if err == nil {
			nc.Close()
		}
		return err
	}
	if err := dial(nats.Name("id::root"), nats.UserInfo("root$1", "s3cret")); err != nil {
		t.Fatalf("configured password refused: %v", err)
	}
	for name, opt := range map[string]nats.Option{
		"default password": nats.UserInfo("root$1", "memphis"),
		"default token":    nats.Token("memphis"),
	} {
		if err := dial(nats.Name("id::root"), opt); err == nil || !strings.Contains(err.Error(), "Authorization Violation") {
			t.Errorf("%s: got %v, want Authorization Violation", name, err)
		}
	}
	if strings.Contains(strings.ToLower(out.String()), "warning") {
		t.Fatalf("unexpected warning:\n%s", out.String())
	}
}
