package devbroker

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// resendPoison publishes a poison message to the group's DLS subjects, new
// and legacy form, with the §8.6 headers. Unlike the real broker, which
// waits for a person to press "resend" in its UI, this happens at once.
func (b *Broker) resendPoison(row *dlsRow, group string) {
	h := nats.Header{}
	for k, v := range row.Headers {
		if k == "producedBy" {
			continue
		}
		h[k] = append([]string(nil), v...)
	}
	h.Set(hdrPMID, strconv.FormatUint(row.ID, 10))
	h.Set(hdrPMGroup, group)
	h.Set(hdrProducedBy, producedByDLS)
	st, g := internalName(row.Station), internalName(group)
	for _, subj := range []string{wire.DLSSubject(st, g), wire.LegacyDLSSubject(st, g)} {
		if err := b.nc.PublishMsg(&nats.Msg{Subject: subj, Header: h, Data: row.Data}); err != nil {
			b.logf("devbroker: resend poison message to %s: %v", subj, err)
		}
	}
}

// forwardToDLSStation stores a copy of a dead letter in the station's
// dls_station (§8.7), on a random partition. Caller holds the control lock.
func (b *Broker) forwardToDLSStation(ctx context.Context, st *stationRecord, row *dlsRow, kind string) {
	if st.DlsStation == "" {
		return
	}
	target, found, err := b.getStation(ctx, st.DlsStation)
	if err != nil || !found || len(target.PartitionsList) == 0 {
		return
	}
	p := target.PartitionsList[rand.IntN(len(target.PartitionsList))]
	h := nats.Header{}
	for k, v := range row.Headers {
		// JetStream control headers of the original publish (de-dup id,
		// expectations) must not apply to the copy.
		if strings.HasPrefix(k, "Nats-") {
			continue
		}
		h[k] = append([]string(nil), v...)
	}
	h.Set("station", st.Name)
	h.Set("type", kind)
	msg := &nats.Msg{Subject: finalSubject(target.Name, p), Header: h, Data: row.Data}
	callCtx, cancel := jsCall(ctx)
	defer cancel()
	if _, err := b.js.PublishMsg(callCtx, msg); err != nil {
		b.logf("devbroker: forward dead letter of %s to %s: %v", st.Name, target.Name, err)
	}
}
