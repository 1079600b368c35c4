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

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("memphis-devbroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.opts.Host, "host", devbroker.DefaultHost, "address to listen on")
	fs.IntVar(&c.opts.Port, "port", 6666, "client port (0 picks a free port)")
	fs.StringVar(&c.opts.DataDir, "data-dir", "./.memphis-data", "directory for messages and metadata")
	fs.BoolVar(&c.opts.Memory, "memory", false, "keep everything in memory, write nothing to disk")
	fs.StringVar(&c.opts.User, "user", devbroker.DefaultUser, "user for password authentication")
	fs.StringVar(&c.opts.Password, "password", devbroker.DefaultPassword, "password for password authentication")
	fs.StringVar(&c.opts.Token, "token", devbroker.DefaultToken, "connection token")
	fs.StringVar(&c.opts.TLSCert, "tls-cert", "", "server certificate (PEM); enables TLS")
	fs.StringVar(&c.opts.TLSKey, "tls-key", "", "server private key (PEM)")
	fs.StringVar(&c.opts.TLSCA, "tls-ca", "", "CA (PEM); when set, clients must present a certificate it signed")
	fs.IntVar(&c.opts.MaxPayload, "max-payload", devbroker.DefaultMaxPayload, "largest message in bytes")
	fs.StringVar(&c.readyFile, "ready-file", "", "write HOST:PORT to this file once accepting connections")
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
	if c.opts.Memory {
		c.opts.DataDir = ""
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
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
