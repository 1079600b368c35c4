package devbrokertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a throw-away certificate authority for TLS tests. Its files live
// in a directory of the test's and go when the test ends.
type CA struct {
	// File is the CA certificate (PEM), for a broker's or client's CA file.
	File string

	t      testing.TB
	dir    string
	name   string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial atomic.Int64
}

// NewCA creates a CA whose certificate names name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("devbrokertest: CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("devbrokertest: CA certificate: %v", err)
	}
	ca := &CA{t: t, dir: t.TempDir(), name: name, cert: cert, key: key}
	ca.serial.Store(1)
	ca.File = ca.write(name+".pem", "CERTIFICATE", der)
	return ca
}

// Issue signs a certificate named leaf for 127.0.0.1 and localhost, good
// for a server and a client alike, and returns its certificate and key
// files (PEM).
func (ca *CA) Issue(leaf string) (certFile, keyFile string) {
	t := ca.t
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: leaf},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("devbrokertest: certificate %s: %v", leaf, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("devbrokertest: key of %s: %v", leaf, err)
	}
	return ca.write(ca.name+"-"+leaf+".pem", "CERTIFICATE", der),
		ca.write(ca.name+"-"+leaf+".key", "EC PRIVATE KEY", keyDER)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("devbrokertest: key: %v", err)
	}
	return key
}

func (ca *CA) write(file, typ string, der []byte) string {
	ca.t.Helper()
	path := filepath.Join(ca.dir, file)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatalf("devbrokertest: %v", err)
	}
	return path
}
