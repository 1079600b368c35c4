package devbroker

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Defaults for Options fields left at their zero value. They match what a
// stock Memphis installation ships with, so SDK defaults connect unchanged.
const (
	DefaultHost        = "127.0.0.1"
	DefaultUser        = "root"
	DefaultPassword    = "memphis"
	DefaultToken       = "memphis"
	DefaultMaxPayload  = 8 * 1024 * 1024 // Memphis ships max_payload = 8 MiB
	DefaultClusterName = "memphis"
	// DefaultSyncInterval is how often stored messages are fsynced unless
	// SyncAlways is set. nats-server's own default is 2 minutes: a power
	// failure could lose that much acknowledged data. A second bounds the
	// loss at no measurable cost to throughput; fsync before every ack
	// costs a single node most of it (README: what --sync costs).
	DefaultSyncInterval = time.Second
)

// Options configures a Broker. The zero value is usable: loopback host, a
// free port, a temporary in-memory store, user root/memphis, token memphis.
type Options struct {
	// Host to listen on; "" means 127.0.0.1.
	Host string
	// Port to listen on; 0 picks a free port.
	Port int
	// DataDir keeps JetStream data (messages and metadata). When empty and
	// Memory is false, a temporary directory is used and removed on Stop.
	DataDir string
	// Memory keeps every stream in memory and writes nothing to DataDir.
	Memory bool
	// User, Password and Token are the credentials SDKs log in with. Only
	// the methods configured here are enabled:
	//   - none of the three set: the documented defaults, user root with
	//     password memphis and token memphis (Start logs a warning);
	//   - User or Password set: password logins, the unset half taking its
	//     default (user root, password memphis);
	//   - Token set: token logins.
	// SDKs log in as "<user>$<account id>" first and fall back to the plain
	// user name; both are accepted. Token logins must name the same user in
	// their connection name.
	User     string
	Password string
	Token    string
	// TLSCert and TLSKey enable TLS. With TLSCA, clients must present a
	// certificate signed by that CA.
	TLSCert string
	TLSKey  string
	TLSCA   string
	// MaxPayload is the largest message accepted; 0 means 8 MiB.
	MaxPayload int
	// Cluster mode (cluster.go): ClusterPort > 0 turns it on. Nodes find
	// each other through Routes ("nats-route://host:port" URLs of the other
	// nodes' cluster ports; listing the node itself is harmless), and
	// replicate with nats-server's own clustering: routes, the JetStream
	// meta group and one RAFT group per stream and metadata bucket.
	//
	// ServerName names the node; it must be unique in the cluster and stay
	// the same across restarts (JetStream knows its peers by name). ""
	// derives it from the host and port (see serverName).
	ServerName string
	// ClusterName is the cluster's name; "" means DefaultClusterName.
	ClusterName string
	// ClusterPort is the port for routes from the other nodes; 0 = no cluster.
	ClusterPort int
	// Routes lists the cluster ports of the nodes to join.
	Routes []string
	// Advertise is the "host:port" clients are told to reconnect to
	// ("" = the listen address). Set it when clients reach this node
	// through another address (NAT, containers).
	Advertise string
	// Sync is JetStream's durability setting (nats-server's sync_interval):
	// SyncAlways fsyncs every write before it is acknowledged; otherwise
	// stored messages are fsynced every SyncInterval (0 means
	// DefaultSyncInterval). ParseSync reads the command-line form.
	SyncAlways   bool
	SyncInterval time.Duration
	// DisableMsgIDDedup turns off de-duplication of messages that carry
	// only the Memphis "msg-id" header (see msgid_ingest.go). It exists to
	// measure what that costs; leave it off.
	DisableMsgIDDedup bool
	// StreamIngestMsgs bounds each stream's queue of messages waiting to
	// be stored (0: nats-server's default, 100,000); beyond it the broker
	// answers 429 "too many requests". Back-pressure tests set it low.
	StreamIngestMsgs int
	// Logf, when set, receives the broker's own diagnostics and warnings
	// (not the NATS server log). Tests leave it nil.
	Logf func(format string, args ...any)
}

// ParseSync reads the durability setting: "always" (fsync before every
// acknowledgement) or a positive interval in Go's duration syntax ("1s",
// "2m").
func ParseSync(s string) (always bool, interval time.Duration, err error) {
	if strings.EqualFold(strings.TrimSpace(s), "always") {
		return true, 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return false, 0, fmt.Errorf("%q is neither \"always\" nor a positive duration such as 1s or 2m", s)
	}
	return false, d, nil
}

// FormatSync is ParseSync's inverse.
func FormatSync(always bool, interval time.Duration) string {
	if always {
		return "always"
	}
	return interval.String()
}

// passwordEnabled reports whether password logins are accepted, on options
// with defaults applied.
func (o Options) passwordEnabled() bool { return o.Password != "" }

// sdkUser is the user SDK connections must name ("<id>::<user>"), on
// options with defaults applied: the password user, or root when only a
// token is configured.
func (o Options) sdkUser() string {
	if o.User == "" {
		return DefaultUser
	}
	return o.User
}

// withDefaults returns a copy of o with the zero values replaced. The
// credentials follow the rule documented at Options.User: a method the
// operator did not configure stays off (empty) unless nothing at all was
// configured. Applying it twice changes nothing (Restart relies on that).
func (o Options) withDefaults() Options {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	switch {
	case o.User == "" && o.Password == "" && o.Token == "":
		o.User, o.Password, o.Token = DefaultUser, DefaultPassword, DefaultToken
	case o.User != "" || o.Password != "":
		if o.User == "" {
			o.User = DefaultUser
		}
		if o.Password == "" {
			o.Password = DefaultPassword
		}
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.ClusterName == "" {
		o.ClusterName = DefaultClusterName
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	return o
}

// credentialWarning is the line the broker logs at start when a documented
// default credential is accepted, or "" when none is. It is louder when
// the listener is reachable from other machines.
func (o Options) credentialWarning() string {
	e := o.withDefaults()
	var active []string
	if e.passwordEnabled() && e.Password == DefaultPassword {
		active = append(active, "user "+e.User+" with password "+DefaultPassword)
	}
	if e.Token == DefaultToken {
		active = append(active, "token "+DefaultToken)
	}
	if len(active) == 0 {
		return ""
	}
	what := strings.Join(active, " and ")
	if !isLoopbackHost(e.Host) {
		return fmt.Sprintf("WARNING: listening on %s, which is NOT a loopback address, with the default credentials (%s): "+
			"anyone who can reach this port can read, write and destroy every station; "+
			"set --password/--token (or their -file forms or environment variables)", e.Host, what)
	}
	return fmt.Sprintf("warning: default credentials are active (%s); set --password/--token (or their -file forms or environment variables) to replace them", what)
}

// isLoopbackHost reports whether every address host stands for is a
// loopback address. The unspecified address (all interfaces) is not.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}
