package main

import (
	"flag"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/libmemphis/libmemphis/sdk"
)

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{
		"Name":                     "name",
		"PartitionsNumber":         "partitions-number",
		"SendPoisonMsgToDls":       "send-poison-msg-to-dls",
		"SendSchemaFailedMsgToDls": "send-schema-failed-msg-to-dls",
		"TLSCertFile":              "tls-cert-file",
		"MaxInFlight":              "max-in-flight",
		"AccountID":                "account-id",
		"Retry2Times":              "retry2-times",
	} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every StationOptions field but Name is a flag whose default is the sdk's
// and whose value lands in that field.
func TestStationFlagsMirrorStationOptions(t *testing.T) {
	opts := sdk.DefaultStationOptions("")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	names := bindOptions(fs, &opts, stationHelp, "Name")
	typ := reflect.TypeOf(opts)
	def := reflect.ValueOf(sdk.DefaultStationOptions(""))
	if len(names) != typ.NumField()-1 {
		t.Fatalf("flags %v for %d fields", names, typ.NumField())
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Name" {
			continue
		}
		fl := fs.Lookup(kebab(f.Name))
		if fl == nil {
			t.Fatalf("no flag for StationOptions.%s", f.Name)
		}
		if stationHelp[f.Name] == "" {
			t.Errorf("StationOptions.%s has no help text", f.Name)
		}
		if want := fmt.Sprint(def.Field(i).Interface()); fl.DefValue != want {
			t.Errorf("--%s default %q, sdk default %q", fl.Name, fl.DefValue, want)
		}
	}
	err := fs.Parse([]string{
		"--retention-type", "bytes", "--retention-value", "4096", "--storage-type", "memory",
		"--replicas", "3", "--idempotency-window", "45s", "--schema-name", "s",
		"--send-poison-msg-to-dls=false", "--send-schema-failed-msg-to-dls=false",
		"--tiered-storage-enabled", "--partitions-number", "7", "--dls-station", "dls",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.StationOptions{
		RetentionType: sdk.RetentionBytes, RetentionValue: 4096, StorageType: sdk.StorageMemory,
		Replicas: 3, IdempotencyWindow: 45 * time.Second, SchemaName: "s",
		TieredStorageEnabled: true, PartitionsNumber: 7, DlsStation: "dls",
	}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("parsed %+v\nwant   %+v", opts, want)
	}
}

// Producer and consumer flags start at the sdk defaults, whatever they are.
func TestOptionFlagDefaultsAreTheSDKs(t *testing.T) {
	for _, tc := range []struct {
		opts, def any
		help      map[string]string
		skip      []string
	}{
		{new(sdk.ProducerOptions), sdk.DefaultProducerOptions("", ""), producerHelp, []string{"StationNames"}},
		{new(sdk.ConsumerOptions), sdk.DefaultConsumerOptions("", ""), consumerHelp, consumerSkip},
	} {
		reflect.ValueOf(tc.opts).Elem().Set(reflect.ValueOf(tc.def))
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		names := bindOptions(fs, tc.opts, tc.help, tc.skip...)
		if len(names) == 0 {
			t.Fatalf("%T: no flags", tc.def)
		}
		v := reflect.ValueOf(tc.def)
		for _, n := range names {
			var field reflect.Value
			for i := range v.NumField() {
				if kebab(v.Type().Field(i).Name) == n {
					field = v.Field(i)
				}
			}
			if got, want := fs.Lookup(n).DefValue, fmt.Sprint(field.Interface()); got != want {
				t.Errorf("%T --%s default %q, sdk %q", tc.def, n, got, want)
			}
		}
	}
}

// Fields a flag cannot carry are left out, and a name taken twice is
// bound once (never flag's redefinition panic).
func TestBindOptionsSkipsWhatItCannotCarry(t *testing.T) {
	var o struct {
		List    []string
		Fn      func()
		Small   int8
		Count   int
		hidden  int
		Storage sdk.StorageType
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Int("count", 0, "taken")
	names := bindOptions(fs, &o, nil)
	if !reflect.DeepEqual(names, []string{"storage"}) {
		t.Fatalf("bound %v", names)
	}
	if err := fs.Parse([]string{"--storage", "memory"}); err != nil || o.Storage != sdk.StorageMemory {
		t.Fatalf("storage %q, %v", o.Storage, err)
	}
	_ = o.hidden
}
