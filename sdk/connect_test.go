package sdk

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats-server/v2/server"
)

func TestConnectWithToken(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, func(o *ConnectOptions) { o.Password, o.ConnectionToken = "", "memphis" })
	if !c.IsConnected() {
		t.Fatal("not connected")
	}
	if err := c.Produce(testCtx(t), "tok", "p", []byte("x"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestConnectHostScheme(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, func(o *ConnectOptions) { o.Host = "http://" + o.Host })
	if !c.IsConnected() {
		t.Fatal("http:// prefix not stripped")
	}
}

// The probe user "root$<account>" is tried first; memphis-devbroker
// accepts both forms, so any account id connects (the fallback itself is
// checked against a bare nats-server in TestConnectUserProbeFallback).
func TestConnectAccountProbe(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, func(o *ConnectOptions) { o.AccountID = 7 })
	if !c.IsConnected() {
		t.Fatal("not connected")
	}
}

func TestConnectErrors(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t)
	o := brokerOptions(t, b)
	o.Password = "wrong"
	if _, err := Connect(ctx, o); CodeOf(err) != CodeAuth {
		t.Fatalf("wrong password: %v", err)
	}
	o = brokerOptions(t, b)
	o.Password, o.ConnectionToken = "", "wrong"
	if _, err := Connect(ctx, o); CodeOf(err) != CodeAuth {
		t.Fatalf("wrong token: %v", err)
	}
	// A port nothing listens on: refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	o = brokerOptions(t, b)
	o.Port = port
	_, err = Connect(ctx, o)
	if CodeOf(err) != CodeUnreachable || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("closed port: %v", err)
	}
}

func TestConnectTLS(t *testing.T) {
	ca := devbrokertest.NewCA(t, "ca")
	caFile := ca.File
	srvCert, srvKey := ca.Issue("server")
	cliCert, cliKey := ca.Issue("client")
	b := startBroker(t, func(o *devbroker.Options) {
		o.TLSCert, o.TLSKey, o.TLSCA = srvCert, srvKey, caFile
	})
	c := connect(t, b, func(o *ConnectOptions) {
		o.TLSCertFile, o.TLSKeyFile, o.TLSCAFile = cliCert, cliKey, caFile
	})
	if err := c.Produce(testCtx(t), "secure", "p", []byte("x"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	// A client trusting another CA must fail with a TLS error.
	otherCA := devbrokertest.NewCA(t, "other").File
	o := brokerOptions(t, b)
	o.TLSCertFile, o.TLSKeyFile, o.TLSCAFile = cliCert, cliKey, otherCA
	if _, err := Connect(testCtx(t), o); CodeOf(err) != CodeTLS {
		t.Fatalf("untrusted server: %v", err)
	}
	o.TLSCAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := Connect(testCtx(t), o); CodeOf(err) != CodeTLS {
		t.Fatalf("missing CA file: %v", err)
	}
}

func TestStations(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	ctx := testCtx(t)
	o := DefaultStationOptions("full")
	o.RetentionType, o.RetentionValue = RetentionMessages, 5
	o.StorageType = StorageMemory
	o.IdempotencyWindow = 500 * time.Millisecond
	o.PartitionsNumber = 2
	o.SendPoisonMsgToDls, o.SendSchemaFailedMsgToDls = false, false
	o.DlsStation = "full-dls"
	s, err := c.CreateStation(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// Creating it again is success.
	if _, err := c.CreateStation(ctx, o); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	// Retention by message count: only the last 5 per partition remain.
	p := createProducer(t, c, "full", "prod")
	for i := range 12 {
		if err := p.Produce(ctx, payload(i), ProduceOptions{PartitionNumber: 1}); err != nil {
			t.Fatal(err)
		}
	}
	cons := createConsumer(t, c, "full", "r", func(o *ConsumerOptions) { o.BatchSize = 20 })
	msgs := fetchUntil(t, cons, 5, PartitionSelector{Number: 1})
	if string(msgs[0].Data()) != string(payload(7)) {
		t.Fatalf("oldest kept message %s, want %s", msgs[0].Data(), payload(7))
	}
	if err := s.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Destroy(ctx); err != nil {
		t.Fatalf("destroying a destroyed station: %v", err)
	}
	bad := DefaultStationOptions("x")
	bad.RetentionType = "forever"
	if _, err := c.CreateStation(ctx, bad); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("bad retention: %v", err)
	}
	bad = DefaultStationOptions("x")
	bad.IdempotencyWindow = 2 * time.Hour
	bad.RetentionValue = 60
	_, err = c.CreateStation(ctx, bad)
	if CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), "idempotency window cannot be greater than the station retention") {
		t.Fatalf("broker text lost: %v", err)
	}
	_ = context.Background()
}

// startPlainNATS runs a bare nats-server that knows exactly the given
// users (all with password "memphis"), to check which user names Connect
// presents: enough for Connect, which sends no control request.
func startPlainNATS(t *testing.T, users ...string) (string, int) {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}
	for _, u := range users {
		opts.Users = append(opts.Users, &server.User{Username: u, Password: "memphis"})
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	addr := s.Addr().(*net.TCPAddr)
	return addr.IP.String(), addr.Port
}

func TestConnectUserProbeFallback(t *testing.T) {
	ctx := testCtx(t)
	base := DefaultConnectOptions()
	base.Username, base.Password = "root", "memphis"

	// Older brokers know the plain name only: the probe falls back.
	o := base
	o.Host, o.Port = startPlainNATS(t, "root")
	c, err := Connect(ctx, o)
	if err != nil {
		t.Fatalf("fallback to the plain user: %v", err)
	}
	_ = c.Close()

	// A tenant user "root$7" is used when the account id says 7 ...
	o = base
	o.Host, o.Port = startPlainNATS(t, "root$7")
	o.AccountID = 7
	c, err = Connect(ctx, o)
	if err != nil {
		t.Fatalf("user root$7: %v", err)
	}
	_ = c.Close()

	// ... and neither form exists for account 1.
	o.AccountID = 1
	if _, err := Connect(ctx, o); CodeOf(err) != CodeAuth {
		t.Fatalf("unknown user: %v", err)
	}
}

// With UnbufferedWrites every publish is on the socket when the call
// returns: nothing waits in nats.go's write buffer for its writer goroutine.
func TestUnbufferedWritesLeaveNothingBuffered(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b, func(o *ConnectOptions) { o.UnbufferedWrites = true })
	ctx := testCtx(t)
	p := createProducer(t, c, "unbuffered", "prod")
	const n = 500
	for i := range n {
		if err := p.ProduceAsync(ctx, payload(i), ProduceOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		if left, err := c.nc.Buffered(); err != nil || left != 0 {
			t.Fatalf("after produce %d, %d bytes still wait in the write buffer (%v)", i, left, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(ctx, []byte("sync"), ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	cons := createConsumer(t, c, "unbuffered", "reader")
	if got := fetchUntil(t, cons, n+1, PartitionSelector{}); string(got[n].Data()) != "sync" {
		t.Fatalf("last message %q, want %q", got[n].Data(), "sync")
	}
}
