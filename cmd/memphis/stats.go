package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

const statsAbout = `Connects, does nothing else, and prints the connection's statistics: the
JSON document of docs/statistics.md (the one memphis_conn_stats_json and
the bindings' stats() return), indented unless --compact. A fresh
connection has no producers or consumers; the document shows the
connection's own counters and which server it reached.`

func runStats(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "", statsAbout)
	compact := c.fs.Bool("compact", false, "print the document on one line")
	cf := addConnFlags(c, s.getenv)
	_, conn, err := cf.parseAndConnect(ctx, c, args, 0, 0)
	if err != nil {
		return err
	}
	defer conn.Close()
	st := conn.Stats()
	doc := st.JSON()
	if !*compact {
		var out bytes.Buffer
		if err := json.Indent(&out, doc, "", "  "); err != nil {
			return err
		}
		doc = out.Bytes()
	}
	_, err = fmt.Fprintf(s.out, "%s\n", doc)
	return err
}
