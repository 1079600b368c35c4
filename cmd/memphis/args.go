package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/libmemphis/libmemphis/sdk"
)

// cmdLine is one command's flag set plus what its help prints.
type cmdLine struct {
	fs    *flag.FlagSet
	path  string // "memphis produce"
	args  string // "STATION [DATA | -]"
	about string // what the command does, one paragraph
	out   io.Writer
	conn  bool // takes the connection flags
}

func newCmdLine(s stdio, path, args, about string) *cmdLine {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.Usage = func() {}
	return &cmdLine{fs: fs, path: path, args: args, about: about, out: s.out}
}

// parse parses flags anywhere among the arguments (the flag package alone
// stops at the first positional argument; "--" still ends the flags) and
// checks the number of positional arguments. -h prints the help.
func (c *cmdLine) parse(args []string, minPos, maxPos int) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.help()
				return nil, err
			}
			return nil, usageError{msg: err.Error()}
		}
		rest := c.fs.Args()
		used := len(args) - len(rest)
		if used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < minPos:
		return nil, usagef("missing argument: want %s", c.args)
	case maxPos >= 0 && len(pos) > maxPos:
		return nil, usagef("unexpected argument %q: want %s", pos[maxPos], c.args)
	}
	return pos, nil
}

func (c *cmdLine) help() {
	w := c.out
	fmt.Fprintf(w, "Usage: %s %s [FLAGS]\n\n%s\n\nFlags:\n", c.path, c.args, c.about)
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
	if c.conn {
		fmt.Fprint(w, "\n", connectionHelp)
	}
	fmt.Fprint(w, "\n", exitCodesHelp)
}

// headerFlag collects repeated --header KEY=VALUE flags. Key rules (no
// $memphis prefix, not empty) are the sdk's; only the shape is checked here.
type headerFlag sdk.Headers

func (h headerFlag) String() string {
	parts := make([]string, 0, len(h))
	for k, v := range h {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (h headerFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	h[k] = v
	return nil
}

// choiceFlag is a string flag limited to a fixed set of CLI choices (the
// output format, the bench mode): those are the CLI's own, not sdk options.
type choiceFlag struct {
	value   string
	choices []string
}

func newChoice(def string, choices ...string) *choiceFlag {
	return &choiceFlag{value: def, choices: choices}
}

func (c *choiceFlag) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choiceFlag) Set(s string) error {
	for _, ch := range c.choices {
		if s == ch {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.choices, ", "))
}
