package main

/*
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

type consumerOpts = sdk.ConsumerOptions

const kCNO = kindConsumerOpts

//export memphis_go_consumer_opts_new
func memphis_go_consumer_opts_new(station, name *C.char, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	s, ok := goStr(station)
	if !ok {
		return nullArg(em, "station_name")
	}
	n, ok := goStr(name)
	if !ok {
		return nullArg(em, "consumer_name")
	}
	return optsNew(out, em, kCNO, sdk.DefaultConsumerOptions(s, n))
}

//export memphis_go_consumer_opts_destroy
func memphis_go_consumer_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[consumerOpts](h, kCNO, em)
}

//export memphis_go_consumer_opts_set_station_name
func memphis_go_consumer_opts_set_station_name(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { return setString(em, v, "station_name", &o.StationName) })
}

//export memphis_go_consumer_opts_set_name
func memphis_go_consumer_opts_set_name(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { return setString(em, v, "consumer_name", &o.Name) })
}

//export memphis_go_consumer_opts_set_group
func memphis_go_consumer_opts_set_group(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { return setString(em, v, "group", &o.Group) })
}

//export memphis_go_consumer_opts_set_pull_interval_ms
func memphis_go_consumer_opts_set_pull_interval_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { return setMillis(em, v, "pull interval", &o.PullInterval) })
}

//export memphis_go_consumer_opts_set_batch_size
func memphis_go_consumer_opts_set_batch_size(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 1 || v > sdk.MaxBatchSize {
		return badArg(em, "Batch size can not be greater than %d or less than 1 (got %d)", sdk.MaxBatchSize, int(v))
	}
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { o.BatchSize = int(v); return statusOK })
}

//export memphis_go_consumer_opts_set_batch_max_wait_ms
func memphis_go_consumer_opts_set_batch_max_wait_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { return setMillis(em, v, "batch max wait", &o.BatchMaxWait) })
}

//export memphis_go_consumer_opts_set_max_ack_time_ms
func memphis_go_consumer_opts_set_max_ack_time_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { return setMillis(em, v, "max ack time", &o.MaxAckTime) })
}

//export memphis_go_consumer_opts_set_max_msg_deliveries
func memphis_go_consumer_opts_set_max_msg_deliveries(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 1 || v > 10 {
		return badArg(em, "max msg deliveries must be between 1 and 10 (got %d)", int(v))
	}
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { o.MaxMsgDeliveries = int(v); return statusOK })
}

//export memphis_go_consumer_opts_set_start_consume_from_sequence
func memphis_go_consumer_opts_set_start_consume_from_sequence(h C.uint64_t, v C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 1 {
		return badArg(em, "startConsumeFromSequence has to be a positive number")
	}
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { o.StartConsumeFromSequence = uint64(v); return statusOK })
}

//export memphis_go_consumer_opts_set_last_messages
func memphis_go_consumer_opts_set_last_messages(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < -1 {
		return badArg(em, "min value for LastMessages is -1 (got %d)", int64(v))
	}
	return optsSet(h, kCNO, em, func(o *consumerOpts) C.int { o.LastMessages = int64(v); return statusOK })
}

//export memphis_go_consumer_opts_get_station_name
func memphis_go_consumer_opts_get_station_name(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { outString(out, o.StationName) })
}

//export memphis_go_consumer_opts_get_name
func memphis_go_consumer_opts_get_name(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { outString(out, o.Name) })
}

//export memphis_go_consumer_opts_get_group
func memphis_go_consumer_opts_get_group(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { outString(out, o.Group) })
}

//export memphis_go_consumer_opts_get_pull_interval_ms
func memphis_go_consumer_opts_get_pull_interval_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = millis(o.PullInterval) })
}

//export memphis_go_consumer_opts_get_batch_size
func memphis_go_consumer_opts_get_batch_size(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = C.int(o.BatchSize) })
}

//export memphis_go_consumer_opts_get_batch_max_wait_ms
func memphis_go_consumer_opts_get_batch_max_wait_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = millis(o.BatchMaxWait) })
}

//export memphis_go_consumer_opts_get_max_ack_time_ms
func memphis_go_consumer_opts_get_max_ack_time_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = millis(o.MaxAckTime) })
}

//export memphis_go_consumer_opts_get_max_msg_deliveries
func memphis_go_consumer_opts_get_max_msg_deliveries(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = C.int(o.MaxMsgDeliveries) })
}

//export memphis_go_consumer_opts_get_start_consume_from_sequence
func memphis_go_consumer_opts_get_start_consume_from_sequence(h C.uint64_t, out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = C.uint64_t(o.StartConsumeFromSequence) })
}

//export memphis_go_consumer_opts_get_last_messages
func memphis_go_consumer_opts_get_last_messages(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCNO, em, out != nil, func(o *consumerOpts) { *out = C.int64_t(o.LastMessages) })
}
