package devbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

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
// a connection name) of every open client connection, on every node of a
// cluster. A producer or consumer is active exactly when its connection id
// is in this set, which gives the activity tracking of §2.5 without a
// disconnect hook: NATS reconnects keep the name, so records become active
// again by themselves, on whichever node the client reconnects to.
func (b *Broker) connectedIDs(ctx context.Context) map[string]bool {
	if !b.opts.clustered() {
		ids := map[string]bool{}
		for _, id := range b.localConnIDs() {
			ids[id] = true
		}
		return ids
	}
	return b.clusterConnIDs(ctx)
}

// localConnIDs lists the connection ids of this node's clients.
func (b *Broker) localConnIDs() []string {
	cz, err := b.srv.Connz(&server.ConnzOptions{Limit: 1 << 20})
	if err != nil {
		b.logf("devbroker: list connections: %v", err)
		return nil
	}
	ids := make([]string, 0, len(cz.Conns))
	for _, c := range cz.Conns {
		if id, _, ok := strings.Cut(c.Name, "::"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// subjConnections is where every node of a cluster answers with its
// clients' connection ids. SDK users may neither publish nor subscribe
// there (permissions.go).
const subjConnections = clusterSubjectPrefix + ".req.connections"

// clusterSubjectPrefix starts the subjects nodes use among themselves.
const clusterSubjectPrefix = "$memphis_cluster"

// connectionsWait bounds the wait for the nodes' answers; a node that is
// up but not answering (still starting) is left out after it.
const connectionsWait = 2 * time.Second

// subscribeConnections answers subjConnections on this node.
func (b *Broker) subscribeConnections() error {
	if !b.opts.clustered() {
		return nil
	}
	sub, err := b.nc.Subscribe(subjConnections, func(m *nats.Msg) {
		data, _ := json.Marshal(b.localConnIDs()) // []string: cannot fail
		if err := m.Respond(data); err != nil {
			b.logf("devbroker: answer %s: %v", subjConnections, err)
		}
	})
	if err != nil {
		return fmt.Errorf("devbroker: subscribe %s: %w", subjConnections, err)
	}
	b.subs = append(b.subs, sub)
	return nil
}

// clusterConnIDs gathers every reachable node's answer: this node's and
// one per node it has a route to.
func (b *Broker) clusterConnIDs(ctx context.Context) map[string]bool {
	ids := map[string]bool{}
	for _, id := range b.localConnIDs() {
		ids[id] = true
	}
	others := b.routedServers()
	if others == 0 {
		return ids
	}
	inbox := b.nc.NewRespInbox()
	replies := make(chan *nats.Msg, others)
	sub, err := b.nc.ChanSubscribe(inbox, replies)
	if err != nil {
		b.logf("devbroker: list the cluster's connections: %v", err)
		return ids
	}
	defer sub.Unsubscribe()
	if err := b.nc.PublishRequest(subjConnections, inbox, nil); err != nil {
		b.logf("devbroker: list the cluster's connections: %v", err)
		return ids
	}
	timeout := time.NewTimer(connectionsWait)
	defer timeout.Stop()
	// Every node answers, this one included: others+1 answers in all.
	for got := 0; got < others+1; got++ {
		select {
		case m := <-replies:
			var list []string
			if json.Unmarshal(m.Data, &list) == nil {
				for _, id := range list {
					ids[id] = true
				}
			}
		case <-timeout.C:
			b.logf("devbroker: %d of %d nodes did not list their connections within %s", others+1-got, others+1, connectionsWait)
			return ids
		case <-ctx.Done():
			return ids
		}
	}
	return ids
}

// routedServers counts the other nodes this node has a route to.
func (b *Broker) routedServers() int {
	rz, err := b.srv.Routez(&server.RoutezOptions{})
	if err != nil {
		return 0
	}
	seen := map[string]bool{}
	for _, r := range rz.Routes {
		seen[r.RemoteID] = true
	}
	return len(seen)
}

// stationConsumers lists the consumer records of a station. Caller holds the control lock.
func (b *Broker) stationConsumers(ctx context.Context, station string) ([]*consumerRecord, error) {
	_, recs, err := listRecords[consumerRecord](ctx, b.meta, bucketConsumers, metaKey(station)+"/")
	return recs, err
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
