package main

/*
#include "internal.h"
*/
import "C"

import (
	"context"
	"maps"
	"os"
	"slices"

	"github.com/libmemphis/libmemphis/sdk"
)

//export memphis_go_station_create
func memphis_go_station_create(ch, oh C.uint64_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	c, st := lookupConn(ch, em)
	if c == nil {
		return st
	}
	opts, ok := optsCopy[stationOpts](oh, kindStationOpts)
	if !ok {
		return badHandle(em, kindStationOpts)
	}
	s, err := c.CreateStation(context.Background(), opts)
	if err != nil {
		return failErr(em, err)
	}
	*out = C.uint64_t(newHandle(kindStation, s))
	return statusOK
}

//export memphis_go_station_destroy
func memphis_go_station_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, ok := release[*sdk.Station](uint64(h), kindStation)
	if !ok {
		return badHandle(em, kindStation)
	}
	if err := s.Destroy(context.Background()); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_station_free
func memphis_go_station_free(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if _, ok := release[*sdk.Station](uint64(h), kindStation); !ok {
		return badHandle(em, kindStation)
	}
	return statusOK
}

// schemaConn resolves the arguments shared by the schema calls: text
// arguments and the connection. A "path" may hold any bytes.
func schemaConn(ch C.uint64_t, em **C.char, names map[string]*C.char) (*sdk.Conn, map[string]string, C.int) {
	vals := make(map[string]string, len(names))
	for _, n := range slices.Sorted(maps.Keys(names)) { // the first bad argument is reported, always the same
		var s string
		st := setPath(em, names[n], n, &s)
		if st == statusOK && n != "path" {
			s, st = cText(em, names[n], n)
		}
		if st != statusOK {
			return nil, nil, st
		}
		vals[n] = s
	}
	c, st := lookupConn(ch, em)
	return c, vals, st
}

//export memphis_go_schema_create
func memphis_go_schema_create(ch C.uint64_t, name, typ, content *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, v, st := schemaConn(ch, em, map[string]*C.char{"name": name, "type": typ, "content": content})
	if c == nil {
		return st
	}
	if err := c.CreateSchema(context.Background(), v["name"], v["type"], []byte(v["content"])); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_schema_create_from_file
func memphis_go_schema_create_from_file(ch C.uint64_t, name, typ, path *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, v, st := schemaConn(ch, em, map[string]*C.char{"name": name, "type": typ, "path": path})
	if c == nil {
		return st
	}
	content, err := os.ReadFile(v["path"])
	if err != nil {
		return badArg(em, "reading schema file: %v", err)
	}
	if err := c.CreateSchema(context.Background(), v["name"], v["type"], content); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_schema_enforce
func memphis_go_schema_enforce(ch C.uint64_t, name, station *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, v, st := schemaConn(ch, em, map[string]*C.char{"name": name, "station_name": station})
	if c == nil {
		return st
	}
	if err := c.EnforceSchema(context.Background(), v["name"], v["station_name"]); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_schema_attach
func memphis_go_schema_attach(ch C.uint64_t, name, station *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, v, st := schemaConn(ch, em, map[string]*C.char{"name": name, "station_name": station})
	if c == nil {
		return st
	}
	//lint:ignore SA1019 memphis_schema_attach is memphis-py's attach_schema, kept beside enforce
	if err := c.AttachSchema(context.Background(), v["name"], v["station_name"]); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_schema_detach
func memphis_go_schema_detach(ch C.uint64_t, station *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, v, st := schemaConn(ch, em, map[string]*C.char{"station_name": station})
	if c == nil {
		return st
	}
	if err := c.DetachSchema(context.Background(), v["station_name"]); err != nil {
		return failErr(em, err)
	}
	return statusOK
}
