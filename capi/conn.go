package main

/*
#include <stdbool.h>
#include "internal.h"
*/
import "C"

import (
	"context"

	"github.com/libmemphis/libmemphis/sdk"
)

// lookupConn resolves a connection handle.
func lookupConn(h C.uint64_t, em **C.char) (*sdk.Conn, C.int) {
	c, ok := lookup[*sdk.Conn](uint64(h), kindConn)
	if !ok {
		return nil, badHandle(em, kindConn)
	}
	return c, statusOK
}

//export memphis_go_connect
func memphis_go_connect(oh C.uint64_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	opts, ok := optsCopy[sdk.ConnectOptions](oh, kindConnOpts)
	if !ok {
		return badHandle(em, kindConnOpts)
	}
	opts.Logger = capiLogger // memphis_set_log_callback decides where records go
	c, err := sdk.Connect(context.Background(), opts)
	if err != nil {
		return failErr(em, err)
	}
	*out = C.uint64_t(newHandle(kindConn, c))
	return statusOK
}

//export memphis_go_conn_close
func memphis_go_conn_close(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, st := lookupConn(h, em)
	if c == nil {
		return st
	}
	cancelQueuedOf(c)
	if err := c.Close(); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_conn_destroy
func memphis_go_conn_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	c, ok := release[*sdk.Conn](uint64(h), kindConn)
	if !ok {
		return badHandle(em, kindConn)
	}
	cancelQueuedOf(c)
	if err := c.Close(); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_conn_is_connected
func memphis_go_conn_is_connected(h C.uint64_t, out *C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	c, st := lookupConn(h, em)
	if c == nil {
		return st
	}
	*out = C.bool(c.IsConnected())
	return statusOK
}
