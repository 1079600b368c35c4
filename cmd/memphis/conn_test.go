package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
)

func TestConnectionFromEnvironmentAndFlags(t *testing.T) {
	// Both methods on: memphis-devbroker enables only the configured ones.
	b := startBroker(t, func(o *devbroker.Options) { o.Password, o.Token = "memphis", "tok-123" })
	port := strconv.Itoa(b.Port())
	for _, tc := range []struct {
		name string
		env  env
		args []string
	}{
		{"env password", env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port, "MEMPHIS_USERNAME": "root", "MEMPHIS_PASSWORD": "memphis"}, nil},
		{"fallback credentials", env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port}, nil},
		{"env token", env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port, "MEMPHIS_TOKEN": "tok-123"}, nil},
		{"env token wins over env password", env{"MEMPHIS_PORT": port, "MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PASSWORD": "wrong", "MEMPHIS_TOKEN": "tok-123"}, nil},
		{"flags only", nil, []string{"--host", "127.0.0.1", "--port", port, "--user", "root", "--password", "memphis"}},
		{"flags override env", env{"MEMPHIS_HOST": "nowhere.invalid", "MEMPHIS_PORT": "abc", "MEMPHIS_PASSWORD": "wrong"},
			[]string{"--host", "127.0.0.1", "--port", port, "--password", "memphis"}},
		{"--token drops env password", env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port, "MEMPHIS_PASSWORD": "wrong"}, []string{"--token", "tok-123"}},
		{"--password drops env token", env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port, "MEMPHIS_TOKEN": "wrong"}, []string{"--password", "memphis"}},
		{"account id", env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port}, []string{"--account-id", "1", "--connect-timeout", "10s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustCLI(t, tc.env, "", append([]string{"station", "create", "conn-check"}, tc.args...)...)
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	b := startBroker(t)
	port := strconv.Itoa(b.Port())
	ok := env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": port}
	closed := env{"MEMPHIS_HOST": "127.0.0.1", "MEMPHIS_PORT": closedPort(t)}
	for _, tc := range []struct {
		name string
		env  env
		args []string
		code int
		want string
	}{
		{"unreachable", closed, []string{"station", "create", "s"}, exitConnect, "unreachable"},
		{"unreachable produce", closed, []string{"produce", "s", "x"}, exitConnect, "unreachable"},
		{"unreachable consume", closed, []string{"consume", "s"}, exitConnect, "unreachable"},
		{"unreachable schema", closed, []string{"schema", "detach", "s"}, exitConnect, "unreachable"},
		{"unreachable bench", closed, []string{"bench", "both"}, exitConnect, "unreachable"},
		{"wrong password", ok, []string{"station", "create", "s", "--password", "nope"}, exitConnect, "credentials"},
		{"wrong token", ok, []string{"station", "create", "s", "--token", "nope"}, exitConnect, "credentials"},
		{"password and token flags", ok, []string{"station", "create", "s", "--token", "a", "--password", "b"}, exitUsage, "connection token / password"},
		{"bad MEMPHIS_PORT", env{"MEMPHIS_PORT": "abc"}, []string{"station", "create", "s"}, exitUsage, `MEMPHIS_PORT="abc" is not a number`},
		{"port out of range", ok, []string{"station", "create", "s", "--port", "70000"}, exitUsage, "port must be between"},
		{"port not a number", ok, []string{"station", "create", "s", "--port", "x"}, exitUsage, "-port"},
		{"empty host", ok, []string{"station", "create", "s", "--host", " "}, exitUsage, "host is required"},
		{"tls cert alone", ok, []string{"station", "create", "s", "--tls-cert", "c.pem"}, exitUsage, "Must provide a TLS key file"},
		{"bad duration", ok, []string{"station", "create", "s", "--connect-timeout", "later"}, exitUsage, "-connect-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantExit(t, cli(t, tc.env, "", tc.args...), tc.code, tc.want)
		})
	}
}

func TestConnectionTLS(t *testing.T) {
	ca := devbrokertest.NewCA(t, "ca")
	caFile := ca.File
	srvCert, srvKey := ca.Issue("server")
	cliCert, cliKey := ca.Issue("client")
	b := startBroker(t, func(o *devbroker.Options) { o.TLSCert, o.TLSKey, o.TLSCA = srvCert, srvKey, caFile })
	e := brokerEnv(b)
	tls := []string{"--tls-cert", cliCert, "--tls-key", cliKey, "--tls-ca", caFile}
	mustCLI(t, e, "", append([]string{"produce", "secure", "over tls"}, tls...)...)
	r := mustCLI(t, e, "", append([]string{"consume", "secure", "--count", "1"}, tls...)...)
	if r.stdout != "over tls\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	// Without a client certificate the broker refuses: a connection error.
	wantExit(t, cli(t, e, "", "produce", "secure", "x"), exitConnect, "")
	otherCA := devbrokertest.NewCA(t, "other").File
	bad := []string{"--tls-cert", cliCert, "--tls-key", cliKey, "--tls-ca", otherCA}
	wantExit(t, cli(t, e, "", append([]string{"produce", "secure", "x"}, bad...)...), exitConnect, "")
}

func TestHelpAndUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"Usage: memphis COMMAND", "station", "produce", "consume", "schema", "bench", "Exit status:", "MEMPHIS_HOST"}},
		{[]string{"help"}, []string{"Usage: memphis COMMAND"}},
		{[]string{"station", "-h"}, []string{"Usage: memphis station COMMAND", "create", "destroy"}},
		{[]string{"station", "create", "-h"}, []string{"Usage: memphis station create NAME", "-partitions-number int", "-retention-type string", "(default \"message_age_sec\")", "-send-poison-msg-to-dls", "-host string", "Exit status:"}},
		{[]string{"produce", "--help"}, []string{"STATION DATA|-", "-header KEY=VALUE", "-msg-id", "-key", "-partition", "-max-in-flight"}},
		{[]string{"consume", "-h"}, []string{"-group", "-count", "-from-seq", "-last", "-format format", "data_base64"}},
		{[]string{"schema", "create", "-h"}, []string{"NAME --type TYPE FILE|-"}},
		{[]string{"bench", "both", "-h"}, []string{"-producers", "-consumers", "-size", "-mode mode", "-produce-batch", "p50, p90, p99"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := cli(t, nil, "", tc.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Fatalf("%q not in\n%s", w, r.stdout)
				}
			}
		})
	}
	r := cli(t, nil, "")
	wantExit(t, r, exitUsage, "missing command")
	if !strings.Contains(r.stderr, "Usage: memphis COMMAND") {
		t.Fatalf("stderr %q", r.stderr)
	}
	wantExit(t, cli(t, nil, "", "publish"), exitUsage, `memphis: unknown command "publish"`)
}
