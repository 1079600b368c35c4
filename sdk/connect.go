package sdk

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConnectOptions configures Connect. Start from DefaultConnectOptions.
type ConnectOptions struct {
	// Host is the broker's host, or the nodes of a cluster as a
	// comma-separated list of host[:port] ("n1:6666,n2:6667"; an IPv6
	// address with a port in brackets, "[::1]:6666"); an entry without a
	// port uses Port. A leading http://, https:// or nats:// is stripped.
	// Once connected, the client also learns the other nodes the cluster
	// advertises, and reconnects to any of them when its node goes away.
	Host     string
	Port     int    // client port, default 6666
	Username string // Memphis user (application or root)

	// Exactly one of Password and ConnectionToken must be set.
	Password        string
	ConnectionToken string
	AccountID       int // tenant id; the user "username$AccountID" is tried first

	Reconnect bool // reconnect after a lost connection
	// MaxReconnect is the number of reconnect attempts, -1 = forever. Once
	// they run out the connection is closed for good (consume loops then
	// report CodeClosed until stopped); long broker outages need -1.
	MaxReconnect      int
	ReconnectInterval time.Duration // wait between reconnect attempts
	Timeout           time.Duration // dial / handshake timeout

	// TLS: all three must be given together (mutual TLS, §2.3).
	TLSCertFile, TLSKeyFile, TLSCAFile string

	// Logger receives the library's events: connect, disconnect,
	// reconnect, resends, slow consumers, failed nonblocking produces,
	// schema updates, retries (see logging.go for levels). Its handler
	// runs on library goroutines, never under a library lock, and must
	// not block for long. nil: the library logs nothing, and it never
	// prints anything itself.
	Logger *slog.Logger

	// UnbufferedWrites makes the calling thread write each publish (a
	// message, an ack) to the socket at once, instead of leaving it to
	// nats.go's writer goroutine, which batches what accumulates. It saves
	// a thread hand-off per message, which is what a synchronous produce
	// from C, Python or Ruby waits on (sync produce: Python about 1.3x, C
	// about 1.1x), and costs a system call per message, which is what bulk
	// traffic avoids (nonblocking produce and consume about 0.7x). For
	// latency-bound producers; consume on another connection. Default off.
	UnbufferedWrites bool

	// StatsInterval > 0 with StatsHandler set hands StatsHandler a
	// snapshot of the connection's statistics (Conn.Stats) every
	// StatsInterval, on a library goroutine, until Close (which waits for
	// a running call, unless called from it). 0 = never.
	StatsInterval time.Duration
	StatsHandler  func(ConnStats)
}

// DefaultConnectOptions returns the documented defaults (§12): port 6666,
// account 1, reconnect on, 10 attempts 1.5 s apart, 1.5 s timeout.
func DefaultConnectOptions() ConnectOptions {
	return ConnectOptions{
		Port:              6666,
		AccountID:         1,
		Reconnect:         true,
		MaxReconnect:      10,
		ReconnectInterval: 1500 * time.Millisecond,
		Timeout:           1500 * time.Millisecond,
	}
}

// Conn is a connection to a Memphis broker. It is safe for concurrent use.
type Conn struct {
	opts     ConnectOptions
	addrs    []string // "host:port" of every node given in Host
	connID   string
	username string // the name sent in control requests

	nc *nats.Conn
	js jetstream.JetStream

	replies *replyMux // async PubAcks and confirmed acks share one inbox

	mu        sync.Mutex
	closed    bool
	closing   chan struct{}        // closed by Close: wakes waiting fetches
	producers map[string]*Producer // one-shot Produce cache: "<internal station>_<name>"
	consumers map[string]*Consumer // one-shot FetchMessages cache
	live      map[any]struct{}     // every live producer/consumer, closed on Close

	clientsSub *nats.Subscription
	flags      clientFlags

	// disconnects counts lost connections, so a fetch that spanned an
	// outage can report it instead of looking like an empty station.
	disconnects atomic.Uint64
	// gen changes before every reconnect attempt (see link).
	gen    atomic.Uint64
	link   link
	checks streamChecks
	// ready is closed once Connect has set up (or given up on) the
	// connection: nats.go callbacks wait for it before using c.replies.
	ready chan struct{}

	log         *slog.Logger // never nil (newConnLogger)
	stats       connCounters
	statsLoop   *statsLoop
	overloadLog logLimit // "broker overloaded, retrying" records
}

// clientFlags holds the values broadcast on $memphis_sdk_clients_updates.
type clientFlags struct {
	mu               sync.Mutex
	sendNotification bool
	schemaverseToDLS map[string]bool // internal station -> flag
}

var schemeRE = regexp.MustCompile(`^(https?|nats)://`)

// addrs splits Host into "host:port" addresses (see ConnectOptions.Host).
func (o *ConnectOptions) addrs() ([]string, error) {
	const op = "connect"
	var out []string
	for _, entry := range strings.Split(o.Host, ",") {
		entry = schemeRE.ReplaceAllString(strings.TrimSpace(entry), "")
		if entry == "" {
			return nil, newErr(CodeInvalidArgument, op, fmt.Sprintf("host %q has an empty entry; give host[:port] entries separated by commas", o.Host))
		}
		host, port := entry, o.Port
		// "h:p" and "[v6]:p" carry a port; a bare IPv6 address has
		// several colons and none.
		switch {
		case strings.HasPrefix(entry, "[") && strings.HasSuffix(entry, "]"):
			host = entry[1 : len(entry)-1]
		case strings.HasPrefix(entry, "[") || strings.Count(entry, ":") == 1:
			h, p, err := net.SplitHostPort(entry)
			if err != nil {
				return nil, newErr(CodeInvalidArgument, op, fmt.Sprintf("host entry %q is not host[:port]", entry))
			}
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return nil, newErr(CodeInvalidArgument, op, fmt.Sprintf("host entry %q: port must be between 1 and 65535", entry))
			}
			host, port = h, n
		}
		if host == "" || strings.ContainsAny(host, " \t/") {
			return nil, newErr(CodeInvalidArgument, op, fmt.Sprintf("host entry %q is not host[:port]", entry))
		}
		out = append(out, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return out, nil
}

// appID identifies this process to the broker (§5.1), like the SDKs do.
var appID = uuid.NewString()

// validate checks options before any network use.
func (o *ConnectOptions) validate() error {
	const op = "connect"
	if strings.TrimSpace(o.Host) == "" {
		return newErr(CodeInvalidArgument, op, "host is required")
	}
	if o.Username == "" {
		return newErr(CodeInvalidArgument, op, "username is required")
	}
	if (o.Password == "") == (o.ConnectionToken == "") {
		return newErr(CodeInvalidArgument, op, "You have to connect with one of the following methods: connection token / password")
	}
	if o.Port <= 0 || o.Port > 65535 {
		return newErr(CodeInvalidArgument, op, "port must be between 1 and 65535")
	}
	if _, err := o.addrs(); err != nil {
		return err
	}
	if o.Timeout < 0 || o.ReconnectInterval < 0 {
		return newErr(CodeInvalidArgument, op, "timeout and reconnect interval must not be negative")
	}
	if o.StatsInterval < 0 {
		return newErr(CodeInvalidArgument, op, "stats interval must not be negative (0 = no periodic statistics)")
	}
	if o.AccountID < 0 {
		return newErr(CodeInvalidArgument, op, "account id must not be negative")
	}
	if o.MaxReconnect < -1 {
		return newErr(CodeInvalidArgument, op, "max reconnect must be -1 (unlimited) or more")
	}
	if o.TLSCertFile != "" || o.TLSKeyFile != "" || o.TLSCAFile != "" {
		switch {
		case o.TLSCertFile == "":
			return newErr(CodeInvalidArgument, op, "Must provide a TLS cert file")
		case o.TLSKeyFile == "":
			return newErr(CodeInvalidArgument, op, "Must provide a TLS key file")
		case o.TLSCAFile == "":
			return newErr(CodeInvalidArgument, op, "Must provide a TLS ca file")
		}
	}
	return nil
}

// Connect opens a connection. With a password it first probes the user
// "username$account" and falls back to the plain username on an
// authorization error (§2.2); a token connection needs no probe.
func Connect(ctx context.Context, opts ConnectOptions) (*Conn, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	addrs, _ := opts.addrs() // validate checked it
	if opts.Timeout == 0 {
		opts.Timeout = DefaultConnectOptions().Timeout
	}
	connID := uuid.NewString()
	c := &Conn{
		opts:      opts,
		addrs:     addrs,
		connID:    connID,
		log:       newConnLogger(opts.Logger, connID),
		username:  opts.Username,
		producers: map[string]*Producer{},
		consumers: map[string]*Consumer{},
		live:      map[any]struct{}{},
		closing:   make(chan struct{}),
		ready:     make(chan struct{}),
	}
	defer close(c.ready)
	c.flags.schemaverseToDLS = map[string]bool{}
	tlsCfg, err := opts.tlsConfig()
	if err != nil {
		return nil, err
	}
	user := ""
	if opts.Password != "" {
		user, err = c.probeUser(ctx, tlsCfg)
		if err != nil {
			return nil, err
		}
	}
	nc, err := c.dial(ctx, user, tlsCfg, false)
	if err != nil {
		return nil, connectErr(err, c.url())
	}
	c.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, wrapErr("connect", err)
	}
	c.js = js
	c.replies, err = newReplyMux(nc, &c.gen, c.log)
	if err != nil {
		nc.Close()
		return nil, wrapErr("connect", err)
	}
	if c.clientsSub, err = nc.Subscribe(wire.SubjClientUpdates, c.onClientsUpdate); err != nil {
		c.replies.close(nil)
		nc.Close()
		return nil, wrapErr("connect", err)
	}
	c.stats.connectedAt = time.Now()
	c.link.setServer(nc.ConnectedAddr())
	logAttrs(c.log, slog.LevelInfo, "connected", slog.String("server", nc.ConnectedAddr()),
		slog.String("username", opts.Username))
	c.startStatsLoop()
	return c, nil
}

// url names the broker in messages: its address, or the nodes' list.
func (c *Conn) url() string { return strings.Join(c.addrs, ",") }

// probeUser finds which user form the broker accepts (§2.2).
func (c *Conn) probeUser(ctx context.Context, tlsCfg *tls.Config) (string, error) {
	withAccount := c.opts.Username + "$" + strconv.Itoa(c.opts.AccountID)
	nc, err := c.dial(ctx, withAccount, tlsCfg, true)
	if err == nil {
		nc.Close()
		return withAccount, nil
	}
	if !isAuthErr(err) {
		return "", connectErr(err, c.url())
	}
	nc, err = c.dial(ctx, c.opts.Username, tlsCfg, true)
	if err != nil {
		return "", connectErr(err, c.url())
	}
	nc.Close()
	return c.opts.Username, nil
}

func isAuthErr(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) ||
		strings.Contains(strings.ToLower(err.Error()), "authorization violation")
}

// dial opens one NATS connection; probe connections never reconnect.
func (c *Conn) dial(ctx context.Context, user string, tlsCfg *tls.Config, probe bool) (*nats.Conn, error) {
	o := nats.GetDefaultOptions()
	for _, a := range c.addrs {
		o.Servers = append(o.Servers, "nats://"+a)
	}
	o.Name = c.connID + "::" + c.opts.Username
	o.Timeout = c.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 && d < o.Timeout {
			o.Timeout = d
		}
	}
	o.AllowReconnect = c.opts.Reconnect && !probe
	o.MaxReconnect = c.opts.MaxReconnect
	if !o.AllowReconnect {
		o.MaxReconnect = 0
	}
	if c.opts.ReconnectInterval > 0 {
		o.ReconnectWait = c.opts.ReconnectInterval
	}
	if user != "" {
		o.User, o.Password = user, c.opts.Password
	} else {
		o.Token = c.opts.ConnectionToken
	}
	if tlsCfg != nil {
		o.Secure = true
		o.TLSConfig = tlsCfg
	}
	// The default handler of asynchronous errors (slow consumer etc.)
	// would print to stderr: they are counted and logged instead.
	o.AsyncErrorCB = c.onAsyncError
	if c.opts.UnbufferedWrites {
		// nats.go writes in the caller once this many bytes are buffered.
		o.WriteBufferSize = 1
	}
	if !probe {
		c.linkOptions(&o)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return o.Connect()
}

// tlsConfig loads the mutual-TLS material (§2.3).
func (o *ConnectOptions) tlsConfig() (*tls.Config, error) {
	if o.TLSCertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
	if err != nil {
		return nil, &Error{Code: CodeTLS, Op: "connect", Msg: "loading TLS cert/key", Err: err}
	}
	pem, err := os.ReadFile(o.TLSCAFile)
	if err != nil {
		return nil, &Error{Code: CodeTLS, Op: "connect", Msg: "reading TLS CA file", Err: err}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &Error{Code: CodeTLS, Op: "connect", Msg: "TLS CA file holds no PEM certificate"}
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, RootCAs: pool}, nil
}

// connectErr says which part of connecting failed.
func connectErr(err error, url string) error {
	const op = "connect"
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case isAuthErr(err):
		return &Error{Code: CodeAuth, Op: op, Msg: "broker refused the credentials", Err: err}
	case errors.As(err, &tlsErr), errors.As(err, &recErr), strings.Contains(strings.ToLower(err.Error()), "tls"),
		strings.Contains(err.Error(), "x509"):
		return &Error{Code: CodeTLS, Op: op, Msg: "TLS handshake with " + url + " failed", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Code: CodeTimeout, Op: op, Msg: "connecting to " + url, Err: err}
	}
	return &Error{Code: CodeUnreachable, Op: op, Msg: "broker " + url + " unreachable", Err: err}
}

// IsConnected reports whether the underlying connection is up right now.
func (c *Conn) IsConnected() bool {
	return c != nil && c.nc != nil && c.nc.IsConnected()
}

// ConnectionID is the UUID the broker knows this connection by.
func (c *Conn) ConnectionID() string { return c.connID }

// Close stops every consume loop, fails every pending nonblocking produce
// with CodeClosed and closes the connection. Like the official SDKs it
// sends no destroy requests: the broker marks the connection's producers
// and consumers inactive on its own (§11). Close is idempotent.
func (c *Conn) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closing)
	live := make([]any, 0, len(c.live))
	for r := range c.live {
		live = append(live, r)
	}
	c.live = map[any]struct{}{}
	c.producers = map[string]*Producer{}
	c.consumers = map[string]*Consumer{}
	c.mu.Unlock()
	c.statsLoop.end()
	for _, r := range live {
		switch v := r.(type) {
		case *Consumer:
			v.shutdown()
		case *Producer:
			v.shutdown(ErrClosed)
		}
	}
	if c.clientsSub != nil {
		_ = c.clientsSub.Unsubscribe()
	}
	c.closeSchemas()
	c.replies.close(nil)
	c.nc.Close()
	c.stats.linkBack()
	logAttrs(c.log, slog.LevelInfo, "connection closed")
	return nil
}

// onAsyncError counts and logs nats.go's asynchronous errors.
func (c *Conn) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	subject := ""
	if sub != nil {
		subject = sub.Subject
	}
	if errors.Is(err, nats.ErrSlowConsumer) {
		// nats.go reports a subscription once per episode of falling
		// behind, not per dropped message.
		c.stats.slowConsumers.inc()
		logAttrs(c.log, slog.LevelWarn, "slow consumer: a subscription fell behind and messages were dropped",
			slog.String("subject", subject))
		return
	}
	logAttrs(c.log, slog.LevelWarn, "asynchronous connection error", slog.String("subject", subject), slog.Any("error", err))
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// track registers a producer/consumer so Close can end it.
func (c *Conn) track(r any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.live[r] = struct{}{}
	return nil
}

func (c *Conn) untrack(r any) {
	c.mu.Lock()
	delete(c.live, r)
	c.mu.Unlock()
}

// checkOpen fails fast on a closed connection.
func (c *Conn) checkOpen(op string) error {
	if c == nil {
		return newErr(CodeInvalidArgument, op, "nil connection")
	}
	if c.isClosed() {
		return &Error{Code: CodeClosed, Op: op, Msg: "connection is closed"}
	}
	return nil
}

func (c *Conn) String() string { return fmt.Sprintf("memphis.Conn(%s, %s)", c.url(), c.connID) }
