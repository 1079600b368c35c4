package devbroker_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/libmemphis/libmemphis/devbroker"
	"github.com/nats-io/nats.go"
)

// dial connects with the given options and returns the connect error.
func dial(t *testing.T, b *devbroker.Broker, opts ...nats.Option) error {
	t.Helper()
	nc, err := nats.Connect("nats://"+b.Addr(), append(opts, nats.MaxReconnects(0))...)
	if err == nil {
		nc.Close()
	}
	return err
}

func TestAuthPasswordAndToken(t *testing.T) {
	b := startBroker(t, func(o *devbroker.Options) { o.Password = "s3cret"; o.Token = "tok" })
	ok := []struct {
		name string
		opts []nats.Option
	}{
		{"sdk user with account id", []nats.Option{nats.Name("id-1::root"), nats.UserInfo("root$1", "s3cret")}},
		{"sdk plain user (fallback probe)", []nats.Option{nats.Name("id-2::root"), nats.UserInfo("root", "s3cret")}},
		{"sdk token", []nats.Option{nats.Name("id-3::root"), nats.Token("tok")}},
		{"plain nats client, password", []nats.Option{nats.UserInfo("root", "s3cret")}},
		{"plain nats client, user::token", []nats.Option{nats.Token("root::tok")}},
	}
	for _, tc := range ok {
		if err := dial(t, b, tc.opts...); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	bad := []struct {
		name string
		opts []nats.Option
	}{
		{"wrong password", []nats.Option{nats.Name("id::root"), nats.UserInfo("root$1", "nope")}},
		{"unknown user", []nats.Option{nats.Name("id::bob"), nats.UserInfo("bob$1", "s3cret")}},
		{"wrong token", []nats.Option{nats.Name("id::root"), nats.Token("nope")}},
		{"token for unknown sdk user", []nats.Option{nats.Name("id::bob"), nats.Token("tok")}},
		{"no credentials", []nats.Option{nats.Name("id::root")}},
		{"too many name parts", []nats.Option{nats.Name("a::b::root"), nats.Token("tok")}},
		{"internal user guess", []nats.Option{nats.UserInfo("$memphis_internal", "s3cret")}},
	}
	for _, tc := range bad {
		err := dial(t, b, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), "Authorization Violation") {
			t.Errorf("%s: got %v, want Authorization Violation", tc.name, err)
		}
	}
}

func TestMaxPayloadAdvertised(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	if got := c.nc.MaxPayload(); got != 8*1024*1024 {
		t.Fatalf("max payload %d, want 8 MiB", got)
	}
	b2 := startBroker(t, func(o *devbroker.Options) { o.MaxPayload = 1024 })
	c2 := connect(t, b2)
	if err := c2.nc.Publish("x", make([]byte, 2048)); err == nil {
		t.Fatal("oversized publish accepted")
	}
}

// Only the methods the operator configured work; the defaults are gone
// as soon as anything is configured.
func TestAuthOnlyConfiguredMethods(t *testing.T) {
	cases := []struct {
		name   string
		opts   func(*devbroker.Options)
		ok     [][]nats.Option
		refuse [][]nats.Option
	}{
		{"password only", func(o *devbroker.Options) { o.Password = "s3cret" },
			[][]nats.Option{{nats.Name("id::root"), nats.UserInfo("root$1", "s3cret")}},
			[][]nats.Option{
				{nats.Name("id::root"), nats.Token("memphis")},
				{nats.Token("root::memphis")},
				{nats.Name("id::root"), nats.UserInfo("root$1", "memphis")},
				{nats.Name("id::root"), nats.UserInfo("root$1", "")},
			}},
		{"token only", func(o *devbroker.Options) { o.Token = "tok" },
			[][]nats.Option{{nats.Name("id::root"), nats.Token("tok")}, {nats.Token("root::tok")}},
			[][]nats.Option{
				{nats.Name("id::root"), nats.UserInfo("root$1", "memphis")},
				{nats.Name("id::root"), nats.UserInfo("root", "")},
				{nats.Name("id::root"), nats.Token("memphis")},
			}},
		{"user only", func(o *devbroker.Options) { o.User = "bob" },
			[][]nats.Option{{nats.Name("id::bob"), nats.UserInfo("bob$1", "memphis")}},
			[][]nats.Option{
				{nats.Name("id::root"), nats.UserInfo("root$1", "memphis")},
				{nats.Name("id::bob"), nats.Token("memphis")},
			}},
	}
	for _, tc := range cases {
		b := startBroker(t, tc.opts)
		for _, o := range tc.ok {
			if err := dial(t, b, o...); err != nil {
				t.Errorf("%s: refused %v", tc.name, err)
			}
		}
		for i, o := range tc.refuse {
			if err := dial(t, b, o...); err == nil || !strings.Contains(err.Error(), "Authorization Violation") {
				t.Errorf("%s: case %d: got %v, want Authorization Violation", tc.name, i, err)
			}
		}
	}
}

func TestStartLogsDefaultCredentialWarning(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	startBroker(t, func(o *devbroker.Options) { o.Logf = logf })
	startBroker(t, func(o *devbroker.Options) { o.Logf = logf; o.Token = "tok" })
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, l := range lines {
		if strings.Contains(l, "default credentials are active") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("want exactly one warning (the default broker's), got %q", lines)
	}
}
