package sdk

import (
	"encoding/json"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/libmemphis/libmemphis/internal/schemaverse"
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats.go"
)

// Live schema state (§9.5/§9.6). Every producer and consumer of a station
// shares one stationSchema per connection: it is seeded from creation
// responses, kept current by one reference-counted subscription to
// $memphis_schema_updates_<internal station>, and read lock-free on every
// produce.
//
// The registry is keyed by connection id instead of living in Conn so that
// this file set owns all of it; Close drops it (closeSchemas), and
// runtime.AddCleanup covers a Conn that is garbage collected unclosed.

// schemaUpdate is the §9.6 snapshot carried by producer/consumer creation
// responses (schema_update) and by schema update broadcasts (init);
// schemaUpdateMsg is the §9.5 broadcast body. Both are shared with the broker.
type (
	schemaUpdate    = wire.SchemaUpdate
	schemaUpdateMsg = wire.SchemaUpdateMsg
)

const (
	schemaUpdateInit = wire.SchemaUpdateInit
	schemaUpdateDrop = wire.SchemaUpdateDrop
)

func schemaOf(u *schemaUpdate) schemaverse.Schema {
	return schemaverse.Schema{
		Name: u.SchemaName, Type: schemaverse.Type(u.Type), Version: u.ActiveVersion.VersionNumber,
		Content: u.ActiveVersion.SchemaContent, Descriptor: u.ActiveVersion.Descriptor,
		MessageStructName: u.ActiveVersion.MessageStructName,
	}
}

// compiledSchema is one station's active schema. err is set when the
// broker's snapshot could not be compiled: producing then fails closed
// rather than publish unchecked messages to a schema-enforced station.
type compiledSchema struct {
	schema    schemaverse.Schema
	validator schemaverse.Validator
	err       error
}

type stationSchema struct {
	reg     *schemaRegistry
	station string // internal name
	refs    int
	sub     *nats.Subscription
	cur     atomic.Pointer[compiledSchema] // nil = no schema attached
	updates atomic.Uint64                  // broadcasts handled so far (see awaitSchemaChange)
}

// apply installs a snapshot, compiling only when it differs from the
// current one (every producer creation re-sends the same snapshot).
func (s *stationSchema) apply(u schemaUpdate) {
	if u.SchemaName == "" {
		s.cur.Store(nil)
		return
	}
	next := schemaOf(&u)
	if old := s.cur.Load(); old != nil && old.schema == next {
		return
	}
	v, err := schemaverse.Compile(next)
	s.cur.Store(&compiledSchema{schema: next, validator: v, err: err})
}

// onUpdate handles one broadcast. memphis.py treats an empty schema name as
// "drop" whatever the type, so an unknown UpdateType falls back to that.
func (s *stationSchema) onUpdate(m *nats.Msg) {
	defer s.updates.Add(1)
	var u schemaUpdateMsg
	if json.Unmarshal(m.Data, &u) != nil {
		return
	}
	if u.UpdateType == schemaUpdateDrop {
		u.Init = schemaUpdate{}
	}
	s.apply(u.Init)
	s.reg.updates.inc()
	if u.Init.SchemaName == "" {
		logAttrs(s.reg.log, slog.LevelInfo, "schema removed from station", slog.String("station", s.station))
		return
	}
	attrs := []slog.Attr{slog.String("station", s.station), slog.String("schema", u.Init.SchemaName),
		slog.String("type", u.Init.Type), slog.Int("version", u.Init.ActiveVersion.VersionNumber)}
	if cur := s.cur.Load(); cur != nil && cur.err != nil {
		// Producing to the station fails until a usable version comes.
		logAttrs(s.reg.log, slog.LevelWarn, "station's new schema does not compile; produces to it fail", append(attrs, slog.Any("error", cur.err))...)
		return
	}
	logAttrs(s.reg.log, slog.LevelInfo, "station schema updated", attrs...)
}

// schemaRegistry is one connection's schema state. Writers (seed, release)
// hold mu and replace the map; readers (every produce) load it without a
// lock, so parallel producers never contend here.
type schemaRegistry struct {
	mu       sync.Mutex
	stations atomic.Pointer[map[string]*stationSchema] // internal station name; never mutated in place

	// The connection's logger and its count of schema updates (Conn.Stats):
	// kept here, as the registry must not hold on to the Conn.
	log     *slog.Logger
	updates counter
}

func newSchemaRegistry(log *slog.Logger) *schemaRegistry {
	r := &schemaRegistry{log: log}
	r.stations.Store(&map[string]*stationSchema{})
	return r
}

func (r *schemaRegistry) lookup(internalStation string) *stationSchema {
	return (*r.stations.Load())[internalStation]
}

// update applies f to a copy of the map and publishes it; r.mu must be held.
func (r *schemaRegistry) update(f func(m map[string]*stationSchema)) {
	old := *r.stations.Load()
	m := make(map[string]*stationSchema, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	f(m)
	r.stations.Store(&m)
}

// registries maps Conn.connID -> *schemaRegistry.
var registries sync.Map

func (c *Conn) schemas() *schemaRegistry {
	if r, ok := registries.Load(c.connID); ok {
		return r.(*schemaRegistry)
	}
	r, loaded := registries.LoadOrStore(c.connID, newSchemaRegistry(c.log))
	if !loaded {
		runtime.AddCleanup(c, func(id string) { registries.Delete(id) }, c.connID)
	}
	return r.(*schemaRegistry)
}

// stationSchemaOf returns the station's live schema state, or nil when no
// producer or consumer of this connection uses the station.
func (c *Conn) stationSchemaOf(internalStation string) *stationSchema {
	v, ok := registries.Load(c.connID)
	if !ok {
		return nil
	}
	return v.(*schemaRegistry).lookup(internalStation)
}

// currentSchema returns the station's active schema, or nil.
func (c *Conn) currentSchema(internalStation string) *compiledSchema {
	if s := c.stationSchemaOf(internalStation); s != nil {
		return s.cur.Load()
	}
	return nil
}

// seedSchema is called with the schema_update of every producer and
// consumer creation response for internalStation.
func (c *Conn) seedSchema(internalStation string, u schemaUpdate) {
	r := c.schemas()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.lookup(internalStation)
	if s == nil {
		s = &stationSchema{reg: r, station: internalStation}
		sub, err := c.nc.Subscribe(wire.SchemaUpdatesSubject(internalStation), s.onUpdate)
		if err != nil {
			// Only a closed connection refuses a subscription; validation
			// still uses the seeded snapshot.
			sub = nil
		}
		s.sub = sub
		r.update(func(m map[string]*stationSchema) { m[internalStation] = s })
	}
	s.refs++
	s.apply(u)
}

// releaseSchema is called when a producer or consumer of internalStation
// is destroyed (one call per seedSchema call).
func (c *Conn) releaseSchema(internalStation string) {
	v, ok := registries.Load(c.connID)
	if !ok {
		return
	}
	r := v.(*schemaRegistry)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.lookup(internalStation)
	if s == nil {
		return
	}
	if s.refs--; s.refs > 0 {
		return
	}
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
	}
	r.update(func(m map[string]*stationSchema) { delete(m, internalStation) })
}

// schemaUpdatesSeen is the number of schema updates the connection's
// registry handled so far (Conn.Stats adds those of a closed one).
func (c *Conn) schemaUpdatesSeen() uint64 {
	if v, ok := registries.Load(c.connID); ok {
		return v.(*schemaRegistry).updates.load()
	}
	return 0
}

// closeSchemas drops the connection's schema state at once; Conn.Close
// calls it (the AddCleanup above covers a Conn dropped without Close).
func (c *Conn) closeSchemas() {
	v, ok := registries.LoadAndDelete(c.connID)
	if !ok {
		return
	}
	r := v.(*schemaRegistry)
	c.stats.schemaUpdates.add(r.updates.load()) // Conn.Stats reads them here from now on
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range *r.stations.Load() {
		if s.sub != nil {
			_ = s.sub.Unsubscribe()
		}
	}
	r.stations.Store(&map[string]*stationSchema{})
}
