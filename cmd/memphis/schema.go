package main

import (
	"context"
	"fmt"
	"io"
)

func runSchemaCreate(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "NAME --type TYPE FILE|-",
		"Creates a schema from FILE, or from stdin with -. TYPE is protobuf, json,\n"+
			"graphql or avro. Creating a schema whose latest version has the same\n"+
			"content is success.")
	typ := c.fs.String("type", "", "schema type: protobuf, json, graphql or avro")
	cf := addConnFlags(c, s.getenv)
	pos, err := c.parse(args, 2, 2)
	if err != nil {
		return err
	}
	name, file := pos[0], pos[1]
	var content []byte
	if file == "-" {
		if content, err = io.ReadAll(s.in); err != nil {
			return fmt.Errorf("reading the schema from stdin: %w", err)
		}
	}
	conn, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if file == "-" {
		err = conn.CreateSchema(ctx, name, *typ, content)
	} else {
		err = conn.CreateSchemaFromFile(ctx, name, *typ, file)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "schema %s created\n", name)
	return nil
}

func runSchemaAttach(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "SCHEMA STATION",
		"Enforces SCHEMA on STATION: producers validate every message against it.")
	cf := addConnFlags(c, s.getenv)
	pos, conn, err := cf.parseAndConnect(ctx, c, args, 2, 2)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.EnforceSchema(ctx, pos[0], pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "schema %s attached to station %s\n", pos[0], pos[1])
	return nil
}

func runSchemaDetach(ctx context.Context, s stdio, path string, args []string) error {
	c := newCmdLine(s, path, "STATION", "Removes the schema enforced on STATION.")
	cf := addConnFlags(c, s.getenv)
	pos, conn, err := cf.parseAndConnect(ctx, c, args, 1, 1)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.DetachSchema(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "schema detached from station %s\n", pos[0])
	return nil
}
