package devbroker

import (
	"context"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// DLSRow is the test view of a dead-letter row.
type DLSRow struct {
	ID        uint64
	Type      string
	Partition int
	Seq       uint64
	Groups    []string
	Producer  string
	Error     string
	Data      []byte
}

// DLSRows exposes a station's dead-letter rows to the external tests.
func DLSRows(b *Broker, station string) ([]DLSRow, error) {
	rows, err := b.dlsRows(context.Background(), station)
	if err != nil {
		return nil, err
	}
	out := make([]DLSRow, len(rows))
	for i, r := range rows {
		out[i] = DLSRow{ID: r.ID, Type: r.Type, Partition: r.Partition, Seq: r.Seq,
			Groups: r.Groups, Producer: r.Producer, Error: r.Error, Data: r.Data}
	}
	return out, nil
}

// Connected reports whether a Memphis connection id has an open connection.
func Connected(b *Broker, connID string) bool { return b.connectedIDs(context.Background())[connID] }

// AdminConn connects as the broker itself (no permissions), for tests that
// must do what SDK users may not.
func AdminConn(b *Broker) (*nats.Conn, error) { return b.internalConn("test-admin") }

// RoutedStations lists the stations a node routes through the msg-id ingest.
func RoutedStations(b *Broker) []string { return b.ingest.routedStations() }

// LocalStreamState is the state of a stream's replica on this node, or
// false when the node holds none.
func LocalStreamState(b *Broker, stream string) (msgs, lastSeq uint64, ok bool) {
	jsz, err := b.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return 0, 0, false
	}
	for _, acc := range jsz.AccountDetails {
		for _, s := range acc.Streams {
			if s.Name == stream {
				return s.State.Msgs, s.State.LastSeq, true
			}
		}
	}
	return 0, 0, false
}

// HasInterest reports whether a node knows of a subscriber to subject,
// on itself or on a node it routes to.
func HasInterest(b *Broker, subject string) bool {
	return b.srv.GlobalAccount().SubscriptionInterest(subject)
}

// LeaseTTL is how long an unrenewed control lease lasts.
const LeaseTTL = leaseTTL

// AbandonLease takes the control lease on b and neither renews nor
// releases it, as a node that died holding it.
func AbandonLease(b *Broker) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	_, err := b.acquireLease(ctx)
	return err
}
