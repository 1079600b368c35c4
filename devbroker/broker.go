package devbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startupTimeout bounds how long Start waits for the server to accept
// connections; JetStream recovery of a large data dir can take a while.
const startupTimeout = 60 * time.Second

// stopGrace is how long Stop lets in-flight requests finish normally.
const stopGrace = 10 * time.Second

// Broker is a running memphis-devbroker.
type Broker struct {
	opts   Options
	srv    *server.Server
	nc     *nats.Conn // internal in-process connection (user internalUser)
	js     jetstream.JetStream
	meta   *metaStore
	ingest *msgIDIngest // msg-id de-duplication for official SDKs
	tmpDir string       // removed on Stop when the broker created it

	internalPass string // random per Start; only the in-process client knows it

	// ctl, a one-slot semaphore, serialises every metadata
	// read-modify-write of the control plane on this node (stations,
	// producers, consumers, schemas, DLS rows; control_lock.go). The dev
	// broker favours simple correctness over concurrency. A channel rather
	// than a mutex, so a request waits for it no longer than it may.
	ctl chan struct{}

	ctx    context.Context // cancelled by Stop; parent of request contexts
	cancel context.CancelFunc
	wg     sync.WaitGroup // in-flight request handlers

	stateMu  sync.Mutex // guards stopping against wg.Add (see track)
	stopping bool

	subs     []*nats.Subscription
	stopOnce sync.Once
	stopErr  error
}

// Start launches a broker and returns once it accepts connections and the
// control plane is subscribed.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	opts = opts.withDefaults()
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("devbroker: port %d out of range 0..65535", opts.Port)
	}
	if opts.MaxPayload < 0 || opts.MaxPayload > 64*1024*1024 {
		return nil, fmt.Errorf("devbroker: max payload %d out of range 1..64 MiB", opts.MaxPayload)
	}
	if opts.SyncInterval < 0 {
		return nil, fmt.Errorf("devbroker: sync interval %s is negative", opts.SyncInterval)
	}
	if err := opts.checkCluster(); err != nil {
		return nil, err
	}
	// nats-server does not report a failed bind to its caller (it only
	// logs it), so find out here instead of timing out below.
	for _, port := range []int{opts.Port, opts.ClusterPort} {
		if port == 0 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("devbroker: listen on %s:%d: %w", opts.Host, port, err)
		}
		_ = l.Close()
	}
	// The name is resolved once, so Options (and a restart from them)
	// keeps it.
	opts.ServerName = opts.serverName()
	b := &Broker{opts: opts, ctl: make(chan struct{}, 1)}
	sopts, err := b.serverOptions()
	if err != nil {
		b.removeTmp()
		return nil, err
	}
	srv, err := server.NewServer(sopts)
	if err != nil {
		b.removeTmp()
		return nil, fmt.Errorf("devbroker: configure server: %w", err)
	}
	b.srv = srv
	go srv.Start()
	if !srv.ReadyForConnections(startupTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		b.removeTmp()
		return nil, fmt.Errorf("devbroker: server not ready on %s:%d within %s", opts.Host, opts.Port, startupTimeout)
	}
	if w := opts.credentialWarning(); w != "" {
		b.logf("memphis-devbroker: %s", w)
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if err := b.startControlPlane(ctx); err != nil {
		_ = b.Stop()
		return nil, err
	}
	b.waitCaughtUp(ctx)
	return b, nil
}

// serverOptions translates Options into nats-server options.
func (b *Broker) serverOptions() (*server.Options, error) {
	o := b.opts
	storeDir := o.DataDir
	if storeDir == "" || o.Memory {
		// JetStream always wants a store dir; in memory mode nothing is
		// written there because every stream is created in memory.
		d, err := os.MkdirTemp("", "memphis-devbroker-")
		if err != nil {
			return nil, fmt.Errorf("devbroker: create temp data dir: %w", err)
		}
		b.tmpDir = d
		storeDir = d
	} else if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return nil, fmt.Errorf("devbroker: create data dir: %w", err)
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("devbroker: internal secret: %w", err)
	}
	internalPass := hex.EncodeToString(secret)
	b.internalPass = internalPass
	sopts := &server.Options{
		Host:         o.Host,
		Port:         port,
		JetStream:    true,
		StoreDir:     storeDir,
		SyncAlways:   o.SyncAlways,
		SyncInterval: o.SyncInterval,
		MaxPayload:   int32(o.MaxPayload),
		NoSigs:       true,
		NoLog:        true,
		CustomClientAuthentication: &authenticator{
			user: o.sdkUser(), password: o.Password, token: o.Token,
			internalPassword: internalPass,
			sdkPerms:         sdkPermissions(),
		},
		// 0 keeps nats-server's default.
		StreamMaxBufferedMsgs: o.StreamIngestMsgs,
	}
	if o.TLSCert != "" || o.TLSKey != "" || o.TLSCA != "" {
		if o.TLSCert == "" || o.TLSKey == "" {
			return nil, errors.New("devbroker: TLS needs both a certificate and a key")
		}
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
			CertFile: o.TLSCert, KeyFile: o.TLSKey, CaFile: o.TLSCA, Verify: o.TLSCA != "",
		})
		if err != nil {
			return nil, fmt.Errorf("devbroker: load TLS files: %w", err)
		}
		sopts.TLS = true
		sopts.TLSConfig = tc
		sopts.TLSVerify = o.TLSCA != ""
		sopts.TLSTimeout = 5
	}
	if err := o.applyCluster(sopts); err != nil {
		return nil, err
	}
	return sopts, nil
}

// startControlPlane connects the internal client, opens the metadata store
// and subscribes the Memphis subjects.
func (b *Broker) startControlPlane(ctx context.Context) error {
	nc, err := b.internalConn("memphis-devbroker-internal")
	if err != nil {
		return err
	}
	b.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("devbroker: jetstream context: %w", err)
	}
	b.js = js
	// A node of a cluster waits for a majority of the nodes to be up, for
	// as long as the caller lets it: they may be started one by one.
	if err := b.waitForJetStream(ctx, js); err != nil {
		return err
	}
	initCtx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if b.meta, err = openMetaStore(initCtx, nc, js, b.opts.Memory, b.metaReplicas(), b.createsBuckets); err != nil {
		return err
	}
	if err := b.startMsgIDIngest(initCtx); err != nil {
		return err
	}
	if err := b.subscribeAll(); err != nil {
		return err
	}
	// A flush round trip guarantees the server has registered every
	// subscription before Start returns, so the first SDK request cannot
	// meet "no responders".
	if err := nc.FlushWithContext(initCtx); err != nil {
		return fmt.Errorf("devbroker: flush control-plane subscriptions: %w", err)
	}
	return nil
}

// internalConn opens an in-process connection as the broker's own user:
// no permissions apply, and its inboxes are out of SDK users' reach.
func (b *Broker) internalConn(name string) (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(b.srv),
		nats.UserInfo(internalUser, b.internalPass),
		nats.Name(name),
		nats.CustomInboxPrefix(internalInboxPrefix),
		nats.MaxReconnects(-1),
	)
	if err != nil {
		return nil, fmt.Errorf("devbroker: %s connection: %w", name, err)
	}
	return nc, nil
}

// Addr returns "host:port" of the client listener.
func (b *Broker) Addr() string {
	host, port := b.opts.Host, b.Port()
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Port returns the client port actually bound.
func (b *Broker) Port() int {
	if b.srv == nil {
		return b.opts.Port
	}
	if a, ok := b.srv.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return b.opts.Port
}

// Remote returns a handle on a Memphis broker this process did not start,
// listening on host:port and accepting the credentials in opts: Addr, Port
// and Options describe it, Stop does nothing. It lets test helpers
// (devbrokertest) run a suite against an external broker.
func Remote(host string, port int, opts Options) *Broker {
	opts.Host, opts.Port = host, port
	return &Broker{opts: opts}
}

// IsRemote reports whether b is a handle made by Remote.
func (b *Broker) IsRemote() bool { return b.srv == nil }

// Options returns the effective options (defaults filled in; a credential
// method that is off stays empty), which Start accepts unchanged.
func (b *Broker) Options() Options { return b.opts }

// Stop shuts the broker down: it stops taking requests, waits for those in
// flight, and shuts nats-server down (which flushes JetStream to disk).
// Calling Stop more than once is harmless.
func (b *Broker) Stop() error {
	b.stopOnce.Do(func() {
		var errs []error
		for _, s := range b.subs {
			if err := s.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				errs = append(errs, fmt.Errorf("unsubscribe %s: %w", s.Subject, err))
			}
		}
		b.stateMu.Lock()
		b.stopping = true
		b.stateMu.Unlock()
		// Let in-flight requests finish so their replies go out, but do not
		// hang on a stuck one: after a grace period their contexts end.
		done := make(chan struct{})
		go func() { b.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(stopGrace):
		}
		if b.cancel != nil {
			b.cancel()
		}
		<-done
		b.ingest.close()
		if b.nc != nil {
			// Also ends the producers watcher (msgid_ingest.go), without
			// the JetStream call its Stop would make, which a node whose
			// peers are gone waits out.
			b.nc.Close()
		}
		b.ingest.waitStopped()
		if b.srv != nil {
			b.srv.Shutdown()
			b.srv.WaitForShutdown()
		}
		if err := b.removeTmp(); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			b.stopErr = fmt.Errorf("devbroker: stop: %w", errors.Join(errs...))
		}
	})
	return b.stopErr
}

func (b *Broker) removeTmp() error {
	if b.tmpDir == "" {
		return nil
	}
	if err := os.RemoveAll(b.tmpDir); err != nil {
		return fmt.Errorf("remove temp data dir: %w", err)
	}
	return nil
}

func (b *Broker) logf(format string, args ...any) {
	if b.opts.Logf != nil {
		b.opts.Logf(format, args...)
	}
}
