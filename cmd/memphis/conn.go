package main

import (
	"context"
	"flag"
	"strconv"

	"github.com/libmemphis/libmemphis/sdk"
)

const connectionHelp = `Connection: commands that talk to the broker take --host, --port, --user,
--password or --token, --account-id, --tls-cert/--tls-key/--tls-ca (mutual
TLS, all three), --connect-timeout, --max-reconnect, --reconnect-interval.
The environment variables MEMPHIS_HOST, MEMPHIS_PORT, MEMPHIS_USERNAME,
MEMPHIS_PASSWORD and MEMPHIS_TOKEN set them too; flags win. With neither:
host localhost, the SDK's default port, user root, password memphis.
`

// The CLI's own fallbacks when neither a flag nor the environment names
// them; they match memphis-devbroker's defaults and the examples.
const (
	fallbackHost     = "localhost"
	fallbackUser     = "root"
	fallbackPassword = "memphis"
)

// connFlags are the connection flags of a command, seeded from the
// environment, which is seeded from sdk.DefaultConnectOptions.
type connFlags struct {
	opts            sdk.ConnectOptions
	password, token string
	envErr          error
	fs              *flag.FlagSet
}

func addConnFlags(c *cmdLine, getenv func(string) string) *connFlags {
	c.conn = true
	cf := &connFlags{opts: sdk.DefaultConnectOptions(), fs: c.fs}
	o := &cf.opts
	o.Host = envOr(getenv, "MEMPHIS_HOST", fallbackHost)
	if p := getenv("MEMPHIS_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			cf.envErr = usagef("MEMPHIS_PORT=%q is not a number", p)
		}
		o.Port = n
	}
	o.Username = envOr(getenv, "MEMPHIS_USERNAME", fallbackUser)
	cf.password = getenv("MEMPHIS_PASSWORD")
	cf.token = getenv("MEMPHIS_TOKEN")

	fs := c.fs
	fs.StringVar(&o.Host, "host", o.Host, "broker host (MEMPHIS_HOST)")
	fs.IntVar(&o.Port, "port", o.Port, "broker client port (MEMPHIS_PORT)")
	fs.StringVar(&o.Username, "user", o.Username, "user name (MEMPHIS_USERNAME)")
	fs.StringVar(&cf.password, "password", cf.password, "password (MEMPHIS_PASSWORD; default memphis when no token is given)")
	fs.StringVar(&cf.token, "token", cf.token, "connection token (MEMPHIS_TOKEN)")
	fs.IntVar(&o.AccountID, "account-id", o.AccountID, "account (tenant) id")
	fs.StringVar(&o.TLSCertFile, "tls-cert", "", "client certificate (PEM)")
	fs.StringVar(&o.TLSKeyFile, "tls-key", "", "client private key (PEM)")
	fs.StringVar(&o.TLSCAFile, "tls-ca", "", "CA certificate (PEM)")
	fs.DurationVar(&o.Timeout, "connect-timeout", o.Timeout, "dial and handshake timeout")
	fs.IntVar(&o.MaxReconnect, "max-reconnect", o.MaxReconnect, "reconnect attempts after a lost connection (-1 = forever)")
	fs.DurationVar(&o.ReconnectInterval, "reconnect-interval", o.ReconnectInterval, "wait between reconnect attempts")
	return cf
}

// options resolves the credentials once the flags are parsed. A flag
// overrides the environment for the login method as a whole: --token drops
// MEMPHIS_PASSWORD and --password drops MEMPHIS_TOKEN. Both given as flags
// are passed on, and the sdk rejects the pair.
func (cf *connFlags) options() (sdk.ConnectOptions, error) {
	if cf.envErr != nil && !isSet(cf.fs, "port") {
		return cf.opts, cf.envErr
	}
	pwFlag, tokFlag := isSet(cf.fs, "password"), isSet(cf.fs, "token")
	pw, tok := cf.password, cf.token
	switch {
	case pwFlag && !tokFlag:
		tok = ""
	case tokFlag && !pwFlag:
		pw = ""
	case !pwFlag && !tokFlag && tok != "":
		pw = "" // both in the environment: the token wins, as in the examples
	}
	if pw == "" && tok == "" {
		pw = fallbackPassword
	}
	o := cf.opts
	o.Password, o.ConnectionToken = pw, tok
	return o, nil
}

// connect opens the connection. Any failure except a rejected option is a
// connection error (exit status 3).
func (cf *connFlags) connect(ctx context.Context) (*sdk.Conn, error) {
	o, err := cf.options()
	if err != nil {
		return nil, err
	}
	conn, err := sdk.Connect(ctx, o)
	if err != nil {
		if sdk.CodeOf(err) == sdk.CodeInvalidArgument {
			return nil, err
		}
		return nil, connectError{err: err}
	}
	return conn, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

// parseAndConnect parses the command line (minPos..maxPos positional
// arguments), then connects with its connection flags. The caller closes
// the connection.
func (cf *connFlags) parseAndConnect(ctx context.Context, c *cmdLine, args []string, minPos, maxPos int) ([]string, *sdk.Conn, error) {
	pos, err := c.parse(args, minPos, maxPos)
	if err != nil {
		return nil, nil, err
	}
	conn, err := cf.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return pos, conn, nil
}
