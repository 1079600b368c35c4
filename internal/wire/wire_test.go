package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// The exact bytes the protocol document shows (§9.6 "no schema" snapshot,
// §5.1 producer request): a renamed tag here would break every SDK.
func TestJSONKeys(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{SchemaUpdate{}, `{"schema_name":"","active_version":{"version_number":0,"descriptor":"","schema_content":"","message_struct_name":""},"type":""}`},
		{CreateProducerReq{Name: "p", StationName: "s", ConnectionID: "c", ProducerType: "application", ReqVersion: 4, Username: "u", AppID: "a", SdkLang: "go"},
			`{"name":"p","station_name":"s","connection_id":"c","producer_type":"application","req_version":4,"username":"u","app_id":"a","sdk_lang":"go"}`},
		{SchemaUpdateMsg{UpdateType: SchemaUpdateDrop}, `{"UpdateType":2,"init":{"schema_name":"","active_version":{"version_number":0,"descriptor":"","schema_content":"","message_struct_name":""},"type":""}}`},
		{NackedDLS{StationName: "orders#eu", Error: "e", Partition: 1, CgName: "g", Seq: 7}, `{"station_name":"orders#eu","error":"e","partition":1,"cg_name":"g","seq":7}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%T:\n got %s\nwant %s", c.v, got, c.want)
		}
	}
}

// memphis.py spells the key "Schemaverse"; the broker must still read it.
func TestDLSConfigDecodesMemphisPyKey(t *testing.T) {
	var r CreateStationReq
	if err := json.Unmarshal([]byte(`{"dls_configuration":{"poison":true,"Schemaverse":true}}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.DlsConfiguration == nil || !r.DlsConfiguration.Poison || !r.DlsConfiguration.Schemaverse {
		t.Fatalf("dls_configuration = %+v", r.DlsConfiguration)
	}
}

// The §3.2 table, for "Orders.EU" with 3 partitions and group "Billing.V2".
func TestDerivedNames(t *testing.T) {
	st, g := InternalName("Orders.EU"), InternalName("Billing.V2")
	for _, c := range []struct{ got, want string }{
		{st, "orders#eu"},
		{g, "billing#v2"},
		{ExternalName("Orders#EU"), "orders.eu"},
		{ExternalName("orders.eu"), "orders.eu"},
		{StreamName(st, 2), "orders#eu$2"},
		{StreamName(st, 0), "orders#eu"}, // legacy station
		{ProduceSubject(st, 3), "orders#eu$3.final"},
		{ProduceSubject(st, 0), "orders#eu.final"},
		{DLSSubject(st, g), "$memphis_dls_orders#eu.billing#v2"},
		{LegacyDLSSubject(st, g), "$memphis_dls_orders#eu_billing#v2"},
		{SchemaUpdatesSubject(st), "$memphis_schema_updates_orders#eu"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// The §3.1 rules in the broker's order, with its texts.
func TestValidateName(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen)
	for name, want := range map[string]string{
		"":            "Station name can not be empty",
		long + "a":    "Station should be under 128 characters",
		long:          "",
		"Orders.EU":   "", // upper case is lowered first
		"a_b-c.d9":    "",
		"bad name":    "Only alphanumeric and the '_', '-', '.' characters are allowed in Station",
		"orders#eu":   "Only alphanumeric and the '_', '-', '.' characters are allowed in Station",
		"_x":          "Station name can not start or end with non alphanumeric character",
		"x.":          "Station name can not start or end with non alphanumeric character",
		"-":           "Station name can not start or end with non alphanumeric character",
		"\x00" + long: "Station should be under 128 characters", // length is checked first
	} {
		err := ValidateName(name, ObjStation)
		if (err == nil) != (want == "") || err != nil && err.Error() != want {
			t.Errorf("ValidateName(%q) = %v, want %q", name, err, want)
		}
	}
	if err := ValidateName("", ObjSchema); err == nil || err.Error() != "Schema name can not be empty" {
		t.Errorf("schema: %v", err)
	}
}
