package main

/*
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

// Consumer options. The plain setters and getters are generated
// (options_gen.go); the sdk checks the values when the consumer is created.

//export memphis_go_consumer_opts_new
func memphis_go_consumer_opts_new(station, name *C.char, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, st := cText(em, station, "station_name")
	if st != statusOK {
		return st
	}
	n, st := cText(em, name, "consumer_name")
	if st != statusOK {
		return st
	}
	return optsNew(out, em, kindConsumerOpts, sdk.DefaultConsumerOptions(s, n))
}

//export memphis_go_consumer_opts_destroy
func memphis_go_consumer_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[sdk.ConsumerOptions](h, kindConsumerOpts, em)
}
