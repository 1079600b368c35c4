package devbroker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// DLS row types (protocol doc §8).
const (
	dlsTypePoison = "poison"
	dlsTypeSchema = "schema"
)

// dlsRow is one dead-lettered message (bucket memphis_dls). Poison rows are
// keyed "st/<station>/p/<partition>/<seq>" so a message poisoned for several
// groups is one row; schema rows are keyed "st/<station>/s/<id>". The key
// "id/<id>" points at the row for $memphis_pm_acks, which only carry the id.
type dlsRow struct {
	ID        uint64      `json:"id"`
	Station   string      `json:"station"` // external name
	Partition int         `json:"partition"`
	Seq       uint64      `json:"seq"`
	Type      string      `json:"type"`
	Groups    []string    `json:"groups"` // external names still to handle it
	Producer  string      `json:"producer"`
	ConnID    string      `json:"connection_id"`
	Error     string      `json:"error"`
	Data      []byte      `json:"data"`
	Headers   nats.Header `json:"headers"`
	CreatedAt time.Time   `json:"created_at"`
}

const dlsCounterKey = "counter"

func poisonKey(station string, partition int, seq uint64) string {
	return metaKey("st", station, "p", strconv.Itoa(partition), strconv.FormatUint(seq, 10))
}

func dlsIDKey(id uint64) string { return metaKey("id", strconv.FormatUint(id, 10)) }

// nextDLSID returns a fresh row id: the bucket revision of a write to the
// counter key, which JetStream guarantees unique and increasing, even
// across restarts.
func (b *Broker) nextDLSID(ctx context.Context) (uint64, error) {
	return b.meta.put(ctx, bucketDLS, dlsCounterKey, struct{}{})
}

// saveDLSRow writes a row under key and its id index. Caller holds the control lock.
func (b *Broker) saveDLSRow(ctx context.Context, key string, row *dlsRow) error {
	if _, err := b.meta.put(ctx, bucketDLS, key, row); err != nil {
		return err
	}
	_, err := b.meta.put(ctx, bucketDLS, dlsIDKey(row.ID), key)
	return err
}

// deleteDLSRow removes a row and its id index. Caller holds the control lock.
func (b *Broker) deleteDLSRow(ctx context.Context, key string, id uint64) error {
	if err := b.meta.del(ctx, bucketDLS, dlsIDKey(id)); err != nil {
		return err
	}
	return b.meta.del(ctx, bucketDLS, key)
}

// addPoisonGroup records that group could not process a message and
// reports whether the row is new and whether the group was newly added.
// Caller holds the control lock.
func (b *Broker) addPoisonGroup(ctx context.Context, tmpl dlsRow, group string) (row *dlsRow, isNew, added bool, err error) {
	key := poisonKey(tmpl.Station, tmpl.Partition, tmpl.Seq)
	var existing dlsRow
	found, err := b.meta.get(ctx, bucketDLS, key, &existing)
	if err != nil {
		return nil, false, false, err
	}
	if found {
		row = &existing
		if tmpl.Error != "" {
			row.Error = tmpl.Error
		}
	} else {
		row = &tmpl
		row.Type = dlsTypePoison
		row.CreatedAt = time.Now().UTC()
		if row.ID, err = b.nextDLSID(ctx); err != nil {
			return nil, false, false, err
		}
	}
	if !slices.Contains(row.Groups, group) {
		row.Groups = append(row.Groups, group)
		added = true
	}
	if err := b.saveDLSRow(ctx, key, row); err != nil {
		return nil, false, false, err
	}
	return row, !found, added, nil
}

// ackPoison removes group from the row with the given id and deletes the
// row once no group is left. Caller holds the control lock.
func (b *Broker) ackPoison(ctx context.Context, id uint64, group string) error {
	var key string
	found, err := b.meta.get(ctx, bucketDLS, dlsIDKey(id), &key)
	if err != nil || !found {
		return err
	}
	var row dlsRow
	if found, err = b.meta.get(ctx, bucketDLS, key, &row); err != nil || !found {
		return err
	}
	row.Groups = slices.DeleteFunc(row.Groups, func(g string) bool { return g == group })
	if len(row.Groups) == 0 {
		return b.deleteDLSRow(ctx, key, row.ID)
	}
	return b.saveDLSRow(ctx, key, &row)
}

// stationDLSRows lists a station's rows with their keys. Caller holds the control lock.
func (b *Broker) stationDLSRows(ctx context.Context, station string) (map[string]*dlsRow, error) {
	keys, recs, err := listRecords[dlsRow](ctx, b.meta, bucketDLS, metaKey("st", station)+"/")
	if err != nil {
		return nil, err
	}
	rows := make(map[string]*dlsRow, len(keys))
	for i, k := range keys {
		rows[k] = recs[i]
	}
	return rows, nil
}

// deleteStationDLS drops a station's DLS rows. Caller holds the control lock.
func (b *Broker) deleteStationDLS(ctx context.Context, station string) error {
	rows, err := b.stationDLSRows(ctx, station)
	if err != nil {
		return err
	}
	for k, row := range rows {
		if err := b.deleteDLSRow(ctx, k, row.ID); err != nil {
			return fmt.Errorf("station %s: %w", station, err)
		}
	}
	return nil
}

// removeGroupFromDLS drops a destroyed group from pending poison rows.
// Caller holds the control lock.
func (b *Broker) removeGroupFromDLS(ctx context.Context, station, group string) error {
	rows, err := b.stationDLSRows(ctx, station)
	if err != nil {
		return err
	}
	for k, row := range rows {
		if row.Type != dlsTypePoison || !slices.Contains(row.Groups, group) {
			continue
		}
		if err := b.ackPoison(ctx, row.ID, group); err != nil {
			return fmt.Errorf("dls row %s: %w", k, err)
		}
	}
	return nil
}
