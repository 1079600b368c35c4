package devbroker

import "context"

// subscribeDLS subscribes the dead-letter side channels (§8).
func (b *Broker) subscribeDLS() error { return nil }

// deleteStationDLS drops a station's DLS rows. Caller holds b.mu.
func (b *Broker) deleteStationDLS(ctx context.Context, station string) error { return nil }

// removeGroupFromDLS drops a destroyed group from pending DLS rows. Caller holds b.mu.
func (b *Broker) removeGroupFromDLS(ctx context.Context, station, group string) error { return nil }
