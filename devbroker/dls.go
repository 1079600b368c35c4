package devbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// Dead-letter subjects (protocol doc §8).
const (
	subjMaxDeliveries  = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"
	subjNackedDLS      = wire.SubjNackedDLS
	subjSchemaverseDLS = wire.SubjSchemaverseDLS
	subjPMAcks         = wire.SubjPMAcks
	subjNotifications  = wire.SubjNotifications

	hdrProducedBy = "$memphis_producedBy"
	hdrConnID     = "$memphis_connectionId"
	hdrPMID       = "$memphis_pm_id"
	hdrPMGroup    = "$memphis_pm_cg_name"
	producedByDLS = "$memphis_dls"
)

// subscribeDLS subscribes the dead-letter side channels on the internal
// connection. They are fire-and-forget publishes: nothing is replied.
func (b *Broker) subscribeDLS() error {
	for _, s := range []struct {
		subject string
		h       requestHandler
	}{
		{subjMaxDeliveries, b.handleMaxDeliveries},
		{subjNackedDLS, b.handleNackedDLS},
		{subjSchemaverseDLS, b.handleSchemaverseDLS},
		{subjPMAcks, b.handlePMAck},
		{subjNotifications, b.handleNotification},
	} {
		if err := b.serve(s.subject, "memphis_devbroker_"+strings.TrimPrefix(s.subject, "$"), s.h); err != nil {
			return err
		}
	}
	return nil
}

// maxDeliveriesAdvisory is the part of JetStream's max_deliver advisory we
// use; a stock server sends no payload, so the message is loaded by seq.
type maxDeliveriesAdvisory struct {
	Stream    string `json:"stream"`
	Consumer  string `json:"consumer"`
	StreamSeq uint64 `json:"stream_seq"`
}

// handleMaxDeliveries turns a max-deliveries advisory into a poison row
// and resends the message to the group's DLS subject (§8.5, §8.6).
func (b *Broker) handleMaxDeliveries(ctx context.Context, data []byte) []byte {
	var adv maxDeliveriesAdvisory
	if err := json.Unmarshal(data, &adv); err != nil {
		b.logf("devbroker: bad max deliveries advisory: %v", err)
		return nil
	}
	internal, part, ok := strings.Cut(adv.Stream, "$")
	p, err := strconv.Atoi(part)
	if !ok || err != nil || strings.HasPrefix(adv.Stream, "$memphis") {
		return nil // not a station partition stream
	}
	b.logIfFailed("record a poison message", b.withControl(ctx, func(ctx context.Context) error {
		b.recordPoison(ctx, externalName(internal), p, adv.StreamSeq, externalName(adv.Consumer), "", true)
		return nil
	}))
	return nil
}

// nackedDLSMsg is a consumer's explicit dead-letter request (§8.4, internal/wire).
type nackedDLSMsg wire.NackedDLS

// handleNackedDLS records a message a consumer dead-lettered. It is not
// resent to the group: the group itself asked to be rid of it.
func (b *Broker) handleNackedDLS(ctx context.Context, data []byte) []byte {
	var m nackedDLSMsg
	if err := json.Unmarshal(data, &m); err != nil {
		b.logf("devbroker: bad %s message: %v", subjNackedDLS, err)
		return nil
	}
	if m.Partition <= 0 {
		return nil
	}
	b.logIfFailed("record a dead-lettered message", b.withControl(ctx, func(ctx context.Context) error {
		b.recordPoison(ctx, externalName(m.StationName), m.Partition, m.Seq, strings.ToLower(m.CgName), m.Error, false)
		return nil
	}))
	return nil
}

// recordPoison stores a poison row for (station, partition, seq) and
// group, forwards a new row to the DLS station and, when resend is set,
// sends the message to the group's DLS subject. Caller holds the control lock.
func (b *Broker) recordPoison(ctx context.Context, station string, partition int, seq uint64, group, reason string, resend bool) {
	st, found, err := b.getStation(ctx, station)
	if err != nil || !found || !st.DlsConfiguration.Poison {
		return
	}
	if !b.groupExists(ctx, st.Name, group) {
		return // like the real broker: only groups it knows about
	}
	callCtx, cancel := jsCall(ctx)
	defer cancel()
	stream, err := b.js.Stream(callCtx, streamName(st.Name, partition))
	if err != nil {
		return
	}
	raw, err := stream.GetMsg(callCtx, seq)
	if err != nil {
		return // the message is gone (retention) or the stream changed
	}
	if raw.Header.Get(hdrProducedBy) == producedByDLS {
		return
	}
	row, isNew, added, err := b.addPoisonGroup(ctx, dlsRow{
		Station: st.Name, Partition: partition, Seq: seq, Error: reason,
		Producer: raw.Header.Get(hdrProducedBy), ConnID: raw.Header.Get(hdrConnID),
		Data: raw.Data, Headers: raw.Header,
	}, group)
	if err != nil {
		b.logf("devbroker: store poison message %s/%d/%d: %v", st.Name, partition, seq, err)
		return
	}
	if isNew {
		b.forwardToDLSStation(ctx, st, row, "unacked")
	}
	if resend && added {
		b.resendPoison(row, group)
	}
}

// groupExists reports whether any consumer record of the station belongs
// to group. Caller holds the control lock.
func (b *Broker) groupExists(ctx context.Context, station, group string) bool {
	members, err := b.stationConsumers(ctx, station)
	if err != nil {
		return false
	}
	for _, m := range members {
		if m.Group == group {
			return true
		}
	}
	return false
}

// pmAck is a consumer's ack of a resent poison message (§8.6).
type pmAck struct {
	ID     json.Number `json:"id"`
	CgName string      `json:"cg_name"`
}

func (b *Broker) handlePMAck(ctx context.Context, data []byte) []byte {
	var a pmAck
	if err := json.Unmarshal(data, &a); err != nil {
		b.logf("devbroker: bad %s message: %v", subjPMAcks, err)
		return nil
	}
	id, err := strconv.ParseUint(a.ID.String(), 10, 64)
	if err != nil {
		b.logf("devbroker: %s: bad id %q", subjPMAcks, a.ID)
		return nil
	}
	b.logIfFailed(fmt.Sprintf("ack poison message %d", id), b.withControl(ctx, func(ctx context.Context) error {
		return b.ackPoison(ctx, id, strings.ToLower(a.CgName))
	}))
	return nil
}

// handleNotification accepts $memphis_notifications; there is no Slack
// here, so the alert only goes to the broker's log.
func (b *Broker) handleNotification(ctx context.Context, data []byte) []byte {
	b.logf("devbroker: notification: %s", data)
	return nil
}

// dlsRows lists a station's DLS rows (tests reach it via export_test.go).
func (b *Broker) dlsRows(ctx context.Context, station string) ([]dlsRow, error) {
	var rows map[string]*dlsRow
	err := b.withControl(ctx, func(ctx context.Context) (err error) {
		rows, err = b.stationDLSRows(ctx, externalName(station))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]dlsRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	return out, nil
}

// logIfFailed logs the error of a side-channel handler, which has nobody
// to answer.
func (b *Broker) logIfFailed(what string, err error) {
	if err != nil {
		b.logf("devbroker: %s: %v", what, err)
	}
}
