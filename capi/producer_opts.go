package main

/*
#include "internal.h"
*/
import "C"

import (
	"slices"

	"github.com/libmemphis/libmemphis/sdk"
)

// Producer options. The plain setters and getters are generated
// (options_gen.go); the station list has its own accessors here. The sdk
// checks the values when the producer is created.

type producerOpts = sdk.ProducerOptions

//export memphis_go_producer_opts_new
func memphis_go_producer_opts_new(station, name *C.char, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, st := cText(em, station, "station_name")
	if st != statusOK {
		return st
	}
	n, st := cText(em, name, "producer_name")
	if st != statusOK {
		return st
	}
	return optsNew(out, em, kindProducerOpts, sdk.DefaultProducerOptions(s, n))
}

//export memphis_go_producer_opts_destroy
func memphis_go_producer_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[producerOpts](h, kindProducerOpts, em)
}

//export memphis_go_producer_opts_add_station
func memphis_go_producer_opts_add_station(h C.uint64_t, station *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, st := cText(em, station, "station_name")
	if st != statusOK {
		return st
	}
	return optsSet(h, kindProducerOpts, em, func(o *producerOpts) C.int {
		// Clip: never write into an array a copied snapshot may share.
		o.StationNames = append(slices.Clip(o.StationNames), s)
		return statusOK
	})
}

//export memphis_go_producer_opts_get_station_count
func memphis_go_producer_opts_get_station_count(h C.uint64_t, out *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kindProducerOpts, em, out != nil, func(o *producerOpts) { *out = C.size_t(len(o.StationNames)) })
}

//export memphis_go_producer_opts_get_station
func memphis_go_producer_opts_get_station(h C.uint64_t, i C.size_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	return optsSet(h, kindProducerOpts, em, func(o *producerOpts) C.int {
		if uint64(i) >= uint64(len(o.StationNames)) {
			return badArg(em, "station index %d out of range (%d stations)", uint64(i), len(o.StationNames))
		}
		outString(out, o.StationNames[i])
		return statusOK
	})
}
