package devbroker_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/nats-io/nats.go"
)

// pki is a throw-away CA with a server and a client certificate on disk.
type pki struct {
	dir                                      string
	caFile, srvCert, srvKey, cliCert, cliKey string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	p := pki{dir: dir}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "devbroker test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-key.pem", "EC PRIVATE KEY", kb)
	}
	p.srvCert, p.srvKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.cliCert, p.cliKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

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
