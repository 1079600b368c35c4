// Command memphis-devbroker runs a local Memphis-compatible broker: an
// embedded NATS server with JetStream plus the Memphis SDK control plane.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/libmemphis/libmemphis/devbroker"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "memphis-devbroker:", err)
		os.Exit(1)
	}
}

// config holds the command line.
type config struct {
	opts      devbroker.Options
	readyFile string
}

// Environment variables that supply credentials when the matching flags
// are absent (a password on the command line is visible to "ps").
const (
	envUser     = "MEMPHIS_DEVBROKER_USER"
	envPassword = "MEMPHIS_DEVBROKER_PASSWORD"
	envToken    = "MEMPHIS_DEVBROKER_TOKEN"
)

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (config, error) {
	var c config
	var passwordFile, tokenFile, routes, sync string
	fs := flag.NewFlagSet("memphis-devbroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.opts.Host, "host", devbroker.DefaultHost, "address to listen on")
	fs.IntVar(&c.opts.Port, "port", 6666, "client port (0 picks a free port)")
	fs.StringVar(&c.opts.DataDir, "data-dir", "./.memphis-data", "directory for messages and metadata")
	fs.BoolVar(&c.opts.Memory, "memory", false, "keep everything in memory, write nothing to disk")
	fs.StringVar(&c.opts.User, "user", "", "user for password authentication (default root; env "+envUser+")")
	fs.StringVar(&c.opts.Password, "password", "", "password for password authentication (env "+envPassword+")")
	fs.StringVar(&passwordFile, "password-file", "", "read the password from this file")
	fs.StringVar(&c.opts.Token, "token", "", "connection token (env "+envToken+")")
	fs.StringVar(&tokenFile, "token-file", "", "read the connection token from this file")
	fs.StringVar(&c.opts.TLSCert, "tls-cert", "", "server certificate (PEM); enables TLS")
	fs.StringVar(&c.opts.TLSKey, "tls-key", "", "server private key (PEM)")
	fs.StringVar(&c.opts.TLSCA, "tls-ca", "", "CA (PEM); when set, clients must present a certificate it signed")
	fs.IntVar(&c.opts.MaxPayload, "max-payload", devbroker.DefaultMaxPayload, "largest message in bytes")
	fs.StringVar(&c.readyFile, "ready-file", "", "write HOST:PORT to this file once accepting connections")
	fs.StringVar(&c.opts.ServerName, "server-name", "", "this node's name, unique in the cluster and kept across restarts (default: derived from host and port)")
	fs.StringVar(&c.opts.ClusterName, "cluster-name", devbroker.DefaultClusterName, "the cluster's name")
	fs.IntVar(&c.opts.ClusterPort, "cluster-port", 0, "port for routes from the other nodes (0: no cluster)")
	fs.StringVar(&routes, "routes", "", "the nodes to join: nats-route://HOST:PORT[,...] (their cluster ports)")
	fs.StringVar(&c.opts.Advertise, "advertise", "", "HOST:PORT clients are told to reconnect to (default: the listen address)")
	fs.StringVar(&sync, "sync", devbroker.FormatSync(false, devbroker.DefaultSyncInterval), "fsync of stored messages: always (before every ack) or an interval such as 1s, 2m")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.opts.Port < 0 || c.opts.Port > 65535 {
		return c, fmt.Errorf("--port %d is out of range 0..65535", c.opts.Port)
	}
	if c.opts.MaxPayload <= 0 {
		return c, fmt.Errorf("--max-payload must be positive, got %d", c.opts.MaxPayload)
	}
	if c.opts.ClusterPort < 0 || c.opts.ClusterPort > 65535 {
		return c, fmt.Errorf("--cluster-port %d is out of range 0..65535", c.opts.ClusterPort)
	}
	if routes != "" {
		if c.opts.ClusterPort == 0 {
			return c, errors.New("--routes needs --cluster-port")
		}
		c.opts.Routes = strings.Split(routes, ",")
	}
	var err error
	if c.opts.SyncAlways, c.opts.SyncInterval, err = devbroker.ParseSync(sync); err != nil {
		return c, fmt.Errorf("--sync: %w", err)
	}
	if c.opts.Password, err = credential("password", c.opts.Password, passwordFile, getenv(envPassword)); err != nil {
		return c, err
	}
	if c.opts.Token, err = credential("token", c.opts.Token, tokenFile, getenv(envToken)); err != nil {
		return c, err
	}
	if c.opts.User == "" {
		c.opts.User = getenv(envUser)
	}
	if c.opts.Memory {
		c.opts.DataDir = ""
	}
	return c, nil
}

// credential picks one credential from its flag, its file flag or its
// environment variable, in that order; giving both the flag and the file
// is an error. A file holds the secret alone; trailing line breaks are
// dropped, any other byte is part of it.
func credential(what, flagValue, file, env string) (string, error) {
	if file == "" {
		if flagValue != "" {
			return flagValue, nil
		}
		return env, nil
	}
	if flagValue != "" {
		return "", fmt.Errorf("--%s and --%s-file both given; use one", what, what)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", what, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("--%s-file %s is empty", what, file)
	}
	return v, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	c.opts.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := devbroker.Start(ctx, c.opts)
	if err != nil {
		return err
	}
	// Print before writing the ready file: a fixture that waits for the
	// file may show the log's first line right away.
	fmt.Fprintf(stdout, "memphis-devbroker listening on %s\n", b.Addr())
	if c.opts.ClusterPort > 0 {
		o := b.Options()
		fmt.Fprintf(stdout, "memphis-devbroker node %s of cluster %s, routes on port %d\n", o.ServerName, o.ClusterName, o.ClusterPort)
	}
	if c.readyFile != "" {
		if err := writeReadyFile(c.readyFile, b.Addr()); err != nil {
			_ = b.Stop()
			return err
		}
	}
	<-ctx.Done()
	if c.readyFile != "" {
		_ = os.Remove(c.readyFile)
	}
	return b.Stop()
}

// writeReadyFile writes addr through a temp file and a rename so a reader
// polling for the file never sees it half written.
func writeReadyFile(path, addr string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	if _, err := tmp.WriteString(addr); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("ready file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ready file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}
