package devbroker_test

import (
	"crypto/tls"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/libmemphis/libmemphis/devbroker/devbrokertest"
	"github.com/nats-io/nats.go"
)

// newPKI makes a throw-away CA with a server and a client certificate.
func newPKI(t *testing.T) pki {
	t.Helper()
	ca := devbrokertest.NewCA(t, "devbroker-test-ca")
	p := pki{caFile: ca.File}
	p.srvCert, p.srvKey = ca.Issue("server")
	p.cliCert, p.cliKey = ca.Issue("client")
	return p
}

type pki struct{ caFile, srvCert, srvKey, cliCert, cliKey string }

func TestTLSWithClientCertificates(t *testing.T) {
	p := newPKI(t)
	b := startBroker(t, func(o *devbroker.Options) { o.TLSCert, o.TLSKey, o.TLSCA = p.srvCert, p.srvKey, p.caFile })
	creds := []nats.Option{nats.Name("id::root"), nats.Token("memphis"), nats.RootCAs(p.caFile)}
	withCert := append(creds, nats.ClientCert(p.cliCert, p.cliKey))
	nc, err := nats.Connect("tls://"+b.Addr(), withCert...)
	if err != nil {
		t.Fatalf("mutual TLS connect: %v", err)
	}
	if _, err := nc.TLSConnectionState(); err != nil {
		t.Fatalf("connection is not TLS: %v", err)
	}
	// The control plane works over TLS too.
	msg, err := nc.Request("$memphis_station_creations", []byte(`{"name":"tls-st","partitions_number":1}`), reqTimeout)
	if err != nil {
		t.Fatalf("station over TLS: %v", err)
	}
	if len(msg.Data) != 0 {
		t.Fatalf("station over TLS: %q", msg.Data)
	}
	nc.Close()
	if err := dial(t, b, creds...); err == nil {
		t.Fatal("connected without a client certificate although a CA is configured")
	}
	if err := dial(t, b, nats.Name("id::root"), nats.Token("memphis")); err == nil {
		t.Fatal("connected without TLS")
	}
}

func TestTLSServerOnly(t *testing.T) {
	p := newPKI(t)
	b := startBroker(t, func(o *devbroker.Options) { o.TLSCert, o.TLSKey = p.srvCert, p.srvKey })
	if err := dial(t, b, nats.Name("id::root"), nats.Token("memphis"), nats.RootCAs(p.caFile)); err != nil {
		t.Fatalf("TLS without client certificate: %v", err)
	}
	bad := &tls.Config{MinVersion: tls.VersionTLS12} // system roots do not know the test CA
	if err := dial(t, b, nats.Name("id::root"), nats.Token("memphis"), nats.Secure(bad)); err == nil {
		t.Fatal("client trusted an unknown server certificate")
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]devbroker.Options{
		"cert without key": {TLSCert: "x.pem"},
		"missing files":    {TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key"},
		"port":             {Port: 70000},
		"payload":          {MaxPayload: 1 << 30},
	} {
		o.Memory = true
		if b, err := devbroker.Start(t.Context(), o); err == nil {
			_ = b.Stop()
			t.Errorf("%s: started", name)
		}
	}
}
