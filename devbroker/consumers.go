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

const (
	defaultMaxAckTimeMs = 30000
	maxMsgDeliveries    = 10
)

// createConsumerReq is the $memphis_consumer_creations request (§7.1).
// The sequence fields are pointers so a hand-written request that leaves
// them out gets the SDK defaults (1 and -1) instead of an error.
type createConsumerReq struct {
	Name                     string `json:"name"`
	StationName              string `json:"station_name"`
	ConnectionID             string `json:"connection_id"`
	ConsumerType             string `json:"consumer_type"`
	ConsumersGroup           string `json:"consumers_group"`
	MaxAckTimeMs             int64  `json:"max_ack_time_ms"`
	MaxMsgDeliveries         int    `json:"max_msg_deliveries"`
	StartConsumeFromSequence *int64 `json:"start_consume_from_sequence"`
	LastMessages             *int64 `json:"last_messages"`
	ReqVersion               int    `json:"req_version"`
	Username                 string `json:"username"`
	AppID                    string `json:"app_id"`
	SdkLang                  string `json:"sdk_lang"`
}

// The §7 bodies shared with the SDK (internal/wire).
// Decoded requests are defined types, not aliases, so a malformed request
// still gets the error text it always had ("Go struct field createXxxReq...").
type (
	createConsumerResp = wire.CreateConsumerResp
	destroyConsumerReq wire.DestroyConsumerReq
)

func (b *Broker) handleConsumerCreate(ctx context.Context, data []byte) []byte {
	var req createConsumerReq
	if err := json.Unmarshal(data, &req); err != nil {
		return []byte(fmt.Sprintf("invalid consumer creation request: %v", err))
	}
	var resp *createConsumerResp
	err := b.withControl(ctx, func(ctx context.Context) (err error) {
		resp, err = b.createConsumer(ctx, req)
		return err
	})
	if err != nil {
		// Validation and creation failures are plain text (§7.2).
		return []byte(err.Error())
	}
	out, _ := json.Marshal(resp) // plain struct of strings/ints: cannot fail
	return out
}

// createConsumer validates the request, registers the consumer and makes
// sure the group's durable exists on every partition. Caller holds the control lock.
func (b *Broker) createConsumer(ctx context.Context, req createConsumerReq) (*createConsumerResp, error) {
	start, last := int64(1), int64(-1)
	if req.StartConsumeFromSequence != nil {
		start = *req.StartConsumeFromSequence
	}
	if req.LastMessages != nil {
		last = *req.LastMessages
	}
	if start <= 0 {
		return nil, errors.New("startConsumeFromSequence has to be a positive number")
	}
	if last < -1 {
		return nil, errors.New("min value for LastMessages is -1")
	}
	if start > 1 && last > -1 {
		return nil, errors.New("consumer creation options can't contain both startConsumeFromSequence and lastMessages")
	}
	name := strings.ToLower(req.Name)
	if err := validateName(name, objConsumer); err != nil {
		return nil, err
	}
	group := strings.ToLower(req.ConsumersGroup)
	if group == "" {
		group = name
	}
	if err := validateName(group, objConsumer); err != nil {
		return nil, err
	}
	ctype := strings.ToLower(req.ConsumerType)
	switch ctype {
	case "":
		ctype = "application"
	case "application", "connector":
	default:
		return nil, fmt.Errorf("consumer type has to be one of the following application/connector and not %s", req.ConsumerType)
	}
	ackMs := req.MaxAckTimeMs
	if ackMs <= 0 {
		ackMs = defaultMaxAckTimeMs
	}
	maxDeliver := req.MaxMsgDeliveries
	if maxDeliver <= 0 || maxDeliver > maxMsgDeliveries {
		maxDeliver = maxMsgDeliveries
	}
	st, err := b.stationForClient(ctx, req.StationName, req.Username, req.ReqVersion)
	if err != nil {
		return nil, err
	}
	rec := consumerRecord{
		Name: name, Station: st.Name, Group: group, ConnectionID: req.ConnectionID,
		ConsumerType: ctype, MaxAckTimeMs: ackMs, MaxMsgDeliveries: maxDeliver,
		StartSequence: uint64(start), LastMessages: last,
		Username: stripAccountID(req.Username), AppID: req.AppID, SdkLang: req.SdkLang,
		CreatedAt: time.Now().UTC(),
	}
	if err := b.ensureDurables(ctx, st, &rec); err != nil {
		return nil, err
	}
	if _, err := b.meta.put(ctx, bucketConsumers, metaKey(st.Name, name, req.ConnectionID), rec); err != nil {
		return nil, err
	}
	return &createConsumerResp{
		SchemaUpdate:     b.schemaUpdateFor(st.Name),
		PartitionsUpdate: partitionsUpdate{PartitionsList: st.PartitionsList},
	}, nil
}

// destroyConsumer deletes the consumer record and, when no other active
// member of its group remains, the group's durables (§7.5). Caller holds the control lock.
func (b *Broker) destroyConsumer(ctx context.Context, req destroyConsumerReq) error {
	name := strings.ToLower(req.Name)
	station := externalName(req.StationName)
	var rec consumerRecord
	found, err := b.takeMember(ctx, bucketConsumers, station, name, req.ConnectionID, req.ReqVersion, &rec)
	if err != nil {
		return err
	}
	if !found {
		// As the real broker: both names as the request gave them.
		return fmt.Errorf("Consumer %s at station %s does not exist", req.Name, req.StationName)
	}
	members, err := b.stationConsumers(ctx, rec.Station)
	if err != nil {
		return err
	}
	live := b.connectedIDs(ctx)
	for _, m := range members {
		if m.Group == rec.Group && live[m.ConnectionID] {
			return nil // another active member keeps the group's position
		}
	}
	st, found, err := b.getStation(ctx, rec.Station)
	if err != nil || !found {
		return err
	}
	if err := b.deleteDurables(ctx, st, rec.Group); err != nil {
		return err
	}
	return b.removeGroupFromDLS(ctx, st.Name, rec.Group)
}
