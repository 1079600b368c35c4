package main

/*
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

// Connection options. The plain setters and getters are generated
// (options_gen.go); the sdk checks the values when connecting.

//export memphis_go_conn_opts_new
func memphis_go_conn_opts_new(out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsNew(out, em, kindConnOpts, sdk.DefaultConnectOptions())
}

//export memphis_go_conn_opts_destroy
func memphis_go_conn_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[sdk.ConnectOptions](h, kindConnOpts, em)
}
