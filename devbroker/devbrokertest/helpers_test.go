package devbrokertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestWaitFor(t *testing.T) {
	calls := 0
	WaitFor(t, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
	r := &recorder{TB: t}
	waitFor(r, "never", func() bool { return false }, 20*time.Millisecond)
	if r.failed != "timed out waiting for never" {
		t.Fatalf("timeout: %q", r.failed)
	}
}

func TestCAIssuesTrustedCertificates(t *testing.T) {
	ca := NewCA(t, "ca")
	certFile, keyFile := ca.Issue("leaf")
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	leaf := readCert(t, certFile)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		opts := x509.VerifyOptions{Roots: pool(t, ca.File), DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{usage}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("usage %v: %v", usage, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool(t, NewCA(t, "other").File)}); err == nil {
		t.Fatal("another CA trusts the certificate")
	}
	// Two leaves of one CA differ in serial number.
	second, _ := ca.Issue("second")
	if readCert(t, second).SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Fatal("two certificates with one serial number")
	}
}

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(readCert(t, caFile))
	return p
}

func TestOutputConcurrentWrites(t *testing.T) {
	var out Output
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = out.Write([]byte("x"))
				_ = out.String()
			}
		})
	}
	wg.Wait()
	if got := out.String(); got != strings.Repeat("x", 800) {
		t.Fatalf("%d bytes, want 800", len(got))
	}
}

func TestStreamMessages(t *testing.T) {
	b := Start(t, func(o *devbroker.Options) { o.Memory = true })
	nc, err := nats.Connect("nats://"+b.Addr(), nats.UserInfo("root", "memphis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if got := request(t, nc, "$memphis_station_creations", map[string]any{"name": "raw", "partitions_number": 1, "username": "root"}); got != "" {
		t.Fatalf("create station: %q", got)
	}
	js, _ := jetstream.New(nc)
	for i := range 3 {
		m := nats.NewMsg("raw$1.final")
		m.Data = []byte{byte('a' + i)}
		m.Header.Set("n", fmt.Sprint(i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got := StreamMessages(ctx, t, nc, "raw$1")
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	for i, m := range got {
		if m.Seq != uint64(i+1) || string(m.Data) != string(rune('a'+i)) || m.Header.Get("n") != fmt.Sprint(i) {
			t.Errorf("message %d: seq %d data %q header %v", i, m.Seq, m.Data, m.Header)
		}
	}
}
