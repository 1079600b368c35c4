// Command memphis pokes a Memphis broker from a shell: create and destroy
// stations, produce and consume messages, manage schemas and measure
// throughput. It is a thin program on sdk/: option defaults come from the
// sdk's Default...Options() and option rules are checked by the sdk.
//
// The command line is parsed with the standard flag package, like
// memphis-devbroker's: a few nested subcommands need no framework, and the
// library module's go.mod (which every sdk user resolves) gains no
// dependency. args.go adds what flag lacks: flags after positional
// arguments, and help that lists arguments, environment and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// stdio is what a command may touch of its process, so tests can run
// commands in-process with buffers and a fake environment.
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
}

// command is one (sub)command. A group has subcommands instead of run.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, s stdio, path string, args []string) error
	sub     []command
}

// commands is the command tree.
var commands = []command{
	{name: "station", summary: "create or destroy a station", sub: []command{
		{name: "create", summary: "create a station (an existing one is left as it is)", run: runStationCreate},
		{name: "destroy", summary: "destroy a station and its messages", run: runStationDestroy},
	}},
	{name: "produce", summary: "produce one message, or one per line of stdin", run: runProduce},
	{name: "consume", summary: "consume messages and print them as text or JSON lines", run: runConsume},
	{name: "schema", summary: "create, attach or detach a schema", sub: []command{
		{name: "create", summary: "create a schema from a file or stdin", run: runSchemaCreate},
		{name: "attach", summary: "enforce a schema on a station", run: runSchemaAttach},
		{name: "detach", summary: "remove the schema from a station", run: runSchemaDetach},
	}},
	{name: "stats", summary: "connect and print the connection's statistics (JSON)", run: runStats},
	{name: "bench", summary: "measure produce and consume throughput and ack latency", sub: []command{
		{name: "produce", summary: "producers only", run: runBenchProduce},
		{name: "consume", summary: "consumers only (reads messages already in the station)", run: runBenchConsume},
		{name: "both", summary: "consumers and producers at once", run: runBenchBoth},
	}},
}

// run executes the command line and returns the process exit status.
func run(ctx context.Context, args []string, s stdio) int {
	path, err := dispatch(ctx, s, "memphis", commands, args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitCode(err)
	}
	msg := strings.TrimPrefix(err.Error(), "memphis: ")
	fmt.Fprintf(s.err, "%s: %s\n", path, msg)
	code := exitCode(err)
	if code == exitUsage {
		fmt.Fprintf(s.err, "Run '%s -h' for usage.\n", path)
	}
	return code
}

// dispatch finds the command named by args[0] in cmds and runs it. It
// returns the command path reached, for error messages.
func dispatch(ctx context.Context, s stdio, path string, cmds []command, args []string) (string, error) {
	if len(args) == 0 {
		printGroupHelp(s.err, path, cmds)
		return path, usagef("missing command")
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		printGroupHelp(s.out, path, cmds)
		return path, flag.ErrHelp
	}
	for _, c := range cmds {
		if c.name != name {
			continue
		}
		sub := path + " " + c.name
		if c.sub != nil {
			return dispatch(ctx, s, sub, c.sub, args[1:])
		}
		return sub, c.run(ctx, s, sub, args[1:])
	}
	return path, usagef("unknown command %q", name)
}

func printGroupHelp(w io.Writer, path string, cmds []command) {
	fmt.Fprintf(w, "Usage: %s COMMAND [ARGS] [FLAGS]\n\nCommands:\n", path)
	names := make([]string, 0, len(cmds))
	width := 0
	for _, c := range cmds {
		names = append(names, c.name)
		width = max(width, len(c.name))
	}
	sort.Strings(names)
	for _, n := range names {
		for _, c := range cmds {
			if c.name == n {
				fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
			}
		}
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND -h' for the command's arguments and flags.\n\n", path)
	fmt.Fprint(w, connectionHelp, "\n", exitCodesHelp)
}
