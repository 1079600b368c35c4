package devbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// msg-id de-duplication for SDKs that send only "msg-id".
//
// The real broker's fork of nats-server de-duplicates on the "msg-id"
// header (§6.5); a stock nats-server only on "Nats-Msg-Id". libmemphis
// sends both; the official SDKs send only msg-id. nats-server can neither
// rename a header nor route by one, so messages that need the bridge pass
// through the broker on their way to the stream:
//
//	producer --"<S>$<p>.final"--> account subject mapping
//	  --"$memphis_msgid_ingest.<S>$<p>"--> this ingest path: copy msg-id
//	  into Nats-Msg-Id --"<S>$<p>.ingest" (same reply subject)--> stream,
//	  whose subject transform stores it as "<S>$<p>.final".
//
// The stream still de-duplicates (per partition, within the station's
// idempotency window) and answers the producer's PubAck itself, duplicate
// flag included, exactly as on the real broker.
//
// The detour costs (a second pass through the server for every message),
// so it is set up only for stations that have a producer which may send
// msg-id alone: any producer whose creation request does not carry
// libmemphis's sdk_lang (wire.SDKLang). Stations only libmemphis produces
// to keep the direct path. Each routed partition is one account subject
// mapping, which nats-server looks through on every publish in the
// account, so their number (partitions of routed stations) is a small
// per-message cost for every client; a development broker has few.
//
// In a cluster: account mappings are each node's own (nats-server does not
// replicate them), so every node derives its routing from the producer
// records, watching the replicated producers bucket; a producer creation
// is answered once the answering node's routing includes it, the other
// nodes follow within moments. The ingest subscriptions form one queue
// group, so each message is forwarded exactly once (by the node the
// producer is connected to, which nats-server prefers).

// msgIDIngestPrefix is where mapped messages arrive.
const msgIDIngestPrefix = "$memphis_msgid_ingest"

// ingestSuffix is the subject token the ingest path republishes on; the
// stream's subject transform turns it into "final". SDK users may not
// publish it (permissions.go).
const ingestSuffix = "ingest"

const (
	hdrMsgID     = "msg-id"      // Memphis (§6.2)
	hdrNatsMsgID = "Nats-Msg-Id" // what a stock nats-server de-duplicates on
)

// msgIDIngest is the running ingest path.
type msgIDIngest struct {
	b   *Broker
	acc *server.Account
	// nc is a connection of its own: if the server ever cut it as a slow
	// consumer, the control plane would keep running.
	nc      *nats.Conn
	sub     *nats.Subscription
	watcher jetstream.KeyWatcher
	stopped chan struct{} // closed when the watch loop has ended

	mu      sync.Mutex
	changed *sync.Cond
	needers map[string]map[string]bool // station -> keys of its producers that need the ingest path
	routed  map[string][]int           // station -> partitions mapped
	failed  map[string]error           // station -> why its routing could not be set up
	applied uint64                     // producers-bucket revision the routing reflects
	// streams holds the routed partition streams for forward, which runs
	// without mu: a message published straight to the ingest subject of
	// any other stream is dropped, never stored under "<stream>.ingest".
	streams sync.Map // stream name -> struct{}
}

// msgIDIngestQueue is the queue group of the nodes' ingest subscriptions.
const msgIDIngestQueue = "memphis_msgid_ingest"

// ingestPendingBytes bounds what the ingest subscription buffers; beyond
// it messages are dropped and their producers see an ack timeout, never a
// false success. Producers' in-flight windows keep it far below this.
const ingestPendingBytes = 256 << 20

func (b *Broker) startMsgIDIngest(ctx context.Context) error {
	in := &msgIDIngest{
		b: b, acc: b.srv.GlobalAccount(),
		needers: map[string]map[string]bool{}, routed: map[string][]int{}, failed: map[string]error{},
	}
	in.changed = sync.NewCond(&in.mu)
	b.ingest = in
	if b.opts.DisableMsgIDDedup {
		return nil
	}
	nc, err := b.internalConn("memphis-devbroker-msgid-ingest")
	if err != nil {
		return err
	}
	in.nc = nc
	if in.sub, err = nc.QueueSubscribe(msgIDIngestPrefix+".*", msgIDIngestQueue, in.forward); err != nil {
		return fmt.Errorf("devbroker: subscribe %s: %w", msgIDIngestPrefix, err)
	}
	if err := in.sub.SetPendingLimits(-1, ingestPendingBytes); err != nil {
		return fmt.Errorf("devbroker: ingest pending limits: %w", err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("devbroker: flush ingest subscription: %w", err)
	}
	// The watcher lives as long as the broker, not as long as Start's ctx.
	in.watcher, err = b.meta.kvs[bucketProducers].WatchAll(b.ctx)
	if err != nil {
		return fmt.Errorf("devbroker: watch the producers: %w", err)
	}
	in.stopped = make(chan struct{})
	initial := make(chan struct{})
	go in.watch(initial)
	select {
	case <-initial:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("devbroker: load the producers: %w", ctx.Err())
	}
}

// watch applies the producer records to the routing: first the current
// ones (then initial is closed), then every change.
func (in *msgIDIngest) watch(initial chan struct{}) {
	defer close(in.stopped)
	for e := range in.watcher.Updates() {
		if e == nil {
			close(initial)
			continue
		}
		in.apply(e)
	}
}

// apply folds one producer record change into the routing.
func (in *msgIDIngest) apply(e jetstream.KeyValueEntry) {
	station, _, _ := strings.Cut(e.Key(), "/")
	station = decodeKeyPart(station)
	need := false
	if e.Operation() == jetstream.KeyValuePut {
		var p producerRecord
		if err := json.Unmarshal(e.Value(), &p); err != nil {
			in.b.logf("devbroker: producer record %s: %v", e.Key(), err)
		} else {
			need, station = needsMsgIDIngest(p.SdkLang), p.Station
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	defer in.changed.Broadcast()
	in.applied = max(in.applied, e.Revision())
	set := in.needers[station]
	if need {
		if set == nil {
			set = map[string]bool{}
			in.needers[station] = set
		}
		set[e.Key()] = true
	} else {
		delete(set, e.Key())
	}
	want := in.routed[station]
	switch {
	case len(set) > 0 && want == nil:
		delete(in.failed, station)
		if err := in.route(station); err != nil {
			in.failed[station] = err
			in.b.logf("devbroker: %v", err)
		}
	case len(set) == 0:
		delete(in.needers, station)
		delete(in.failed, station)
		if want != nil {
			in.unroute(station, want)
		}
	}
}

// route maps a station's partitions to the ingest path. Their streams
// already store what the ingest path republishes: the producer's creation
// gave them the subject transform (prepareMsgIDIngest) before its record
// was written. Caller holds in.mu.
func (in *msgIDIngest) route(station string) error {
	b := in.b
	ctx, cancel := context.WithTimeout(b.ctx, requestTimeout)
	defer cancel()
	st, found, err := b.getStation(ctx, station)
	if err != nil || !found {
		// A producer record outlives its station only while the station
		// is being destroyed; its removal follows.
		return err
	}
	for _, p := range st.PartitionsList {
		stream := streamName(st.Name, p)
		in.streams.Store(stream, struct{}{})
		if err := in.acc.AddMapping(stream+".final", msgIDIngestPrefix+"."+stream); err != nil {
			in.unroute(st.Name, st.PartitionsList)
			return fmt.Errorf("route %s through the msg-id ingest: %w", stream, err)
		}
	}
	in.routed[st.Name] = st.PartitionsList
	return nil
}

// waitRouted waits until this node's routing reflects the producers
// bucket up to revision rev, and reports whether the station's routing
// could be set up. Its callers hold the control lock, so the wait is
// bounded like a JetStream call: a watcher stalled by a node's death makes
// it fail as unavailable, and withControl tries again without the lock.
func (in *msgIDIngest) waitRouted(ctx context.Context, rev uint64, station string) error {
	if in == nil || in.watcher == nil {
		return nil
	}
	ctx, cancel := jsCall(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		in.mu.Lock()
		defer in.mu.Unlock()
		in.changed.Broadcast()
	})
	defer stop()
	in.mu.Lock()
	defer in.mu.Unlock()
	for in.applied < rev {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("route station %s through the msg-id ingest: %w", station, err)
		}
		in.changed.Wait()
	}
	return in.failed[station]
}

// forward copies msg-id into Nats-Msg-Id and hands the message to its
// stream with the producer's reply subject, so the stream's PubAck (or its
// "no responders") goes straight back to the producer.
func (in *msgIDIngest) forward(m *nats.Msg) {
	stream := strings.TrimPrefix(m.Subject, msgIDIngestPrefix+".")
	if _, ok := in.streams.Load(stream); !ok {
		return
	}
	out := &nats.Msg{Subject: stream + "." + ingestSuffix, Reply: m.Reply, Header: m.Header, Data: m.Data}
	if id := m.Header.Get(hdrMsgID); id != "" && m.Header.Get(hdrNatsMsgID) == "" {
		out.Header.Set(hdrNatsMsgID, id)
	}
	err := in.nc.PublishMsg(out)
	switch {
	case err == nil:
	case errors.Is(err, nats.ErrMaxPayload) && m.Reply != "":
		// The added header pushed a message that was just under the
		// payload limit over it: answer as a stream refusing a message.
		resp, _ := json.Marshal(map[string]any{"error": map[string]any{
			"code": 400, "err_code": 10054, "description": "message size exceeds maximum allowed"}})
		_ = in.nc.Publish(m.Reply, resp)
	default:
		// The producer gets no PubAck and reports its ack timeout.
		in.b.logf("devbroker: msg-id ingest for %s: %v", stream, err)
	}
}

// close closes the ingest connection; the watcher ends with the broker's
// connection (waitStopped).
func (in *msgIDIngest) close() {
	if in != nil && in.nc != nil {
		in.nc.Close()
	}
}

// waitStopped waits for the watch loop to end once the broker's
// connection is closed.
func (in *msgIDIngest) waitStopped() {
	if in != nil && in.stopped != nil {
		<-in.stopped
	}
}

// needsMsgIDIngest reports whether a producer created with this sdk_lang
// may send msg-id without Nats-Msg-Id.
func needsMsgIDIngest(sdkLang string) bool { return sdkLang != wire.SDKLang }

// unroute sends a station's producers straight to its streams again.
// Caller holds in.mu.
func (in *msgIDIngest) unroute(station string, partitions []int) {
	for _, p := range partitions {
		stream := streamName(station, p)
		in.acc.RemoveMapping(stream + ".final")
		in.streams.Delete(stream)
	}
	delete(in.routed, station)
}

// isRouted reports whether this node routes the station.
func (in *msgIDIngest) isRouted(station string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, ok := in.routed[station]
	return ok
}

// routedStations lists the stations this node routes (tests).
func (in *msgIDIngest) routedStations() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]string, 0, len(in.routed))
	for st := range in.routed {
		out = append(out, st)
	}
	return out
}

// prepareMsgIDIngest readies a station for a producer that may send msg-id
// alone: each partition stream gets the subject transform the ingest path
// needs. It runs once, on the node creating the producer, before the
// producer's record is written and the nodes route the station; done by
// every node at once, the same stream updates would meet each other.
// Caller holds the control lock.
func (b *Broker) prepareMsgIDIngest(ctx context.Context, st *stationRecord, sdkLang string) error {
	if b.ingest == nil || b.ingest.watcher == nil || !needsMsgIDIngest(sdkLang) {
		return nil
	}
	for _, p := range st.PartitionsList {
		if err := b.ensureIngestTransform(ctx, st, p); err != nil {
			return err
		}
	}
	return nil
}

// ensureIngestTransform gives a partition stream the subject transform
// that stores "<stream>.ingest" as "<stream>.final" (streams made before
// a station needed the ingest path lack it).
func (b *Broker) ensureIngestTransform(ctx context.Context, st *stationRecord, partition int) error {
	name := streamName(st.Name, partition)
	return retryUnavailable(ctx, func(ctx context.Context) error {
		s, err := b.js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		cfg := s.CachedInfo().Config
		want := ingestTransform(name)
		if cfg.SubjectTransform != nil && *cfg.SubjectTransform == *want {
			return nil
		}
		cfg.SubjectTransform = want
		if _, err := b.js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("add the msg-id ingest transform to %s: %w", name, err)
		}
		return nil
	})
}

func ingestTransform(stream string) *jetstream.SubjectTransformConfig {
	return &jetstream.SubjectTransformConfig{Source: stream + "." + ingestSuffix, Destination: stream + ".final"}
}
