package devbroker

import (
	"crypto/subtle"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// internalUser is the account the broker's own in-process connections log
// in with. Its password is random per Start and never leaves the process, so
// SDK credentials cannot reach it.
const internalUser = "$memphis_internal"

// authenticator implements Memphis-style authentication (protocol doc §2.2)
// as a nats-server custom authenticator, so password and token logins work
// on the same broker. An empty password or token means that method is off.
// Every login except the broker's own gets the SDK permissions
// (permissions.go).
type authenticator struct {
	user, password, token string
	internalPassword      string
	sdkPerms              *server.Permissions
}

// Check decides whether a CONNECT is accepted. Returning false makes
// nats-server answer "Authorization Violation".
func (a *authenticator) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o == nil {
		return false
	}
	if o.Username == internalUser {
		if c.Kind() != server.CLIENT || !equal(o.Password, a.internalPassword) {
			return false
		}
		c.RegisterUser(&server.User{Username: internalUser})
		return true
	}
	// SDK connections are named "<connection id>::<username>"; the named
	// user must be one this broker knows. Other names are plain NATS
	// clients; more than one "::" is refused like the real broker does.
	parts := strings.Split(o.Name, "::")
	switch len(parts) {
	case 1:
	case 2:
		if !strings.EqualFold(stripAccountID(parts[1]), a.user) {
			return false
		}
	default:
		return false
	}
	switch {
	case o.Token != "":
		if !a.tokenOK(o.Token, len(parts) == 1) {
			return false
		}
	case o.Username != "":
		if a.password == "" || !strings.EqualFold(stripAccountID(o.Username), a.user) || !equal(o.Password, a.password) {
			return false
		}
	default:
		return false
	}
	c.RegisterUser(&server.User{Username: a.user, Permissions: a.sdkPerms})
	return true
}

// tokenOK compares a connection token. Plain NATS clients may also send the
// real broker's "<user>::<token>" form.
func (a *authenticator) tokenOK(tok string, plainClient bool) bool {
	if a.token == "" {
		return false
	}
	if equal(tok, a.token) {
		return true
	}
	if plainClient {
		if u, t, ok := strings.Cut(tok, "::"); ok && strings.EqualFold(u, a.user) {
			return equal(t, a.token)
		}
	}
	return false
}

// stripAccountID removes the "$<digits>" tenant suffix the SDKs append to
// user names (root$1 -> root).
func stripAccountID(u string) string {
	i := strings.LastIndexByte(u, '$')
	if i < 0 || i == len(u)-1 {
		return u
	}
	for _, r := range u[i+1:] {
		if r < '0' || r > '9' {
			return u
		}
	}
	return u[:i]
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
