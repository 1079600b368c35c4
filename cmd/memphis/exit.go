package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/libmemphis/libmemphis/sdk"
)

// Exit codes. Scripts can tell "fix your command line" from "the broker is
// not there" from "the broker said no".
const (
	exitOK      = 0
	exitFailed  = 1 // the operation failed (broker refusal, timeout, fewer messages than asked)
	exitUsage   = 2 // bad command line: unknown command or flag, bad value, rejected option
	exitConnect = 3 // no connection: unreachable, refused credentials, TLS failure, connection lost
)

const exitCodesHelp = `Exit status:
  0  success
  1  the operation failed (the broker refused it, a timeout, fewer messages than --count)
  2  usage error (unknown command or flag, bad value, an option the SDK rejects)
  3  connection error (broker unreachable, wrong credentials, TLS failure, connection lost)
`

// usageError marks a problem with the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return usageError{msg: fmt.Sprintf(format, a...)}
}

// connectError marks a failure to reach or log in to the broker.
type connectError struct{ err error }

func (e connectError) Error() string { return e.err.Error() }
func (e connectError) Unwrap() error { return e.err }

// exitCode maps an error onto the exit status. Option rules live in sdk/:
// the CLI passes values through and reads the verdict from sdk's error
// code, so an invalid-argument error from the SDK is a usage error.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	code := sdk.CodeOf(err)
	switch code {
	case sdk.CodeInvalidArgument, sdk.CodeHeader:
		return exitUsage
	case sdk.CodeUnreachable, sdk.CodeAuth, sdk.CodeTLS, sdk.CodeNotConnected, sdk.CodeClosed:
		return exitConnect
	}
	var ce connectError
	if errors.As(err, &ce) {
		return exitConnect
	}
	return exitFailed
}
