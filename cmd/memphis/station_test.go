package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
	"github.com/nats-io/nats.go/jetstream"
)

func TestStationCreateReachesTheBroker(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	js := jetStream(t, b)
	ctx := context.Background()

	mustCLI(t, e, "", "station", "create", "dead-letters")
	r := mustCLI(t, e, "", "station", "create", "orders.eu",
		"--retention-type", "messages", "--retention-value", "500",
		"--storage-type", "memory", "--replicas", "1", "--idempotency-window", "90s",
		"--partitions-number", "3", "--dls-station", "dead-letters",
		"--send-poison-msg-to-dls=false", "--tiered-storage-enabled=false")
	if r.stdout != "station orders.eu created\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	for p := 1; p <= 3; p++ {
		s, err := js.Stream(ctx, streamOf("orders.eu", p))
		if err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
		cfg := s.CachedInfo().Config
		if cfg.MaxMsgs != 500 || cfg.Storage != jetstream.MemoryStorage || cfg.Duplicates != 90*time.Second {
			t.Fatalf("partition %d: max msgs %d, storage %v, duplicates %v", p, cfg.MaxMsgs, cfg.Storage, cfg.Duplicates)
		}
	}
	if _, err := js.Stream(ctx, streamOf("orders.eu", 4)); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("a 4th partition: %v", err)
	}
	// The station was made with 3 partitions: a consumer sees them all.
	cons, err := sdkConn(t, b).CreateConsumer(ctx, sdk.DefaultConsumerOptions("orders.eu", "check"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.Partitions(); len(got) != 3 {
		t.Fatalf("partitions %v", got)
	}
}

func TestStationCreateDefaultsAreTheSDKs(t *testing.T) {
	b := startBroker(t)
	js := jetStream(t, b)
	mustCLI(t, brokerEnv(b), "", "station", "create", "plain")
	s, err := js.Stream(context.Background(), streamOf("plain", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	def := sdk.DefaultStationOptions("plain")
	if cfg.MaxAge != time.Duration(def.RetentionValue)*time.Second || cfg.Storage != jetstream.FileStorage ||
		cfg.Duplicates != def.IdempotencyWindow {
		t.Fatalf("max age %v, storage %v, duplicates %v; sdk defaults %+v", cfg.MaxAge, cfg.Storage, cfg.Duplicates, def)
	}
}

func TestStationDestroy(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	js := jetStream(t, b)
	mustCLI(t, e, "", "station", "create", "gone", "--partitions-number", "2")
	mustCLI(t, e, "x\ny\n", "produce", "gone", "-")
	r := mustCLI(t, e, "", "station", "destroy", "gone")
	if r.stdout != "station gone destroyed\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	for p := 1; p <= 2; p++ {
		if _, err := js.Stream(context.Background(), streamOf("gone", p)); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatalf("partition %d still there: %v", p, err)
		}
	}
	// Destroying a station that does not exist is success, as in the SDKs,
	// and leaves nothing behind.
	mustCLI(t, e, "", "station", "destroy", "never-made")
	if _, err := js.Stream(context.Background(), streamOf("never-made", 1)); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("never-made exists: %v", err)
	}
}

func TestStationErrors(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"station", "create"}, exitUsage, "missing argument"},
		{[]string{"station", "create", "a", "b"}, exitUsage, `unexpected argument "b"`},
		{[]string{"station", "create", "bad/name"}, exitUsage, "Only alphanumeric"},
		{[]string{"station", "create", "s", "--retention-type", "forever"}, exitUsage, "retention type can be one of"},
		{[]string{"station", "create", "s", "--storage-type", "tape"}, exitUsage, "storage type can be one of"},
		{[]string{"station", "create", "s", "--idempotency-window", "48h"}, exitUsage, "can not exceed 24 hours"},
		{[]string{"station", "create", "s", "--partitions-number", "-1"}, exitUsage, "partitions number"},
		{[]string{"station", "create", "s", "--replicas", "two"}, exitUsage, `invalid value "two" for flag -replicas`},
		{[]string{"station", "create", "s", "--idempotency-window", "soon"}, exitUsage, "-idempotency-window"},
		{[]string{"station", "create", "s", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"station", "create", "s", "--replicas", "3"}, exitFailed, "replicas count is larger than the cluster size"},
		{[]string{"station", "create", "s", "--schema-name", "nosuch"}, exitFailed, "nosuch"},
		{[]string{"station", "drop", "s"}, exitUsage, `unknown command "drop"`},
		{[]string{"station"}, exitUsage, "missing command"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantExit(t, cli(t, e, "", tc.args...), tc.code, tc.want)
		})
	}
}
