package devbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libmemphis/libmemphis/internal/wire"
)

// The §5 bodies shared with the SDK (internal/wire). A success fills every
// key of createProducerResp because memphis.py indexes them directly.
// Decoded requests are defined types, not aliases, so a malformed request
// still gets the error text it always had ("Go struct field createXxxReq...").
type (
	createProducerReq  wire.CreateProducerReq
	partitionsUpdate   = wire.PartitionsUpdate
	createProducerResp = wire.CreateProducerResp
	destroyProducerReq wire.DestroyProducerReq
)

var errNoAutoCreate = errors.New("This station does not exist, a default station can not be created automatically, please upgrade your SDK version")

func (b *Broker) handleProducerCreate(ctx context.Context, data []byte) []byte {
	resp := createProducerResp{
		SchemaUpdate:                    schemaUpdate{},
		StationPartitionsFirstFunctions: map[string]int{},
		PartitionsUpdate:                partitionsUpdate{PartitionsList: []int{}},
	}
	var req createProducerReq
	err := json.Unmarshal(data, &req)
	if err != nil {
		err = fmt.Errorf("invalid producer creation request: %v", err)
	} else {
		err = b.withControl(ctx, func(ctx context.Context) error {
			return b.createProducer(ctx, req, &resp)
		})
	}
	if err != nil {
		// The real broker answers its zero-valued response with the error
		// set: the functions map is null here (memphis.py reads it only
		// after checking the error).
		resp = createProducerResp{Error: err.Error()}
	}
	out, _ := json.Marshal(resp) // plain struct of strings/ints: cannot fail
	return out
}

// createProducer registers a producer, auto-creating its station, and
// fills resp. Caller holds the control lock.
func (b *Broker) createProducer(ctx context.Context, req createProducerReq, resp *createProducerResp) error {
	name := strings.ToLower(req.Name)
	if err := validateName(name, objProducer); err != nil {
		return err
	}
	ptype := strings.ToLower(req.ProducerType)
	switch ptype {
	case "":
		ptype = "application"
	case "application", "connector":
	default:
		return errors.New("producer type has to be one of the following application/connector")
	}
	st, err := b.stationForClient(ctx, req.StationName, req.Username, req.ReqVersion)
	if err != nil {
		return err
	}
	if req.ReqVersion < 2 && len(st.PartitionsList) > 1 {
		// Pre-partition SDKs publish to "<station>.final", which no
		// partition stream captures.
		return errors.New("to produce to this station please upgrade your SDK version")
	}
	if err := b.prepareMsgIDIngest(ctx, st, req.SdkLang); err != nil {
		return err
	}
	rec := producerRecord{
		Name: name, Station: st.Name, ConnectionID: req.ConnectionID, ProducerType: ptype,
		Username: stripAccountID(req.Username), AppID: req.AppID, SdkLang: req.SdkLang,
		CreatedAt: time.Now().UTC(),
	}
	rev, err := b.meta.put(ctx, bucketProducers, metaKey(st.Name, name, req.ConnectionID), rec)
	if err != nil {
		return err
	}
	// The producer may send msg-id alone from its first message on: answer
	// once this node routes its station accordingly (msgid_ingest.go).
	if needsMsgIDIngest(req.SdkLang) {
		if err := b.ingest.waitRouted(ctx, rev, st.Name); err != nil {
			return err
		}
	}
	resp.SchemaUpdate = b.schemaUpdateFor(st.Name)
	resp.PartitionsUpdate = partitionsUpdate{PartitionsList: st.PartitionsList}
	resp.SchemaverseToDls = st.DlsConfiguration.Schemaverse
	resp.StationVersion = st.Version
	return nil
}

// waitMsgIDRouting waits until this node's msg-id routing reflects every
// producer change made so far, so the answer to a destruction is not
// ahead of the path the station's messages take.
func (b *Broker) waitMsgIDRouting(ctx context.Context, station string) error {
	if b.ingest == nil || b.ingest.watcher == nil || !b.ingest.isRouted(station) {
		return nil
	}
	rev, err := b.meta.revision(ctx, bucketProducers)
	if err != nil {
		return err
	}
	return b.ingest.waitRouted(ctx, rev, station)
}

// stationForClient returns the station a producer or consumer binds to,
// creating a default station when it is missing (§4.3). Caller holds the control lock.
func (b *Broker) stationForClient(ctx context.Context, stationName, user string, reqVersion int) (*stationRecord, error) {
	name := strings.ToLower(stationName)
	if err := validateName(name, objStation); err != nil {
		return nil, err
	}
	st, found, err := b.getStation(ctx, name)
	if err != nil || found {
		return st, err
	}
	if reqVersion < 2 {
		return nil, errNoAutoCreate
	}
	if err := b.createStation(ctx, defaultStationReq(name, user)); err != nil {
		return nil, err
	}
	st, found, err = b.getStation(ctx, name)
	if err == nil && !found {
		err = fmt.Errorf("station %s vanished after creation", name)
	}
	return st, err
}

// destroyProducer deletes the producer record. Like the real broker
// (whose delete query reports success whether or not a row matched), a
// producer that is already gone, or whose station is, is a success: an
// application that destroys twice must not break only here. Caller holds
// the control lock.
func (b *Broker) destroyProducer(ctx context.Context, req destroyProducerReq) error {
	name := strings.ToLower(req.Name)
	station := externalName(req.StationName)
	if err := validateName(station, objStation); err != nil {
		return err
	}
	var rec producerRecord
	found, err := b.takeMember(ctx, bucketProducers, station, name, req.ConnectionID, req.ReqVersion, &rec)
	if err != nil || !found {
		return err
	}
	return b.waitMsgIDRouting(ctx, station)
}
