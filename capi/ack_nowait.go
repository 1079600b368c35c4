package main

/*
#include <stdlib.h>
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

// Send-only acks (memphis_msg_ack_nowait, memphis_msgs_ack_nowait) and the
// station schema type of a message (memphis_msg_schema_type). They only
// buffer a publish or read local state, so bindings may call them on an
// event-loop thread.

//export memphis_go_msg_ack_nowait
func memphis_go_msg_ack_nowait(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	if err := mo.m.AckNoWait(); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msgs_ack_nowait
func memphis_go_msgs_ack_nowait(arr *C.uint64_t, count C.size_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	msgs, st := lookupMsgArray(arr, count, em)
	if st != statusOK || len(msgs) == 0 {
		return st
	}
	if err := sdk.AckAllNoWait(msgs); err != nil {
		return failErr(em, err)
	}
	return statusOK
}

//export memphis_go_msg_schema_type
func memphis_go_msg_schema_type(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	if out == nil {
		return nullArg(em, "type_out")
	}
	mo, st := lookupMsg(h, em)
	if mo == nil {
		return st
	}
	setCPtr(out, C.CString(mo.m.SchemaType()))
	return statusOK
}
