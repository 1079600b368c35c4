package main

/*
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

// Station options. The plain setters and getters are generated
// (options_gen.go); retention and storage translate C enums here. The sdk
// checks the values when the station is created.

type stationOpts = sdk.StationOptions

var retentionTypes = [...]sdk.RetentionType{
	C.MEMPHIS_RETENTION_MESSAGE_AGE_SEC: sdk.RetentionMessageAge,
	C.MEMPHIS_RETENTION_MESSAGES:        sdk.RetentionMessages,
	C.MEMPHIS_RETENTION_BYTES:           sdk.RetentionBytes,
	C.MEMPHIS_RETENTION_ACK_BASED:       sdk.RetentionAckBased,
}

var storageTypes = [...]sdk.StorageType{
	C.MEMPHIS_STORAGE_FILE:   sdk.StorageFile,
	C.MEMPHIS_STORAGE_MEMORY: sdk.StorageMemory,
}

//export memphis_go_station_opts_new
func memphis_go_station_opts_new(name *C.char, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	n, st := cText(em, name, "name")
	if st != statusOK {
		return st
	}
	return optsNew(out, em, kindStationOpts, sdk.DefaultStationOptions(n))
}

//export memphis_go_station_opts_destroy
func memphis_go_station_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[stationOpts](h, kindStationOpts, em)
}

//export memphis_go_station_opts_set_retention
func memphis_go_station_opts_set_retention(h C.uint64_t, t C.int, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if t < 0 || int(t) >= len(retentionTypes) {
		return badArg(em, "unknown retention type %d", int(t))
	}
	value, st := goInt(em, v, "retention value")
	if st != statusOK {
		return st
	}
	return optsSet(h, kindStationOpts, em, func(o *stationOpts) C.int {
		o.RetentionType, o.RetentionValue = retentionTypes[t], value
		return statusOK
	})
}

//export memphis_go_station_opts_set_storage
func memphis_go_station_opts_set_storage(h C.uint64_t, t C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if t < 0 || int(t) >= len(storageTypes) {
		return badArg(em, "unknown storage type %d", int(t))
	}
	return optsSet(h, kindStationOpts, em, func(o *stationOpts) C.int { o.StorageType = storageTypes[t]; return statusOK })
}

//export memphis_go_station_opts_get_retention
func memphis_go_station_opts_get_retention(h C.uint64_t, t *C.int, v *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if t == nil {
		return nullArg(em, "type")
	}
	return optsGet(h, kindStationOpts, em, v != nil, func(o *stationOpts) {
		*t = C.MEMPHIS_RETENTION_MESSAGE_AGE_SEC
		for i, r := range retentionTypes {
			if r == o.RetentionType {
				*t = C.int(i)
			}
		}
		*v = C.int64_t(o.RetentionValue)
	})
}

//export memphis_go_station_opts_get_storage
func memphis_go_station_opts_get_storage(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kindStationOpts, em, out != nil, func(o *stationOpts) {
		*out = C.MEMPHIS_STORAGE_FILE
		if o.StorageType == sdk.StorageMemory {
			*out = C.MEMPHIS_STORAGE_MEMORY
		}
	})
}
