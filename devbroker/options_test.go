package devbroker

import (
	"strings"
	"testing"
)

func TestCredentialDefaultsOnlyWhenNothingConfigured(t *testing.T) {
	cases := []struct {
		in                    Options
		user, password, token string
	}{
		{Options{}, "root", "memphis", "memphis"},
		{Options{Password: "pw"}, "root", "pw", ""},
		{Options{User: "bob"}, "bob", "memphis", ""},
		{Options{Token: "tok"}, "", "", "tok"},
		{Options{User: "bob", Token: "tok"}, "bob", "memphis", "tok"},
		{Options{Password: "pw", Token: "tok"}, "root", "pw", "tok"},
	}
	for _, tc := range cases {
		e := tc.in.withDefaults()
		if e.User != tc.user || e.Password != tc.password || e.Token != tc.token {
			t.Errorf("%+v: got user %q password %q token %q", tc.in, e.User, e.Password, e.Token)
		}
		// Restart feeds the effective options back in.
		if again := e.withDefaults(); again.User != e.User || again.Password != e.Password || again.Token != e.Token {
			t.Errorf("%+v: not idempotent: %+v", tc.in, again)
		}
	}
	if u := (Options{Token: "tok"}).withDefaults().sdkUser(); u != "root" {
		t.Fatalf("token-only SDK user %q, want root", u)
	}
}

func TestCredentialWarning(t *testing.T) {
	cases := []struct {
		in   Options
		want string // "" = no warning
	}{
		{Options{}, "warning: default credentials are active (user root with password memphis and token memphis)"},
		{Options{Host: "localhost"}, "warning: default credentials are active"},
		{Options{Host: "::1"}, "warning: default credentials are active"},
		{Options{User: "bob"}, "(user bob with password memphis)"},
		{Options{Password: "memphis"}, "(user root with password memphis)"},
		{Options{Token: "memphis"}, "(token memphis)"},
		{Options{Host: "0.0.0.0"}, "WARNING: listening on 0.0.0.0, which is NOT a loopback address, with the default credentials"},
		{Options{Host: "10.1.2.3", Token: "memphis", Password: "pw"}, "NOT a loopback address, with the default credentials (token memphis)"},
		{Options{Password: "pw"}, ""},
		{Options{Token: "tok"}, ""},
		{Options{Host: "0.0.0.0", Password: "pw", Token: "tok"}, ""},
	}
	for _, tc := range cases {
		got := tc.in.credentialWarning()
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%+v:\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "\n") {
			t.Errorf("%+v: warning spans lines: %q", tc.in, got)
		}
	}
}
