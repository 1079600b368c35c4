package main

import (
	"context"
	"fmt"

	"github.com/libmemphis/libmemphis/sdk"
)

// stationHelp documents the sdk.StationOptions fields that become flags.
var stationHelp = map[string]string{
	"RetentionType":            "how messages expire: message_age_sec, messages, bytes or ack_based",
	"RetentionValue":           "the retention limit, in the unit of --retention-type (seconds, messages, bytes)",
	"StorageType":              "where messages are kept: file or memory",
	"Replicas":                 "copies of the station's messages in a cluster",
	"IdempotencyWindow":        "how long a --msg-id is remembered to drop duplicates",
	"SchemaName":               "schema to enforce on the station",
	"SendPoisonMsgToDls":       "keep poison messages (max deliveries reached) in the dead-letter station",
	"SendSchemaFailedMsgToDls": "keep messages that failed schema validation in the dead-letter station",
	"TieredStorageEnabled":     "move older messages to tiered storage",
	"PartitionsNumber":         "number of partitions",
	"DlsStation":               "station that receives this station's dead letters",
}

func runStationCreate(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "NAME",
		"Creates a station with the options given by flags; the others keep the SDK's\n"+
			"defaults. A station that already exists is left unchanged (success).")
	opts := sdk.DefaultStationOptions("")
	bindOptions(c.fs, &opts, stationHelp, "Name")
	cf := addConnFlags(c, s.getenv)
	pos, conn, err := cf.parseAndConnect(ctx, c, args, 1, 1)
	if err != nil {
		return err
	}
	opts.Name = pos[0]
	defer conn.Close()
	if _, err := conn.CreateStation(ctx, opts); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "station %s created\n", opts.Name)
	return nil
}

func runStationDestroy(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "NAME",
		"Destroys a station and everything in it. A station that does not exist\n"+
			"is success, as in the SDKs.")
	cf := addConnFlags(c, s.getenv)
	pos, conn, err := cf.parseAndConnect(ctx, c, args, 1, 1)
	if err != nil {
		return err
	}
	defer conn.Close()
	// sdk/ destroys a station through the handle CreateStation returns and
	// has no destroy-by-name; creating an existing station changes nothing,
	// so this is a lookup (a missing one exists for a moment).
	st, err := conn.CreateStation(ctx, sdk.DefaultStationOptions(pos[0]))
	if err != nil {
		return err
	}
	if err := st.Destroy(ctx); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "station %s destroyed\n", pos[0])
	return nil
}
