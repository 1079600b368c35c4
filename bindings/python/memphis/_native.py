"""ctypes declarations of include/memphis.h and thin checked wrappers.

Everything here is synchronous and may block (network calls); callers on
the event loop run these on worker threads (see ``_ops``). ctypes.CDLL
releases the GIL around every C call, so a blocked call never stalls other
Python threads. The library is loaded on first use, not at import time, so
importing ``memphis`` (or forking before the first connect) stays safe.
"""

from __future__ import annotations

import ctypes
import threading
from ctypes import (
    POINTER,
    byref,
    c_bool,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint64,
    c_void_p,
)
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ._locate import find_library
from .exceptions import MemphisConnectError, MemphisError, MemphisHeaderError, MemphisSchemaError

# Status values from memphis.h (stable, never renumbered).
OK = 0
INVALID_ARGUMENT = 1
NOT_CONNECTED = 2
TIMEOUT = 3
NO_MESSAGES = 4
NOT_FOUND = 5
AUTH = 7
TLS = 8
UNREACHABLE = 9
SCHEMA_VALIDATION = 11
HEADER = 12
QUEUE_FULL = 13
CLOSED = 14
INVALID_HANDLE = 100

_ERRP = POINTER(c_void_p)


class ProduceOpts(ctypes.Structure):
    _fields_ = [
        ("headers", c_void_p),
        ("msg_id", c_char_p),
        ("partition_key", c_char_p),
        ("partition_number", c_int),
        ("ack_wait_ms", c_int64),
    ]


DELIVERY_CB = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_uint64, c_void_p)
CONSUME_CB = ctypes.CFUNCTYPE(None, POINTER(c_void_p), c_size_t, c_int, c_char_p, c_void_p)

_S = c_int  # memphis_status_t
# name -> argtypes (without the trailing memphis_error_t **); restype is the status.
_FALLIBLE: Dict[str, List[Any]] = {
    "memphis_conn_opts_new": [POINTER(c_void_p)],
    "memphis_conn_opts_destroy": [c_void_p],
    "memphis_conn_opts_set_host": [c_void_p, c_char_p],
    "memphis_conn_opts_set_port": [c_void_p, c_int],
    "memphis_conn_opts_set_username": [c_void_p, c_char_p],
    "memphis_conn_opts_set_password": [c_void_p, c_char_p],
    "memphis_conn_opts_set_connection_token": [c_void_p, c_char_p],
    "memphis_conn_opts_set_account_id": [c_void_p, c_int],
    "memphis_conn_opts_set_reconnect": [c_void_p, c_bool],
    "memphis_conn_opts_set_max_reconnect": [c_void_p, c_int],
    "memphis_conn_opts_set_reconnect_interval_ms": [c_void_p, c_int64],
    "memphis_conn_opts_set_timeout_ms": [c_void_p, c_int64],
    "memphis_conn_opts_set_tls_cert_file": [c_void_p, c_char_p],
    "memphis_conn_opts_set_tls_key_file": [c_void_p, c_char_p],
    "memphis_conn_opts_set_tls_ca_file": [c_void_p, c_char_p],
    "memphis_connect": [c_void_p, POINTER(c_void_p)],
    "memphis_conn_close": [c_void_p],
    "memphis_conn_destroy": [c_void_p],
    "memphis_conn_is_connected": [c_void_p, POINTER(c_bool)],
    "memphis_station_opts_new": [c_char_p, POINTER(c_void_p)],
    "memphis_station_opts_destroy": [c_void_p],
    "memphis_station_opts_get_retention": [c_void_p, POINTER(c_int), POINTER(c_int64)],
    "memphis_station_opts_set_retention": [c_void_p, c_int, c_int64],
    "memphis_station_opts_set_storage": [c_void_p, c_int],
    "memphis_station_opts_set_replicas": [c_void_p, c_int],
    "memphis_station_opts_set_idempotency_window_ms": [c_void_p, c_int64],
    "memphis_station_opts_set_schema_name": [c_void_p, c_char_p],
    "memphis_station_opts_set_send_poison_msg_to_dls": [c_void_p, c_bool],
    "memphis_station_opts_set_send_schema_failed_msg_to_dls": [c_void_p, c_bool],
    "memphis_station_opts_set_tiered_storage_enabled": [c_void_p, c_bool],
    "memphis_station_opts_set_partitions_number": [c_void_p, c_int],
    "memphis_station_opts_set_dls_station": [c_void_p, c_char_p],
    "memphis_station_create": [c_void_p, c_void_p, POINTER(c_void_p)],
    "memphis_station_destroy": [c_void_p],
    "memphis_station_free": [c_void_p],
    "memphis_schema_create": [c_void_p, c_char_p, c_char_p, c_char_p],
    "memphis_schema_enforce": [c_void_p, c_char_p, c_char_p],
    "memphis_schema_attach": [c_void_p, c_char_p, c_char_p],
    "memphis_schema_detach": [c_void_p, c_char_p],
    "memphis_headers_new": [POINTER(c_void_p)],
    "memphis_headers_destroy": [c_void_p],
    "memphis_headers_add": [c_void_p, c_char_p, c_char_p],
    "memphis_producer_opts_new": [c_char_p, c_char_p, POINTER(c_void_p)],
    "memphis_producer_opts_destroy": [c_void_p],
    "memphis_producer_opts_add_station": [c_void_p, c_char_p],
    "memphis_producer_create": [c_void_p, c_void_p, POINTER(c_void_p)],
    "memphis_producer_produce": [c_void_p, c_char_p, c_size_t, POINTER(ProduceOpts)],
    "memphis_producer_produce_async": [
        c_void_p,
        c_char_p,
        c_size_t,
        POINTER(ProduceOpts),
        DELIVERY_CB,
        c_void_p,
        c_int64,
    ],
    "memphis_producer_produce_batch": [
        c_void_p,
        POINTER(c_char_p),
        POINTER(c_size_t),
        POINTER(ProduceOpts),
        c_size_t,
        DELIVERY_CB,
        POINTER(c_void_p),
        c_int64,
        POINTER(c_size_t),
    ],
    "memphis_producer_produce_async_to_queue": [
        c_void_p,
        c_char_p,
        c_size_t,
        POINTER(ProduceOpts),
        c_void_p,
        c_void_p,
        c_int64,
    ],
    "memphis_queue_new": [c_size_t, POINTER(c_void_p)],
    "memphis_queue_poll": [c_void_p, c_void_p, c_size_t, c_int64, POINTER(c_size_t)],
    "memphis_queue_wake": [c_void_p],
    "memphis_queue_set_wakeup_fd": [c_void_p, c_int, c_char_p, c_size_t],
    "memphis_queue_destroy": [c_void_p],
    "memphis_producer_flush": [c_void_p, c_int64, POINTER(c_uint64)],
    "memphis_producer_destroy": [c_void_p],
    "memphis_conn_produce": [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t, POINTER(ProduceOpts)],
    "memphis_consumer_opts_new": [c_char_p, c_char_p, POINTER(c_void_p)],
    "memphis_consumer_opts_destroy": [c_void_p],
    "memphis_consumer_opts_set_group": [c_void_p, c_char_p],
    "memphis_consumer_opts_set_pull_interval_ms": [c_void_p, c_int64],
    "memphis_consumer_opts_set_batch_size": [c_void_p, c_int],
    "memphis_consumer_opts_set_batch_max_wait_ms": [c_void_p, c_int64],
    "memphis_consumer_opts_set_max_ack_time_ms": [c_void_p, c_int64],
    "memphis_consumer_opts_set_max_msg_deliveries": [c_void_p, c_int],
    "memphis_consumer_opts_set_start_consume_from_sequence": [c_void_p, c_uint64],
    "memphis_consumer_opts_set_last_messages": [c_void_p, c_int64],
    "memphis_consumer_opts_get_batch_size": [c_void_p, POINTER(c_int)],
    "memphis_consumer_create": [c_void_p, c_void_p, POINTER(c_void_p)],
    "memphis_consumer_consume": [c_void_p, CONSUME_CB, c_void_p, c_char_p, c_int],
    "memphis_consumer_stop": [c_void_p],
    "memphis_consumer_fetch": [
        c_void_p,
        c_size_t,
        c_char_p,
        c_int,
        POINTER(POINTER(c_void_p)),
        POINTER(c_size_t),
    ],
    "memphis_consumer_destroy": [c_void_p],
    "memphis_fetch_messages": [
        c_void_p,
        c_void_p,
        c_char_p,
        c_int,
        POINTER(POINTER(c_void_p)),
        POINTER(c_size_t),
    ],
    "memphis_msg_data": [c_void_p, POINTER(c_void_p), POINTER(c_size_t)],
    "memphis_msg_header_count": [c_void_p, POINTER(c_size_t)],
    "memphis_msg_header_at": [c_void_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p)],
    "memphis_msg_sequence": [c_void_p, POINTER(c_uint64)],
    "memphis_msg_time_sent": [c_void_p, POINTER(c_int64)],
    "memphis_msg_partition": [c_void_p, POINTER(c_int)],
    "memphis_msg_is_dls": [c_void_p, POINTER(c_bool)],
    "memphis_msg_ack": [c_void_p],
    "memphis_msg_nack": [c_void_p],
    "memphis_msg_delay": [c_void_p, c_int64],
    "memphis_msg_dead_letter": [c_void_p, c_char_p],
    "memphis_msg_deserialize": [c_void_p, POINTER(c_void_p)],
    "memphis_msg_destroy": [c_void_p],
    "memphis_msgs_ack": [POINTER(c_void_p), c_size_t],
    "memphis_msg_ack_nowait": [c_void_p],
    "memphis_msgs_ack_nowait": [POINTER(c_void_p), c_size_t],
    "memphis_msg_schema_type": [c_void_p, POINTER(c_void_p)],
}


class _Lib:
    """The loaded library with typed functions as attributes."""

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set in __init__; declared for type checkers.
        raise AttributeError(f"libmemphis has no function memphis_{name}")

    def __init__(self) -> None:
        path = find_library()
        self.path = path
        self.cdll = ctypes.CDLL(str(path))
        for fname, argtypes in _FALLIBLE.items():
            fn = getattr(self.cdll, fname)
            fn.argtypes = [*argtypes, _ERRP]
            fn.restype = _S
            setattr(self, fname[len("memphis_") :], fn)
        c = self.cdll
        c.memphis_error_status.argtypes = [c_void_p]
        c.memphis_error_status.restype = _S
        c.memphis_error_message.argtypes = [c_void_p]
        c.memphis_error_message.restype = c_char_p
        c.memphis_error_free.argtypes = [c_void_p]
        c.memphis_error_free.restype = None
        c.memphis_free.argtypes = [c_void_p]
        c.memphis_free.restype = None
        c.memphis_status_name.argtypes = [_S]
        c.memphis_status_name.restype = c_char_p
        c.memphis_version_str.argtypes = []
        c.memphis_version_str.restype = c_char_p


_lib: Optional[_Lib] = None
_lib_lock = threading.Lock()


def lib() -> _Lib:
    """Load libmemphis on first use."""
    global _lib
    if _lib is None:
        with _lib_lock:
            if _lib is None:
                try:
                    _lib = _Lib()
                except (OSError, AttributeError) as exc:
                    raise MemphisError(f"cannot load libmemphis: {exc}") from exc
    return _lib


def version() -> str:
    return lib().cdll.memphis_version_str().decode()


def status_name(status: int) -> str:
    return lib().cdll.memphis_status_name(status).decode()


def _exception_for(status: int, message: str) -> MemphisError:
    name = status_name(status)
    if status == SCHEMA_VALIDATION:
        return MemphisSchemaError(message, name)
    if status == HEADER:
        return MemphisHeaderError(message, name)
    if status in (NOT_CONNECTED, CLOSED, AUTH, TLS, UNREACHABLE):
        return MemphisConnectError(message, name)
    return MemphisError(message, name)


def error_from(status: int, message: Optional[bytes]) -> MemphisError:
    """Build the exception for a status and an optional detail text."""
    text = message.decode("utf-8", "replace") if message else status_name(status)
    return _exception_for(status, text)


def check(fn: Callable[..., int], *args: Any) -> None:
    """Call a fallible library function and raise on failure."""
    err = c_void_p()
    status = fn(*args, byref(err))
    if status != OK:
        raise _take_error(status, err)


def _take_error(status: int, err: c_void_p) -> MemphisError:
    c = lib().cdll
    if err.value:
        text = c.memphis_error_message(err)
        c.memphis_error_free(err)
        return error_from(status, text)
    return error_from(status, None)


def call_status(fn: Callable[..., int], *args: Any) -> Tuple[int, Optional[MemphisError]]:
    """Call and return (status, exception or None) instead of raising."""
    err = c_void_p()
    status = fn(*args, byref(err))
    if status == OK:
        return OK, None
    return status, _take_error(status, err)


def _b(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else s.encode("utf-8")


# --- connection -----------------------------------------------------------

_CONN_SETTERS = {
    "host": ("conn_opts_set_host", _b),
    "port": ("conn_opts_set_port", int),
    "username": ("conn_opts_set_username", _b),
    "password": ("conn_opts_set_password", _b),
    "connection_token": ("conn_opts_set_connection_token", _b),
    "account_id": ("conn_opts_set_account_id", int),
    "reconnect": ("conn_opts_set_reconnect", bool),
    "max_reconnect": ("conn_opts_set_max_reconnect", int),
    "reconnect_interval_ms": ("conn_opts_set_reconnect_interval_ms", int),
    "timeout_ms": ("conn_opts_set_timeout_ms", int),
    "cert_file": ("conn_opts_set_tls_cert_file", _b),
    "key_file": ("conn_opts_set_tls_key_file", _b),
    "ca_file": ("conn_opts_set_tls_ca_file", _b),
}


def _apply(opts: c_void_p, setters: Dict[str, Tuple[str, Any]], values: Dict[str, Any]) -> None:
    L = lib()
    for key, value in values.items():
        if value is None:
            continue  # not given: the library's default stays
        fname, conv = setters[key]
        check(getattr(L, fname), opts, conv(value))


def connect(values: Dict[str, Any]) -> c_void_p:
    """Connect with only the given options set; the rest are library defaults."""
    L = lib()
    opts = c_void_p()
    check(L.conn_opts_new, byref(opts))
    try:
        _apply(opts, _CONN_SETTERS, values)
        conn = c_void_p()
        check(L.connect, opts, byref(conn))
        return conn
    finally:
        check(L.conn_opts_destroy, opts)


def conn_close(conn: c_void_p) -> None:
    check(lib().conn_close, conn)


def conn_destroy(conn: c_void_p) -> None:
    status, _ = call_status(lib().conn_destroy, conn)
    del status  # releasing a handle cannot usefully fail


def conn_is_connected(conn: c_void_p) -> bool:
    out = c_bool()
    status, _ = call_status(lib().conn_is_connected, conn, byref(out))
    return status == OK and bool(out.value)


# --- stations and schemas -------------------------------------------------

_STATION_SETTERS = {
    "storage_type": ("station_opts_set_storage", int),
    "replicas": ("station_opts_set_replicas", int),
    "idempotency_window_ms": ("station_opts_set_idempotency_window_ms", int),
    "schema_name": ("station_opts_set_schema_name", _b),
    "send_poison_msg_to_dls": ("station_opts_set_send_poison_msg_to_dls", bool),
    "send_schema_failed_msg_to_dls": ("station_opts_set_send_schema_failed_msg_to_dls", bool),
    "tiered_storage_enabled": ("station_opts_set_tiered_storage_enabled", bool),
    "partitions_number": ("station_opts_set_partitions_number", int),
    "dls_station": ("station_opts_set_dls_station", _b),
}


def station_create(
    conn: c_void_p, name: str, retention: Optional[int], retention_value: Optional[int], values: Dict[str, Any]
) -> c_void_p:
    L = lib()
    opts = c_void_p()
    check(L.station_opts_new, _b(name), byref(opts))
    try:
        if retention is not None or retention_value is not None:
            cur_type, cur_value = c_int(), c_int64()
            check(L.station_opts_get_retention, opts, byref(cur_type), byref(cur_value))
            check(
                L.station_opts_set_retention,
                opts,
                cur_type.value if retention is None else retention,
                cur_value.value if retention_value is None else retention_value,
            )
        _apply(opts, _STATION_SETTERS, values)
        station = c_void_p()
        check(L.station_create, conn, opts, byref(station))
        return station
    finally:
        check(L.station_opts_destroy, opts)


def station_destroy(station: c_void_p) -> None:
    check(lib().station_destroy, station)


def station_free(station: c_void_p) -> None:
    call_status(lib().station_free, station)


def schema_create(conn: c_void_p, name: str, schema_type: str, content: str) -> None:
    check(lib().schema_create, conn, _b(name), _b(schema_type), _b(content))


def schema_enforce(conn: c_void_p, name: str, station: str) -> None:
    check(lib().schema_enforce, conn, _b(name), _b(station))


def schema_attach(conn: c_void_p, name: str, station: str) -> None:
    check(lib().schema_attach, conn, _b(name), _b(station))


def schema_detach(conn: c_void_p, station: str) -> None:
    check(lib().schema_detach, conn, _b(station))


# --- producing ------------------------------------------------------------


class Headers:
    """A library headers object, destroyed when this wrapper is dropped."""

    __slots__ = ("handle",)

    def __init__(self, headers: Dict[str, str]) -> None:
        L = lib()
        self.handle = c_void_p()
        check(L.headers_new, byref(self.handle))
        try:
            for key, value in headers.items():
                check(L.headers_add, self.handle, _b(key), _b(value))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.handle.value:
            call_status(lib().headers_destroy, self.handle)
            self.handle = c_void_p()

    def __del__(self) -> None:
        self.close()


def produce_opts(
    headers: Optional[Headers],
    msg_id: Optional[str],
    partition_key: Optional[str],
    partition_number: Optional[int],
    ack_wait_ms: int,
) -> Optional[ProduceOpts]:
    """The per-message options struct, or None when nothing is set."""
    if headers is None and msg_id is None and partition_key is None and not partition_number and not ack_wait_ms:
        return None
    o = ProduceOpts()
    o.headers = headers.handle if headers is not None else None
    o.msg_id = _b(msg_id)
    o.partition_key = _b(partition_key)
    o.partition_number = partition_number if partition_number and partition_number > 0 else 0
    o.ack_wait_ms = ack_wait_ms
    return o


def _opts_ptr(o: Optional[ProduceOpts]) -> Any:
    return byref(o) if o is not None else None


def producer_create(conn: c_void_p, stations: Sequence[str], name: str) -> c_void_p:
    L = lib()
    opts = c_void_p()
    check(L.producer_opts_new, _b(stations[0]), _b(name), byref(opts))
    try:
        for extra in stations[1:]:
            check(L.producer_opts_add_station, opts, _b(extra))
        producer = c_void_p()
        check(L.producer_create, conn, opts, byref(producer))
        return producer
    finally:
        check(L.producer_opts_destroy, opts)


def produce(producer: c_void_p, data: bytes, opts: Optional[ProduceOpts]) -> None:
    check(lib().producer_produce, producer, data, len(data), _opts_ptr(opts))


def produce_async(
    producer: c_void_p, data: bytes, opts: Optional[ProduceOpts], cb: Any, user_data: Optional[int], block_ms: int
) -> Tuple[int, Optional[MemphisError]]:
    return call_status(
        lib().producer_produce_async, producer, data, len(data), _opts_ptr(opts), cb, user_data, block_ms
    )


def produce_async_plain(producer: c_void_p, data: bytes) -> Tuple[int, Optional[MemphisError]]:
    """produce_async without options or callback, 0 block timeout (the bulk hot path)."""
    err = c_void_p()
    status = lib().producer_produce_async(producer, data, len(data), None, _NULL_DELIVERY, None, 0, byref(err))
    if status == OK:
        return OK, None
    return status, _take_error(status, err)


# A NULL function pointer: ctypes refuses None for a CFUNCTYPE argument.
_NULL_DELIVERY = DELIVERY_CB()


def produce_batch(
    producer: c_void_p,
    payloads: Sequence[bytes],
    opts: Optional[ProduceOpts],
    cb: Any,
    user_data: int,
    block_ms: int,
) -> Tuple[int, int, Optional[MemphisError]]:
    """Queue a batch; returns (status, accepted, error)."""
    n = len(payloads)
    data = (c_char_p * n)(*payloads)
    lens = (c_size_t * n)(*[len(p) for p in payloads])
    opts_arr = None
    if opts is not None:
        opts_arr = (ProduceOpts * n)(*([opts] * n))
    uds = (c_void_p * n)(*([user_data] * n))
    accepted = c_size_t()
    status, exc = call_status(
        lib().producer_produce_batch, producer, data, lens, opts_arr, n, cb, uds, block_ms, byref(accepted)
    )
    return status, accepted.value, exc


def producer_flush(producer: c_void_p, timeout_ms: int) -> Tuple[int, int, Optional[MemphisError]]:
    """Wait for the delivery reports: (status, failed callback-less messages, error)."""
    failed = c_uint64()
    status, exc = call_status(lib().producer_flush, producer, timeout_ms, byref(failed))
    return status, failed.value, exc


def producer_destroy(producer: c_void_p) -> None:
    check(lib().producer_destroy, producer)


def conn_produce(conn: c_void_p, station: str, producer_name: str, data: bytes, opts: Optional[ProduceOpts]) -> None:
    check(lib().conn_produce, conn, _b(station), _b(producer_name), data, len(data), _opts_ptr(opts))


# --- consuming ------------------------------------------------------------

_CONSUMER_SETTERS = {
    "consumer_group": ("consumer_opts_set_group", _b),
    "pull_interval_ms": ("consumer_opts_set_pull_interval_ms", int),
    "batch_size": ("consumer_opts_set_batch_size", int),
    "batch_max_time_to_wait_ms": ("consumer_opts_set_batch_max_wait_ms", int),
    "max_ack_time_ms": ("consumer_opts_set_max_ack_time_ms", int),
    "max_msg_deliveries": ("consumer_opts_set_max_msg_deliveries", int),
    "start_consume_from_sequence": ("consumer_opts_set_start_consume_from_sequence", int),
    "last_messages": ("consumer_opts_set_last_messages", int),
}


class ConsumerOpts:
    """Library consumer options built from the given values only."""

    def __init__(self, station: str, name: str, values: Dict[str, Any]) -> None:
        L = lib()
        self.handle = c_void_p()
        check(L.consumer_opts_new, _b(station), _b(name), byref(self.handle))
        try:
            _apply(self.handle, _CONSUMER_SETTERS, values)
        except BaseException:
            self.close()
            raise

    def batch_size(self) -> int:
        out = c_int()
        check(lib().consumer_opts_get_batch_size, self.handle, byref(out))
        return out.value

    def close(self) -> None:
        if self.handle.value:
            call_status(lib().consumer_opts_destroy, self.handle)
            self.handle = c_void_p()


def consumer_create(conn: c_void_p, opts: ConsumerOpts) -> c_void_p:
    consumer = c_void_p()
    check(lib().consumer_create, conn, opts.handle, byref(consumer))
    return consumer


def consumer_consume(
    consumer: c_void_p, cb: Any, user_data: int, partition_key: Optional[str], partition_number: int
) -> None:
    check(lib().consumer_consume, consumer, cb, user_data, _b(partition_key), partition_number)


def consumer_stop(consumer: c_void_p) -> None:
    check(lib().consumer_stop, consumer)


def _take_msgs(arr: Any, count: int) -> List[int]:
    handles = [arr[i] for i in range(count)]
    if arr:
        lib().cdll.memphis_free(arr)
    return handles


def consumer_fetch(
    consumer: c_void_p, batch_size: int, partition_key: Optional[str], partition_number: int
) -> List[int]:
    arr = POINTER(c_void_p)()
    count = c_size_t()
    check(lib().consumer_fetch, consumer, batch_size, _b(partition_key), partition_number, byref(arr), byref(count))
    return _take_msgs(arr, count.value)


def fetch_messages(
    conn: c_void_p, opts: ConsumerOpts, partition_key: Optional[str], partition_number: int
) -> List[int]:
    arr = POINTER(c_void_p)()
    count = c_size_t()
    check(lib().fetch_messages, conn, opts.handle, _b(partition_key), partition_number, byref(arr), byref(count))
    return _take_msgs(arr, count.value)


def consumer_destroy(consumer: c_void_p) -> None:
    check(lib().consumer_destroy, consumer)


# --- messages -------------------------------------------------------------


def msg_data(msg: int) -> bytes:
    # Hot path of consuming: one library call, no error object unless it fails.
    ptr, n = c_void_p(), c_size_t()
    if lib().msg_data(msg, byref(ptr), byref(n), None) != OK:
        check(lib().msg_data, msg, byref(ptr), byref(n))  # again, for the error text
    return ctypes.string_at(ptr, n.value) if n.value else b""


def msg_headers(msg: int) -> Dict[str, str]:
    L = lib()
    n = c_size_t()
    check(L.msg_header_count, msg, byref(n))
    out: Dict[str, str] = {}
    key, value = c_char_p(), c_char_p()
    for i in range(n.value):
        check(L.msg_header_at, msg, i, byref(key), byref(value))
        out[(key.value or b"").decode("utf-8", "replace")] = (value.value or b"").decode("utf-8", "replace")
    return out


def msg_sequence(msg: int) -> int:
    out = c_uint64()
    check(lib().msg_sequence, msg, byref(out))
    return out.value


def msg_time_ms(msg: int) -> int:
    out = c_int64()
    check(lib().msg_time_sent, msg, byref(out))
    return out.value


def msg_partition(msg: int) -> int:
    out = c_int()
    check(lib().msg_partition, msg, byref(out))
    return out.value


def msg_is_dls(msg: int) -> bool:
    out = c_bool()
    check(lib().msg_is_dls, msg, byref(out))
    return bool(out.value)


def msg_ack(msg: int) -> None:
    check(lib().msg_ack, msg)


def msg_ack_nowait(msg: int) -> None:
    # Only buffers the ack on the connection: safe on the event-loop thread.
    check(lib().msg_ack_nowait, msg)


def msg_schema_type(msg: int) -> str:
    out = c_void_p()
    check(lib().msg_schema_type, msg, byref(out))
    try:
        return ctypes.string_at(out).decode("utf-8", "replace") if out.value else ""
    finally:
        lib().cdll.memphis_free(out)


def msg_nack(msg: int) -> None:
    check(lib().msg_nack, msg)


def msg_delay(msg: int, delay_ms: int) -> None:
    check(lib().msg_delay, msg, delay_ms)


def msg_dead_letter(msg: int, reason: str) -> None:
    check(lib().msg_dead_letter, msg, _b(reason))


def msg_deserialize(msg: int) -> str:
    out = c_void_p()
    check(lib().msg_deserialize, msg, byref(out))
    try:
        return ctypes.string_at(out).decode("utf-8", "replace") if out.value else ""
    finally:
        lib().cdll.memphis_free(out)


def msg_destroy(msg: int) -> None:
    # Called from finalizers: never raises, and is a no-op once unloaded.
    if _lib is not None:
        _lib.msg_destroy(msg, None)


def msgs_ack(msgs: Sequence[int]) -> None:
    arr = (c_void_p * len(msgs))(*msgs)
    check(lib().msgs_ack, arr, len(msgs))
