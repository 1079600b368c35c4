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
// to keep the direct path. The routing is re-derived from the producer
// records on every producer creation and destruction, station destruction
// and broker start. Each routed partition is one account subject mapping,
// which nats-server looks through on every publish in the account, so
// their number (partitions of routed stations) is a small per-message cost
// for every client; a development broker has few.

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
	nc     *nats.Conn
	sub    *nats.Subscription
	routed map[string][]int // station -> partitions mapped; guarded by b.mu
	// streams holds the routed partition streams for forward, which runs
	// without b.mu: a message published straight to the ingest subject of
	// any other stream is dropped, never stored under "<stream>.ingest".
	streams sync.Map // stream name -> struct{}
}

// ingestPendingBytes bounds what the ingest subscription buffers; beyond
// it messages are dropped and their producers see an ack timeout, never a
// false success. Producers' in-flight windows keep it far below this.
const ingestPendingBytes = 256 << 20

func (b *Broker) startMsgIDIngest(ctx context.Context) error {
	in := &msgIDIngest{b: b, acc: b.srv.GlobalAccount(), routed: map[string][]int{}}
	b.ingest = in
	if b.opts.DisableMsgIDDedup {
		return nil
	}
	nc, err := b.internalConn("memphis-devbroker-msgid-ingest")
	if err != nil {
		return err
	}
	in.nc = nc
	if in.sub, err = nc.Subscribe(msgIDIngestPrefix+".*", in.forward); err != nil {
		return fmt.Errorf("devbroker: subscribe %s: %w", msgIDIngestPrefix, err)
	}
	if err := in.sub.SetPendingLimits(-1, ingestPendingBytes); err != nil {
		return fmt.Errorf("devbroker: ingest pending limits: %w", err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("devbroker: flush ingest subscription: %w", err)
	}
	stations, err := b.listStations(ctx)
	if err != nil {
		return err
	}
	for _, st := range stations {
		if err := b.updateMsgIDRouting(ctx, st); err != nil {
			return err
		}
	}
	return nil
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

func (in *msgIDIngest) close() {
	if in != nil && in.nc != nil {
		in.nc.Close()
	}
}

// needsMsgIDIngest reports whether a producer created with this sdk_lang
// may send msg-id without Nats-Msg-Id.
func needsMsgIDIngest(sdkLang string) bool { return sdkLang != wire.SDKLang }

// updateMsgIDRouting routes a station through the ingest path exactly
// while one of its producers needs it. Caller holds b.mu.
func (b *Broker) updateMsgIDRouting(ctx context.Context, st *stationRecord) error {
	in := b.ingest
	if in == nil || in.nc == nil {
		return nil
	}
	keys, err := b.meta.keys(ctx, bucketProducers, metaKey(st.Name)+"/")
	if err != nil {
		return err
	}
	need := false
	for _, k := range keys {
		var p producerRecord
		found, err := b.meta.get(ctx, bucketProducers, k, &p)
		if err != nil {
			return err
		}
		if found && needsMsgIDIngest(p.SdkLang) {
			need = true
			break
		}
	}
	_, routed := in.routed[st.Name]
	switch {
	case need && !routed:
		for _, p := range st.PartitionsList {
			if err := b.ensureIngestTransform(ctx, st, p); err != nil {
				return err
			}
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
	case !need && routed:
		b.unrouteMsgID(st.Name)
	}
	return nil
}

// unrouteMsgID sends a station's producers straight to its streams again
// (also before the station is destroyed). Caller holds b.mu.
func (b *Broker) unrouteMsgID(station string) {
	if in := b.ingest; in != nil {
		if parts, ok := in.routed[station]; ok {
			in.unroute(station, parts)
		}
	}
}

func (in *msgIDIngest) unroute(station string, partitions []int) {
	for _, p := range partitions {
		stream := streamName(station, p)
		in.acc.RemoveMapping(stream + ".final")
		in.streams.Delete(stream)
	}
	delete(in.routed, station)
}

// ensureIngestTransform gives a partition stream the subject transform
// that stores "<stream>.ingest" as "<stream>.final" (streams made before
// a station needed the ingest path lack it).
func (b *Broker) ensureIngestTransform(ctx context.Context, st *stationRecord, partition int) error {
	name := streamName(st.Name, partition)
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
}

func ingestTransform(stream string) *jetstream.SubjectTransformConfig {
	return &jetstream.SubjectTransformConfig{Source: stream + "." + ingestSuffix, Destination: stream + ".final"}
}
