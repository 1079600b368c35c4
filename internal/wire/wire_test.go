package wire

import (
	"encoding/json"
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

func TestInternalName(t *testing.T) {
	if got := InternalName("Orders.EU"); got != "orders#eu" {
		t.Fatalf("InternalName(Orders.EU) = %q, want orders#eu (§3.2)", got)
	}
}
