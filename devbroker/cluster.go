package devbroker

// Cluster mode: several memphis-devbroker nodes form one broker on
// nats-server's own clustering. Routes connect the nodes; JetStream's meta
// group (RAFT) places streams; every station partition stream and every
// metadata bucket is a RAFT group of its own with the station's replicas
// (buckets: min(3, cluster size)). The broker adds no replication of its
// own. What it does add, so that the Memphis control plane behaves as one:
//   - every request subject is served by a queue group spanning the
//     cluster, so exactly one node answers each request (serve.go);
//   - changes are serialised cluster-wide by a lease in a replicated
//     bucket (control_lock.go), and metadata is read from each bucket's
//     stream leader, never from a replica that may lag (meta.go);
//   - the msg-id ingest routing, which nats-server keeps per node, follows
//     the producer records on every node (msgid_ingest.go);
//   - "is this connection id connected" asks every node (clients.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// routeUser is the user routes between nodes log in with; the password is
// derived from the broker's credentials (routeSecret).
const routeUser = "memphis-route"

// clustered reports whether the options ask for cluster mode.
func (o Options) clustered() bool { return o.ClusterPort > 0 }

// serverName is the node's name: ServerName, or one derived from where it
// listens, stable across restarts so that JetStream recognises the node.
// With an unspecified host (0.0.0.0, ::) the machine's host name stands in
// for it, since every machine would otherwise derive the same name. With
// client port 0 the cluster port is used; a single node on port 0 has no
// peers to be told apart from and keeps the fixed name.
func (o Options) serverName() string {
	if o.ServerName != "" {
		return o.ServerName
	}
	port := o.Port
	if port == 0 {
		port = o.ClusterPort
	}
	if port == 0 {
		return "memphis-devbroker"
	}
	host := o.Host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "memphis-" + strings.NewReplacer(":", "-", " ", "-").Replace(host) + "-" + strconv.Itoa(port)
}

// checkCluster validates the cluster options (with defaults applied).
func (o Options) checkCluster() error {
	if o.ClusterPort < 0 || o.ClusterPort > 65535 {
		return fmt.Errorf("devbroker: cluster port %d out of range 0..65535", o.ClusterPort)
	}
	if strings.ContainsAny(o.ServerName, " \t\r\n") {
		return fmt.Errorf("devbroker: server name %q contains white space", o.ServerName)
	}
	if strings.ContainsAny(o.ClusterName, " \t\r\n") {
		return fmt.Errorf("devbroker: cluster name %q contains white space", o.ClusterName)
	}
	if !o.clustered() {
		if len(o.Routes) > 0 {
			return errors.New("devbroker: routes need a cluster port (--cluster-port)")
		}
		return nil
	}
	if o.ClusterPort == o.Port {
		return fmt.Errorf("devbroker: the cluster port and the client port are both %d", o.Port)
	}
	if _, err := parseRoutes(o.Routes, ""); err != nil {
		return err
	}
	// JetStream refuses to cluster without routes, and a cluster's first
	// election needs two nodes: one node alone is a single node.
	if o.routedNodes() == 0 {
		return errors.New("devbroker: a cluster node needs --routes naming at least one other node's cluster port")
	}
	return nil
}

// parseRoutes turns route strings into URLs. "host:port" and
// "nats-route://host:port" are accepted (nats:// too, as nats-server
// does); a route without credentials gets the cluster's own, which every
// node derives from the same broker credentials.
func parseRoutes(routes []string, secret string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(routes))
	for _, r := range routes {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !strings.Contains(r, "://") {
			r = "nats-route://" + r
		}
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("devbroker: route %q: %w", r, err)
		}
		if u.Scheme != "nats-route" && u.Scheme != "nats" {
			return nil, fmt.Errorf("devbroker: route %q: scheme must be nats-route://", r)
		}
		if u.Hostname() == "" || u.Port() == "" {
			return nil, fmt.Errorf("devbroker: route %q: want nats-route://HOST:PORT", r)
		}
		if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("devbroker: route %q: port out of range 1..65535", r)
		}
		if u.User == nil && secret != "" {
			u.User = url.UserPassword(routeUser, secret)
		}
		out = append(out, u)
	}
	return out, nil
}

// routeSecret is the password of route connections. Every node of a
// cluster runs with the same credentials (clients fail over between them),
// so each derives the same secret without another thing to configure, and a
// process that does not know the credentials cannot join as a node (a
// route sees every message, whatever the SDK permissions say).
func (o Options) routeSecret() string {
	h := sha256.New()
	for _, part := range []string{"memphis-devbroker route", o.sdkUser(), o.Password, o.Token} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// applyCluster fills the nats-server cluster options.
func (o Options) applyCluster(sopts *server.Options) error {
	sopts.ServerName = o.serverName()
	if o.Advertise != "" {
		sopts.ClientAdvertise = o.Advertise
	}
	if !o.clustered() {
		return nil
	}
	secret := o.routeSecret()
	routes, err := parseRoutes(o.Routes, secret)
	if err != nil {
		return err
	}
	sopts.Cluster = server.ClusterOpts{
		Name:     o.ClusterName,
		Host:     o.Host,
		Port:     o.ClusterPort,
		Username: routeUser,
		Password: secret,
		// Seconds, as in the server config; generous for a busy machine.
		AuthTimeout: 5,
	}
	sopts.Routes = routes
	return nil
}

// clusterSize is the number of nodes JetStream knows in the cluster
// (online or not); 1 for a single node.
func (b *Broker) clusterSize() int {
	if !b.opts.clustered() {
		return 1
	}
	jsz, err := b.srv.Jsz(nil)
	if err != nil || jsz.Meta == nil || jsz.Meta.Size < 1 {
		return 1
	}
	return jsz.Meta.Size
}

// metaReplicas is the replication of the metadata buckets: min(3, cluster
// size), where the size counts the nodes named in the routes too, since a
// new cluster's JetStream may not have met them all yet.
func (b *Broker) metaReplicas() int {
	return min(3, max(b.clusterSize(), b.opts.routedNodes()+1))
}

// routedNodes counts the distinct nodes the routes name, leaving out this
// node itself (it may be listed, so every node gets the same list).
func (o Options) routedNodes() int {
	routes, err := parseRoutes(o.Routes, "")
	if err != nil {
		return 0
	}
	seen := map[string]bool{}
	for _, u := range routes {
		if o.isSelf(u.Hostname(), u.Port()) {
			continue
		}
		seen[net.JoinHostPort(u.Hostname(), u.Port())] = true
	}
	return len(seen)
}

// isSelf reports whether host:port is this node's cluster listener.
func (o Options) isSelf(host, port string) bool {
	if port != strconv.Itoa(o.ClusterPort) {
		return false
	}
	if strings.EqualFold(host, o.Host) {
		return true
	}
	// Listening on all interfaces or on loopback: a loopback name is us.
	if ip := net.ParseIP(o.Host); ip != nil && (ip.IsUnspecified() || ip.IsLoopback()) || strings.EqualFold(o.Host, "localhost") {
		return isLoopbackHost(host)
	}
	return false
}

// createsBuckets reports whether this node creates (and updates) the
// metadata buckets: a single node does; in a cluster, the node of
// JetStream's meta leader, so that the nodes do not all create them at once.
func (b *Broker) createsBuckets() bool {
	return !b.opts.clustered() || b.srv.JetStreamIsLeader()
}

// waitForJetStream waits until JetStream answers on this node: at once on
// a single node; in a cluster, once a majority of the nodes are up and
// have elected a meta leader. It logs every 10 s while it waits, since a
// node started alone waits for the others.
func (b *Broker) waitForJetStream(ctx context.Context, js jetstream.JetStream) error {
	if !b.opts.clustered() {
		return nil
	}
	start := time.Now()
	lastLog := start
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("devbroker: the cluster did not form (JetStream unavailable: %v); are a majority of the nodes in --routes up?", err)
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			b.logf("memphis-devbroker: waiting for a majority of the cluster's nodes (%s so far): %v",
				time.Since(start).Round(time.Second), err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// catchUpWait bounds how long Start waits for a restarted node to catch up.
const catchUpWait = time.Minute

// waitCaughtUp waits, in a cluster, until this node's replicas of every
// stream and consumer it holds are current (nats-server's health check),
// so that a node reported ready can take over from another one. The
// control plane already serves meanwhile. After catchUpWait it gives up
// waiting, with a warning: a group whose other replicas are all down
// cannot be caught up from.
func (b *Broker) waitCaughtUp(ctx context.Context) {
	if !b.opts.clustered() {
		return
	}
	deadline := time.Now().Add(catchUpWait)
	for {
		h := b.srv.Healthz(nil)
		if h.Status == "ok" {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.logf("memphis-devbroker: warning: not caught up with the cluster after %s: %s", catchUpWait, h.Error)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// errUnavailable is what a request gets when the cluster cannot serve it:
// JetStream has no quorum for the metadata (a majority of the nodes is
// down or unreachable) or is between leaders.
var errUnavailable = errors.New("memphis-devbroker cluster unavailable: no majority of the nodes is reachable, or a leader election is under way; retry when the nodes are back")

// unavailable reports whether err means JetStream could not be reached or
// had no leader (or a call to it went unanswered), rather than a refusal.
func unavailable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsErrCodeClusterNotAvailable, jsErrCodeLastSeqPerSubjectNotReady:
			return true
		}
	}
	return errors.Is(err, errUnavailable) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrJetStreamNotEnabled)
}
