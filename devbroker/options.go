package devbroker

// Defaults for Options fields left at their zero value. They match what a
// stock Memphis installation ships with, so SDK defaults connect unchanged.
const (
	DefaultHost       = "127.0.0.1"
	DefaultUser       = "root"
	DefaultPassword   = "memphis"
	DefaultToken      = "memphis"
	DefaultMaxPayload = 8 * 1024 * 1024 // Memphis ships max_payload = 8 MiB
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
	// User and Password for password auth. The SDKs log in as
	// "<user>$<account id>" first and fall back to the plain user name;
	// both are accepted.
	User     string
	Password string
	// Token is the connection token accepted as an alternative to a
	// password on the same broker.
	Token string
	// TLSCert and TLSKey enable TLS. With TLSCA, clients must present a
	// certificate signed by that CA.
	TLSCert string
	TLSKey  string
	TLSCA   string
	// MaxPayload is the largest message accepted; 0 means 8 MiB.
	MaxPayload int
	// Logf, when set, receives the broker's own diagnostics (not the NATS
	// server log). Tests leave it nil.
	Logf func(format string, args ...any)
}

// withDefaults returns a copy of o with the zero values replaced.
func (o Options) withDefaults() Options {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	return o
}
