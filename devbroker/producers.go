package devbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// createProducerReq is the $memphis_producer_creations request (§5.1).
type createProducerReq struct {
	Name         string `json:"name"`
	StationName  string `json:"station_name"`
	ConnectionID string `json:"connection_id"`
	ProducerType string `json:"producer_type"`
	ReqVersion   int    `json:"req_version"`
	Username     string `json:"username"`
	AppID        string `json:"app_id"`
	SdkLang      string `json:"sdk_lang"`
}

type partitionsUpdate struct {
	PartitionsList []int `json:"partitions_list"`
}

// createProducerResp is the style-B response of §5.2; every key is always
// present because memphis.py indexes them directly.
type createProducerResp struct {
	SchemaUpdate                    schemaUpdate     `json:"schema_update"`
	PartitionsUpdate                partitionsUpdate `json:"partitions_update"`
	SchemaverseToDls                bool             `json:"schemaverse_to_dls"`
	SendNotification                bool             `json:"send_notification"`
	StationVersion                  int              `json:"station_version"`
	StationPartitionsFirstFunctions map[string]int   `json:"station_partitions_first_functions"`
	Error                           string           `json:"error"`
}

type destroyProducerReq struct {
	Name         string `json:"name"`
	StationName  string `json:"station_name"`
	Username     string `json:"username"`
	ConnectionID string `json:"connection_id"`
	ReqVersion   int    `json:"req_version"`
}

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
		b.mu.Lock()
		err = b.createProducer(ctx, req, &resp)
		b.mu.Unlock()
	}
	if err != nil {
		resp = createProducerResp{
			SchemaUpdate:                    schemaUpdate{},
			StationPartitionsFirstFunctions: map[string]int{},
			Error:                           err.Error(),
		}
	}
	out, _ := json.Marshal(resp) // plain struct of strings/ints: cannot fail
	return out
}

// createProducer registers a producer, auto-creating its station, and
// fills resp. Caller holds b.mu.
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
	rec := producerRecord{
		Name: name, Station: st.Name, ConnectionID: req.ConnectionID, ProducerType: ptype,
		Username: stripAccountID(req.Username), AppID: req.AppID, SdkLang: req.SdkLang,
		CreatedAt: time.Now().UTC(),
	}
	if _, err := b.meta.put(ctx, bucketProducers, metaKey(st.Name, name, req.ConnectionID), rec); err != nil {
		return err
	}
	resp.SchemaUpdate = b.schemaUpdateFor(st.Name)
	resp.PartitionsUpdate = partitionsUpdate{PartitionsList: st.PartitionsList}
	resp.SchemaverseToDls = st.DlsConfiguration.Schemaverse
	resp.StationVersion = st.Version
	return nil
}

// stationForClient returns the station a producer or consumer binds to,
// creating a default station when it is missing (§4.3). Caller holds b.mu.
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

// destroyProducer deletes the producer record. Caller holds b.mu.
func (b *Broker) destroyProducer(ctx context.Context, req destroyProducerReq) error {
	name := strings.ToLower(req.Name)
	station := externalName(req.StationName)
	var rec producerRecord
	found, err := b.takeMember(ctx, bucketProducers, station, name, req.ConnectionID, req.ReqVersion, &rec)
	if err == nil && !found {
		err = fmt.Errorf("Producer %s at station %s does not exist", name, req.StationName)
	}
	return err
}
