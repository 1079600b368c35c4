package devbroker

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// producerRecord is a producer's metadata (bucket memphis_producers, key =
// station/name/connection id).
type producerRecord struct {
	Name         string    `json:"name"`
	Station      string    `json:"station"`
	ConnectionID string    `json:"connection_id"`
	ProducerType string    `json:"producer_type"`
	Username     string    `json:"username"`
	AppID        string    `json:"app_id"`
	SdkLang      string    `json:"sdk_lang"`
	CreatedAt    time.Time `json:"created_at"`
}

// consumerRecord is a consumer's metadata (bucket memphis_consumers, key =
// station/name/connection id).
type consumerRecord struct {
	Name             string    `json:"name"`
	Station          string    `json:"station"`
	Group            string    `json:"consumers_group"` // external group name
	ConnectionID     string    `json:"connection_id"`
	ConsumerType     string    `json:"consumer_type"`
	MaxAckTimeMs     int64     `json:"max_ack_time_ms"`
	MaxMsgDeliveries int       `json:"max_msg_deliveries"`
	StartSequence    uint64    `json:"start_consume_from_sequence"`
	LastMessages     int64     `json:"last_messages"`
	Username         string    `json:"username"`
	AppID            string    `json:"app_id"`
	SdkLang          string    `json:"sdk_lang"`
	CreatedAt        time.Time `json:"created_at"`
}

// connectedIDs returns the Memphis connection ids (the part before "::" in
// a connection name) of every open client connection. A producer or
// consumer is active exactly when its connection id is in this set, which
// gives the activity tracking of §2.5 without a disconnect hook: NATS
// reconnects keep the name, so records become active again by themselves.
func (b *Broker) connectedIDs() map[string]bool {
	ids := map[string]bool{}
	cz, err := b.srv.Connz(&server.ConnzOptions{Limit: 1 << 20})
	if err != nil {
		b.logf("devbroker: list connections: %v", err)
		return ids
	}
	for _, c := range cz.Conns {
		if id, _, ok := strings.Cut(c.Name, "::"); ok {
			ids[id] = true
		}
	}
	return ids
}

// stationConsumers lists the consumer records of a station. Caller holds b.mu.
func (b *Broker) stationConsumers(ctx context.Context, station string) ([]*consumerRecord, error) {
	keys, err := b.meta.keys(ctx, bucketConsumers, metaKey(station)+"/")
	if err != nil {
		return nil, err
	}
	var out []*consumerRecord
	for _, k := range keys {
		var c consumerRecord
		found, err := b.meta.get(ctx, bucketConsumers, k, &c)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, &c)
		}
	}
	return out, nil
}

// takeMember loads into rec and deletes the producer/consumer record a
// destroy request names: by station, name and connection id, or, for old
// SDKs that send no connection id (req_version 0), the first record of
// that name on the station. found is false when there is none.
func (b *Broker) takeMember(ctx context.Context, bucket, station, name, connID string, reqVersion int, rec any) (found bool, err error) {
	key := metaKey(station, name, connID)
	if reqVersion == 0 || connID == "" {
		keys, err := b.meta.keys(ctx, bucket, metaKey(station, name)+"/")
		if err != nil || len(keys) == 0 {
			return false, err
		}
		key = keys[0]
	}
	if found, err = b.meta.get(ctx, bucket, key, rec); err != nil || !found {
		return false, err
	}
	return true, b.meta.del(ctx, bucket, key)
}
