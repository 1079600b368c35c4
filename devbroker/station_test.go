package devbroker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestStationCreateStreamsPerPartition(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	// The exact memphis.go request of the protocol doc §4.1.
	c.expectText("$memphis_station_creations", `{"name":"Orders.EU","retention_type":"messages","retention_value":100000,
	 "storage_type":"file","replicas":1,"idempotency_window_in_ms":120000,
	 "schema_name":"","dls_configuration":{"poison":true,"schemaverse":true},
	 "username":"root","tiered_storage_enabled":false,"partitions_number":3,
	 "dls_station":""}`, "")
	ctx := context.Background()
	for _, name := range []string{"orders#eu$1", "orders#eu$2", "orders#eu$3"} {
		s, err := c.js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		cfg := s.CachedInfo().Config
		if len(cfg.Subjects) != 1 || cfg.Subjects[0] != name+".>" || cfg.Retention != jetstream.LimitsPolicy ||
			cfg.MaxMsgs != 100000 || cfg.MaxBytes != -1 || cfg.MaxAge != 0 || cfg.Discard != jetstream.DiscardOld ||
			cfg.MaxMsgsPerSubject != -1 || cfg.MaxConsumers != -1 || cfg.Storage != jetstream.FileStorage ||
			cfg.Replicas != 1 || cfg.Duplicates != 2*time.Minute || cfg.NoAck {
			t.Fatalf("stream %s config %+v", name, cfg)
		}
	}
	if _, err := c.js.Stream(ctx, "orders#eu$4"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("unexpected 4th partition: %v", err)
	}
	// Creating it again is a silent success that changes nothing.
	c.expectText("$memphis_station_creations", stationReq("orders.eu", 1), "")
	c.expectJSON("$memphis_producer_creations", c.producerReq("p", "orders.eu"),
		`{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1,2,3]},"schemaverse_to_dls":true,
		"send_notification":false,"station_version":2,"station_partitions_first_functions":{},"error":""}`)
}

func TestStationRetentionAndStorageMapping(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	cases := []struct {
		name, rtype, storage string
		value                int
		check                func(jetstream.StreamConfig) bool
	}{
		{"age", "message_age_sec", "file", 600, func(s jetstream.StreamConfig) bool {
			return s.MaxAge == 600*time.Second && s.MaxMsgs == -1 && s.MaxBytes == -1 && s.Retention == jetstream.LimitsPolicy
		}},
		{"msgs", "MESSAGES", "memory", 50, func(s jetstream.StreamConfig) bool {
			return s.MaxMsgs == 50 && s.MaxAge == 0 && s.Storage == jetstream.MemoryStorage
		}},
		{"bytes", "bytes", "", 1 << 20, func(s jetstream.StreamConfig) bool {
			return s.MaxBytes == 1<<20 && s.MaxMsgs == -1 && s.Storage == jetstream.FileStorage
		}},
		{"acks", "ack_based", "file", 0, func(s jetstream.StreamConfig) bool {
			return s.Retention == jetstream.InterestPolicy && s.MaxAge == 0 && s.MaxMsgs == -1
		}},
		// A non-positive value falls back to one hour of age retention.
		{"fallback", "messages", "file", 0, func(s jetstream.StreamConfig) bool {
			return s.MaxAge == time.Hour && s.MaxMsgs == -1
		}},
	}
	for _, tc := range cases {
		req := stationReq(tc.name, 1)
		req["retention_type"], req["retention_value"], req["storage_type"] = tc.rtype, tc.value, tc.storage
		c.expectText("$memphis_station_creations", req, "")
		s, err := c.js.Stream(context.Background(), tc.name+"$1")
		if err != nil {
			t.Fatal(err)
		}
		if !tc.check(s.CachedInfo().Config) {
			t.Fatalf("%s: stream config %+v", tc.name, s.CachedInfo().Config)
		}
	}
}

func TestStationCreateErrors(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	long := strings.Repeat("a", 129)
	cases := []struct {
		field string
		value any
		want  string
	}{
		{"name", "", "Station name can not be empty"},
		{"name", long, "Station should be under 128 characters"},
		{"name", "bad name", "Only alphanumeric and the '_', '-', '.' characters are allowed in Station"},
		{"name", "a#b", "Only alphanumeric and the '_', '-', '.' characters are allowed in Station"},
		{"name", "_abc", "Station name can not start or end with non alphanumeric character"},
		{"name", "abc-", "Station name can not start or end with non alphanumeric character"},
		{"partitions_number", 0, "you are using an old SDK, make sure to update your SDK"},
		{"partitions_number", 10001, "cannot create station with 10001 partitions (max:10000 min:1): Station -  st, "},
		{"partitions_number", -1, "cannot create station with -1 partitions (max:10000 min:1): Station -  st, "},
		{"retention_type", "forever", "retention type can be one of the following message_age_sec/messages/bytes/ack_based"},
		{"storage_type", "tape", "storage type can be one of the following file/memory"},
		{"replicas", 3, "station can not be created, probably since replicas count is larger than the cluster size"},
		{"replicas", 2, "station can not be created, probably since replicas count is larger than the cluster size"},
		{"idempotency_window_in_ms", 86400001, "idempotency window can not exceed 24 hours"},
		// Default retention is 3600 s; a 2 h window exceeds it.
		{"idempotency_window_in_ms", 7200000, "idempotency window cannot be greater than the station retention"},
		{"schema_name", "nope", "Schema nope does not exist"},
		{"dls_station", "bad dls!", "Only alphanumeric and the '_', '-', '.' characters are allowed in Station"},
	}
	for _, tc := range cases {
		req := stationReq("st", 1)
		req[tc.field] = tc.value
		c.expectText("$memphis_station_creations", req, tc.want)
	}
	if names := streamNames(t, c); len(names) != 0 {
		t.Fatalf("failed creations left streams behind: %v", names)
	}
	c.expectText("$memphis_station_creations", `{"name": 5}`,
		"invalid station creation request: json: cannot unmarshal number into Go struct field createStationReq.name of type string")
	c.expectText("$memphis_station_creations", `not json`,
		"invalid station creation request: invalid character 'o' in literal null (expecting 'u')")
}

func streamNames(t testing.TB, c *client) []string {
	t.Helper()
	var out []string
	l := c.js.StreamNames(context.Background())
	for n := range l.Name() {
		if !strings.HasPrefix(n, "KV_") {
			out = append(out, n)
		}
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStationIdempotencyNormalisation(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	for name, tc := range map[string]struct {
		in   int
		want time.Duration
	}{"zero": {0, 2 * time.Minute}, "tiny": {5, 100 * time.Millisecond}, "ok": {60000, time.Minute}} {
		req := stationReq(name, 1)
		req["idempotency_window_in_ms"] = tc.in
		c.expectText("$memphis_station_creations", req, "")
		s, err := c.js.Stream(context.Background(), name+"$1")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().Config.Duplicates; got != tc.want {
			t.Fatalf("%s: duplicates window %v, want %v", name, got, tc.want)
		}
	}
}

func TestStationDLSConfigKeysAnyCase(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	// memphis.py sends "Schemaverse" (capital S) and indents its JSON.
	c.expectText("$memphis_station_creations", `{
	  "NAME": "py-station", "retention_type": "message_age_sec", "retention_value": 3600,
	  "storage_type": "file", "replicas": 1, "idempotency_window_in_ms": 120000,
	  "dls_configuration": {"poison": true, "Schemaverse": false},
	  "username": "root", "partitions_number": 1, "dls_station": "Py-DLS"
	}`, "")
	resp := c.request("$memphis_producer_creations", c.producerReq("p", "py-station"))
	assertJSONEqual(t, resp, `{"schema_update":`+noSchema+`,"partitions_update":{"partitions_list":[1]},
		"schemaverse_to_dls":false,"send_notification":false,"station_version":2,
		"station_partitions_first_functions":{},"error":""}`)
	// The DLS station was created as a default station.
	s, err := c.js.Stream(context.Background(), "py-dls$1")
	if err != nil {
		t.Fatalf("dls station stream: %v", err)
	}
	if cfg := s.CachedInfo().Config; cfg.MaxAge != time.Hour || cfg.Duplicates != 2*time.Minute {
		t.Fatalf("default station config %+v", cfg)
	}
}

func TestStationDestroy(t *testing.T) {
	b := startBroker(t)
	c := connect(t, b)
	c.expectText("$memphis_station_creations", stationReq("gone.soon", 2), "")
	c.request("$memphis_producer_creations", c.producerReq("p", "gone.soon"))
	c.request("$memphis_consumer_creations", c.consumerReq("c", "gone.soon", ""))
	c.expectText("$memphis_station_destructions", `{"station_name":"gone.soon","username":"root"}`, "")
	if names := streamNames(t, c); len(names) != 0 {
		t.Fatalf("streams left after destroy: %v", names)
	}
	c.expectText("$memphis_station_destructions", `{"station_name":"gone.soon","username":"root"}`,
		"Station gone.soon does not exist")
	// The internal form is accepted too.
	c.expectText("$memphis_station_creations", stationReq("x.y", 1), "")
	c.expectText("$memphis_station_destructions", `{"station_name":"x#y","username":"root"}`, "")
	// Producers and consumers of the destroyed station are gone with it
	// (a producer destroy succeeds either way; a consumer's tells).
	c.expectText("$memphis_producer_destructions",
		`{"name":"p","station_name":"gone.soon","username":"root","connection_id":"`+c.connID+`","req_version":1}`, "")
	c.expectText("$memphis_consumer_destructions",
		`{"name":"c","station_name":"gone.soon","username":"root","connection_id":"`+c.connID+`","req_version":1}`,
		"Consumer c at station gone.soon does not exist")
}
