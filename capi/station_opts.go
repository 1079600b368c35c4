package main

/*
#include <stdbool.h>
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

type stationOpts = sdk.StationOptions

const kSO = kindStationOpts

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
	n, ok := goStr(name)
	if !ok {
		return nullArg(em, "name")
	}
	return optsNew(out, em, kSO, sdk.DefaultStationOptions(n))
}

//export memphis_go_station_opts_destroy
func memphis_go_station_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[stationOpts](h, kSO, em)
}

//export memphis_go_station_opts_set_name
func memphis_go_station_opts_set_name(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { return setString(em, v, "name", &o.Name) })
}

//export memphis_go_station_opts_set_retention
func memphis_go_station_opts_set_retention(h C.uint64_t, t C.int, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if t < 0 || int(t) >= len(retentionTypes) {
		return badArg(em, "unknown retention type %d", int(t))
	}
	if v < 0 {
		return badArg(em, "retention value must not be negative (got %d)", int64(v))
	}
	return optsSet(h, kSO, em, func(o *stationOpts) C.int {
		o.RetentionType, o.RetentionValue = retentionTypes[t], int(v)
		return statusOK
	})
}

//export memphis_go_station_opts_set_storage
func memphis_go_station_opts_set_storage(h C.uint64_t, t C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if t < 0 || int(t) >= len(storageTypes) {
		return badArg(em, "unknown storage type %d", int(t))
	}
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { o.StorageType = storageTypes[t]; return statusOK })
}

//export memphis_go_station_opts_set_replicas
func memphis_go_station_opts_set_replicas(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 1 {
		return badArg(em, "replicas must be at least 1 (got %d)", int(v))
	}
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { o.Replicas = int(v); return statusOK })
}

//export memphis_go_station_opts_set_idempotency_window_ms
func memphis_go_station_opts_set_idempotency_window_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int {
		return setMillis(em, v, "idempotency window", &o.IdempotencyWindow)
	})
}

//export memphis_go_station_opts_set_schema_name
func memphis_go_station_opts_set_schema_name(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { return setString(em, v, "schema_name", &o.SchemaName) })
}

//export memphis_go_station_opts_set_send_poison_msg_to_dls
func memphis_go_station_opts_set_send_poison_msg_to_dls(h C.uint64_t, v C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { o.SendPoisonMsgToDls = bool(v); return statusOK })
}

//export memphis_go_station_opts_set_send_schema_failed_msg_to_dls
func memphis_go_station_opts_set_send_schema_failed_msg_to_dls(h C.uint64_t, v C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { o.SendSchemaFailedMsgToDls = bool(v); return statusOK })
}

//export memphis_go_station_opts_set_tiered_storage_enabled
func memphis_go_station_opts_set_tiered_storage_enabled(h C.uint64_t, v C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { o.TieredStorageEnabled = bool(v); return statusOK })
}

//export memphis_go_station_opts_set_partitions_number
func memphis_go_station_opts_set_partitions_number(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 1 || v > 10000 {
		return badArg(em, "partitions number must be between 1 and 10000 (got %d)", int(v))
	}
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { o.PartitionsNumber = int(v); return statusOK })
}

//export memphis_go_station_opts_set_dls_station
func memphis_go_station_opts_set_dls_station(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kSO, em, func(o *stationOpts) C.int { return setString(em, v, "dls_station", &o.DlsStation) })
}

//export memphis_go_station_opts_get_name
func memphis_go_station_opts_get_name(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { outString(out, o.Name) })
}

//export memphis_go_station_opts_get_retention
func memphis_go_station_opts_get_retention(h C.uint64_t, t *C.int, v *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if t == nil {
		return nullArg(em, "type")
	}
	return optsGet(h, kSO, em, v != nil, func(o *stationOpts) {
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
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) {
		*out = C.MEMPHIS_STORAGE_FILE
		if o.StorageType == sdk.StorageMemory {
			*out = C.MEMPHIS_STORAGE_MEMORY
		}
	})
}

//export memphis_go_station_opts_get_replicas
func memphis_go_station_opts_get_replicas(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { *out = C.int(o.Replicas) })
}

//export memphis_go_station_opts_get_idempotency_window_ms
func memphis_go_station_opts_get_idempotency_window_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { *out = millis(o.IdempotencyWindow) })
}

//export memphis_go_station_opts_get_schema_name
func memphis_go_station_opts_get_schema_name(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { outString(out, o.SchemaName) })
}

//export memphis_go_station_opts_get_send_poison_msg_to_dls
func memphis_go_station_opts_get_send_poison_msg_to_dls(h C.uint64_t, out *C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { *out = C.bool(o.SendPoisonMsgToDls) })
}

//export memphis_go_station_opts_get_send_schema_failed_msg_to_dls
func memphis_go_station_opts_get_send_schema_failed_msg_to_dls(h C.uint64_t, out *C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { *out = C.bool(o.SendSchemaFailedMsgToDls) })
}

//export memphis_go_station_opts_get_tiered_storage_enabled
func memphis_go_station_opts_get_tiered_storage_enabled(h C.uint64_t, out *C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { *out = C.bool(o.TieredStorageEnabled) })
}

//export memphis_go_station_opts_get_partitions_number
func memphis_go_station_opts_get_partitions_number(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { *out = C.int(o.PartitionsNumber) })
}

//export memphis_go_station_opts_get_dls_station
func memphis_go_station_opts_get_dls_station(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kSO, em, out != nil, func(o *stationOpts) { outString(out, o.DlsStation) })
}
