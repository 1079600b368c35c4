package main

/*
#include <stdbool.h>
#include "internal.h"
*/
import "C"

import "github.com/libmemphis/libmemphis/sdk"

type connOpts = sdk.ConnectOptions

const kCO = kindConnOpts

//export memphis_go_conn_opts_new
func memphis_go_conn_opts_new(out *C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsNew(out, em, kCO, sdk.DefaultConnectOptions())
}

//export memphis_go_conn_opts_destroy
func memphis_go_conn_opts_destroy(h C.uint64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsDestroy[connOpts](h, kCO, em)
}

//export memphis_go_conn_opts_set_host
func memphis_go_conn_opts_set_host(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "host", &o.Host) })
}

//export memphis_go_conn_opts_set_port
func memphis_go_conn_opts_set_port(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v <= 0 || v > 65535 {
		return badArg(em, "port must be between 1 and 65535 (got %d)", int(v))
	}
	return optsSet(h, kCO, em, func(o *connOpts) C.int { o.Port = int(v); return statusOK })
}

//export memphis_go_conn_opts_set_username
func memphis_go_conn_opts_set_username(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "username", &o.Username) })
}

//export memphis_go_conn_opts_set_password
func memphis_go_conn_opts_set_password(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "password", &o.Password) })
}

//export memphis_go_conn_opts_set_connection_token
func memphis_go_conn_opts_set_connection_token(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "connection token", &o.ConnectionToken) })
}

//export memphis_go_conn_opts_set_account_id
func memphis_go_conn_opts_set_account_id(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < 0 {
		return badArg(em, "account id must not be negative (got %d)", int(v))
	}
	return optsSet(h, kCO, em, func(o *connOpts) C.int { o.AccountID = int(v); return statusOK })
}

//export memphis_go_conn_opts_set_reconnect
func memphis_go_conn_opts_set_reconnect(h C.uint64_t, v C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { o.Reconnect = bool(v); return statusOK })
}

//export memphis_go_conn_opts_set_max_reconnect
func memphis_go_conn_opts_set_max_reconnect(h C.uint64_t, v C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	if v < -1 {
		return badArg(em, "max reconnect must be -1 (unlimited) or more (got %d)", int(v))
	}
	return optsSet(h, kCO, em, func(o *connOpts) C.int { o.MaxReconnect = int(v); return statusOK })
}

//export memphis_go_conn_opts_set_reconnect_interval_ms
func memphis_go_conn_opts_set_reconnect_interval_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int {
		return setMillis(em, v, "reconnect interval", &o.ReconnectInterval)
	})
}

//export memphis_go_conn_opts_set_timeout_ms
func memphis_go_conn_opts_set_timeout_ms(h C.uint64_t, v C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setMillis(em, v, "timeout", &o.Timeout) })
}

//export memphis_go_conn_opts_set_tls_cert_file
func memphis_go_conn_opts_set_tls_cert_file(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "path", &o.TLSCertFile) })
}

//export memphis_go_conn_opts_set_tls_key_file
func memphis_go_conn_opts_set_tls_key_file(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "path", &o.TLSKeyFile) })
}

//export memphis_go_conn_opts_set_tls_ca_file
func memphis_go_conn_opts_set_tls_ca_file(h C.uint64_t, v *C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsSet(h, kCO, em, func(o *connOpts) C.int { return setString(em, v, "path", &o.TLSCAFile) })
}

//export memphis_go_conn_opts_get_host
func memphis_go_conn_opts_get_host(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { outString(out, o.Host) })
}

//export memphis_go_conn_opts_get_port
func memphis_go_conn_opts_get_port(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { *out = C.int(o.Port) })
}

//export memphis_go_conn_opts_get_username
func memphis_go_conn_opts_get_username(h C.uint64_t, out **C.char, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { outString(out, o.Username) })
}

//export memphis_go_conn_opts_get_account_id
func memphis_go_conn_opts_get_account_id(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { *out = C.int(o.AccountID) })
}

//export memphis_go_conn_opts_get_reconnect
func memphis_go_conn_opts_get_reconnect(h C.uint64_t, out *C.bool, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { *out = C.bool(o.Reconnect) })
}

//export memphis_go_conn_opts_get_max_reconnect
func memphis_go_conn_opts_get_max_reconnect(h C.uint64_t, out *C.int, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { *out = C.int(o.MaxReconnect) })
}

//export memphis_go_conn_opts_get_reconnect_interval_ms
func memphis_go_conn_opts_get_reconnect_interval_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { *out = millis(o.ReconnectInterval) })
}

//export memphis_go_conn_opts_get_timeout_ms
func memphis_go_conn_opts_get_timeout_ms(h C.uint64_t, out *C.int64_t, em **C.char) (st C.int) {
	defer guard(&st, em)
	return optsGet(h, kCO, em, out != nil, func(o *connOpts) { *out = millis(o.Timeout) })
}
