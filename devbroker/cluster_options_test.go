package devbroker

import (
	"strings"
	"testing"
	"time"
)

func TestServerNameDefaults(t *testing.T) {
	cases := []struct {
		in   Options
		want string
	}{
		{Options{ServerName: "n1", Host: "127.0.0.1", Port: 6666}, "n1"},
		{Options{Host: "127.0.0.1", Port: 6666}, "memphis-127.0.0.1-6666"},
		{Options{Host: "::1", Port: 7000}, "memphis---1-7000"},
		{Options{Host: "127.0.0.1", ClusterPort: 6222}, "memphis-127.0.0.1-6222"},
		{Options{Host: "127.0.0.1"}, "memphis-devbroker"},
	}
	for _, tc := range cases {
		if got := tc.in.serverName(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.in, got, tc.want)
		}
	}
	// An unspecified host would give every machine the same name.
	if got := (Options{Host: "0.0.0.0", Port: 6666}).serverName(); strings.Contains(got, "0.0.0.0") {
		t.Errorf("name %q derived from the unspecified address", got)
	}
}

func TestClusterOptionChecks(t *testing.T) {
	ok := []Options{
		{},
		{Port: 6666, ClusterPort: 6222, Routes: []string{"nats-route://127.0.0.1:6222", "127.0.0.1:6223", " nats://h:1 "}},
	}
	for _, o := range ok {
		if err := o.checkCluster(); err != nil {
			t.Errorf("%+v refused: %v", o, err)
		}
	}
	bad := []struct {
		o    Options
		want string
	}{
		{Options{Routes: []string{"127.0.0.1:6222"}}, "need a cluster port"},
		{Options{ClusterPort: 70000}, "out of range"},
		{Options{Host: "127.0.0.1", ClusterPort: 6222}, "at least one other node"},
		{Options{Host: "127.0.0.1", ClusterPort: 6222, Routes: []string{"127.0.0.1:6222"}}, "at least one other node"},
		{Options{Port: 6222, ClusterPort: 6222}, "both 6222"},
		{Options{ClusterPort: 6222, Routes: []string{"http://h:1"}}, "scheme must be nats-route"},
		{Options{ClusterPort: 6222, Routes: []string{"nats-route://h"}}, "want nats-route://HOST:PORT"},
		{Options{ClusterPort: 6222, Routes: []string{"h:0"}}, "port out of range"},
		{Options{ClusterPort: 6222, ServerName: "a b", Routes: []string{"h:1"}}, "white space"},
		{Options{ClusterPort: 6222, ClusterName: "a\tb", Routes: []string{"h:1"}}, "white space"},
	}
	for _, tc := range bad {
		err := tc.o.checkCluster()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.o, err, tc.want)
		}
	}
}

func TestRoutesCarryTheClusterSecret(t *testing.T) {
	a := Options{Password: "pw"}.withDefaults()
	b := Options{Password: "pw"}.withDefaults()
	c := Options{Password: "other"}.withDefaults()
	if a.routeSecret() != b.routeSecret() || a.routeSecret() == c.routeSecret() {
		t.Fatal("the route secret must follow the credentials, and only them")
	}
	routes, err := parseRoutes([]string{"127.0.0.1:1", "nats-route://u:p@h:2"}, a.routeSecret())
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := routes[0].User.Password(); routes[0].User.Username() != routeUser || pw != a.routeSecret() {
		t.Errorf("route without credentials got %v", routes[0].User)
	}
	if routes[1].User.Username() != "u" {
		t.Errorf("credentials in the URL replaced: %v", routes[1].User)
	}
}

func TestRoutedNodesLeaveOutSelf(t *testing.T) {
	o := Options{Host: "127.0.0.1", ClusterPort: 6222, Routes: []string{
		"nats-route://127.0.0.1:6222", "nats-route://localhost:6222", // this node, twice
		"nats-route://127.0.0.1:6223", "127.0.0.1:6223", "nats-route://127.0.0.1:6224",
	}}
	if n := o.routedNodes(); n != 2 {
		t.Fatalf("%d other nodes, want 2", n)
	}
}

func TestParseSync(t *testing.T) {
	for in, want := range map[string]struct {
		always bool
		d      time.Duration
	}{"always": {true, 0}, "ALWAYS": {true, 0}, "1s": {false, time.Second}, " 2m ": {false, 2 * time.Minute}} {
		always, d, err := ParseSync(in)
		if err != nil || always != want.always || d != want.d {
			t.Errorf("%q: %v %v %v", in, always, d, err)
		}
		if err == nil && !always {
			if back, d2, _ := ParseSync(FormatSync(always, d)); back != always || d2 != d {
				t.Errorf("%q does not round-trip", in)
			}
		}
	}
	for _, in := range []string{"", "never", "0s", "-1s", "5"} {
		if _, _, err := ParseSync(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if (Options{}).withDefaults().SyncInterval != DefaultSyncInterval {
		t.Error("the default sync interval is not applied")
	}
}
