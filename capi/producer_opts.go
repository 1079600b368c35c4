package main

/*
#include "internal.h"
*/
import "C"

import (
	"slices"

	"github.com/libmemphis/libmemphis/sdk"
)

type producerOpts = sdk.ProducerOptions

const kPO = kindProducerOpts

//export memphis_go_producer_opts_new
func memphis_go_producer_opts_new(station, name *C.char, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, ok := goStr(station)
	if !ok {
		return nullArg(em, "station_name")
	}
	n, ok := goStr(name)
	if !ok {
		return nullArg(em, "producer_name")
	}
	return optsNew(out, em, kPO, sdk.DefaultProducerOptions(n, s))
}

//export memphis_go_producer_opts_destroy
func memphis_go_producer_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[producerOpts](h, kPO, em)
}

//export memphis_go_producer_opts_add_station
func memphis_go_producer_opts_add_station(h C.uint64_t, station *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, ok := goStr(station)
	if !ok {
		return nullArg(em, "station_name")
	}
	return optsSet(h, kPO, em, func(o *producerOpts) C.int {
		// Clip: never write into an array a copied snapshot may share.
		o.StationNames = append(slices.Clip(o.StationNames), s)
		return statusOK
	})
}

//export memphis_go_producer_opts_set_name
func memphis_go_producer_opts_set_name(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kPO, em, func(o *producerOpts) C.int { return setString(em, v, "producer_name", &o.Name) })
}

//export memphis_go_producer_opts_set_max_in_flight
func memphis_go_producer_opts_set_max_in_flight(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 1 {
		return badArg(em, "max in flight must be at least 1 (got %d)", int(v))
	}
	return optsSet(h, kPO, em, func(o *producerOpts) C.int { o.MaxInFlight = int(v); return statusOK })
}

//export memphis_go_producer_opts_set_ack_wait_ms
func memphis_go_producer_opts_set_ack_wait_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v == 0 {
		return badArg(em, "ack wait must be positive")
	}
	return optsSet(h, kPO, em, func(o *producerOpts) C.int { return setMillis(em, v, "ack wait", &o.AckWait) })
}

//export memphis_go_producer_opts_get_name
func memphis_go_producer_opts_get_name(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kPO, em, out != nil, func(o *producerOpts) { outString(out, o.Name) })
}

//export memphis_go_producer_opts_get_station_count
func memphis_go_producer_opts_get_station_count(h C.uint64_t, out *C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kPO, em, out != nil, func(o *producerOpts) { *out = C.size_t(len(o.StationNames)) })
}

//export memphis_go_producer_opts_get_station
func memphis_go_producer_opts_get_station(h C.uint64_t, i C.size_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "out")
	}
	return optsSet(h, kPO, em, func(o *producerOpts) C.int {
		if uint64(i) >= uint64(len(o.StationNames)) {
			return badArg(em, "station index %d out of range (%d stations)", uint64(i), len(o.StationNames))
		}
		outString(out, o.StationNames[i])
		return statusOK
	})
}

//export memphis_go_producer_opts_get_max_in_flight
func memphis_go_producer_opts_get_max_in_flight(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kPO, em, out != nil, func(o *producerOpts) { *out = C.int(o.MaxInFlight) })
}

//export memphis_go_producer_opts_get_ack_wait_ms
func memphis_go_producer_opts_get_ack_wait_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kPO, em, out != nil, func(o *producerOpts) { *out = millis(o.AckWait) })
}
