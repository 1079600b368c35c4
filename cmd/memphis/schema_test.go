package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const orderSchema = `{
  "type": "object",
  "properties": {"id": {"type": "integer"}},
  "required": ["id"]
}`

func TestSchemaCreateAttachDetach(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	file := filepath.Join(t.TempDir(), "order.json")
	if err := os.WriteFile(file, []byte(orderSchema), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustCLI(t, e, "", "schema", "create", "order", "--type", "json", file)
	if r.stdout != "schema order created\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	// From stdin; the same content again is success.
	mustCLI(t, e, orderSchema, "schema", "create", "order", "--type", "json", "-")
	mustCLI(t, e, orderSchema, "schema", "create", "order-copy", "--type", "json", "-")

	mustCLI(t, e, "", "station", "create", "orders")
	r = mustCLI(t, e, "", "schema", "attach", "order", "orders")
	if r.stdout != "schema order attached to station orders\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	mustCLI(t, e, "", "produce", "orders", `{"id":7}`)
	// A message the schema rejects fails the operation; nothing is stored.
	r = cli(t, e, "", "produce", "orders", `{"name":"x"}`)
	wantExit(t, r, exitFailed, "Schema validation has failed")
	// A station can also be created with the schema.
	mustCLI(t, e, "", "station", "create", "orders2", "--schema-name", "order-copy")
	wantExit(t, cli(t, e, "", "produce", "orders2", "not json"), exitFailed, "Schema validation has failed")

	r = mustCLI(t, e, "", "schema", "detach", "orders")
	if r.stdout != "schema detached from station orders\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	mustCLI(t, e, "", "produce", "orders", `{"name":"x"}`)
	r = mustCLI(t, e, "", "consume", "orders", "--count", "2")
	if r.stdout != "{\"id\":7}\n{\"name\":\"x\"}\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
}

func TestSchemaErrors(t *testing.T) {
	b := startBroker(t)
	e := brokerEnv(b)
	mustCLI(t, e, "", "station", "create", "st")
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"schema"}, exitUsage, "missing command"},
		{"", []string{"schema", "create", "s"}, exitUsage, "missing argument: want NAME --type TYPE FILE|-"},
		{"{}", []string{"schema", "create", "s", "-"}, exitUsage, "unsupported schema type"},
		{"{}", []string{"schema", "create", "s", "--type", "xml", "-"}, exitUsage, "unsupported schema type"},
		{"", []string{"schema", "create", "s", "--type", "json", filepath.Join(t.TempDir(), "missing.json")}, exitUsage, "no such file"},
		{"{}", []string{"schema", "create", "Bad Name", "--type", "json", "-"}, exitUsage, "Only alphanumeric"},
		{"{not json", []string{"schema", "create", "s", "--type", "json", "-"}, exitFailed, "your json schema is invalid"},
		{"", []string{"schema", "attach", "s"}, exitUsage, "missing argument: want SCHEMA STATION"},
		{"", []string{"schema", "attach", "nosuch", "st"}, exitFailed, "nosuch"},
		{"", []string{"schema", "detach"}, exitUsage, "missing argument: want STATION"},
		{"", []string{"schema", "remove", "st"}, exitUsage, `unknown command "remove"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantExit(t, cli(t, e, tc.stdin, tc.args...), tc.code, tc.want)
		})
	}
}
