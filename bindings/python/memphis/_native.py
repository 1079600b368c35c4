"""libmemphis through ctypes: loading, errors, argument conversion, calls.

The declarations come from ``_capi`` (generated from include/memphis.h).
Everything here is synchronous; calls that may wait (marked
MEMPHIS_BLOCKING in the header) run on worker threads (see ``_ops``) or
with a 0 timeout on the event loop. ctypes.CDLL releases the GIL around
every C call. The library is loaded on first use, not at import time, so
importing ``memphis`` (or forking before the first connect) stays safe.
"""

from __future__ import annotations

import ctypes
import json
import math
import threading
from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_int64, c_size_t, c_uint64, c_void_p
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type

from . import _capi
from ._capi import OK, ProduceOpts
from ._locate import find_library
from .exceptions import (
    MemphisConnectError,
    MemphisError,
    MemphisHeaderError,
    MemphisInvalidArgumentError,
    MemphisSchemaError,
)

# The one hand-written part of the status table: which exception class a
# status raises. Values and names come from the library (memphis_status_list).
_CLASS_OF_STATUS: Dict[str, Type[MemphisError]] = {
    "MEMPHIS_ERR_INVALID_ARGUMENT": MemphisInvalidArgumentError,
    "MEMPHIS_ERR_SCHEMA_VALIDATION": MemphisSchemaError,
    "MEMPHIS_ERR_HEADER": MemphisHeaderError,
    "MEMPHIS_ERR_NOT_CONNECTED": MemphisConnectError,
    "MEMPHIS_ERR_CLOSED": MemphisConnectError,
    "MEMPHIS_ERR_AUTH": MemphisConnectError,
    "MEMPHIS_ERR_TLS": MemphisConnectError,
    "MEMPHIS_ERR_UNREACHABLE": MemphisConnectError,
}


class _Lib:
    """The loaded library: every header function as an attribute named
    without the ``memphis_`` prefix, plus the status table."""

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set in __init__; declared for type checkers.
        raise AttributeError(f"libmemphis has no function memphis_{name}")

    def __init__(self) -> None:
        self.path = find_library()
        self.cdll = ctypes.CDLL(str(self.path))
        for fname, (restype, argtypes) in _capi.FUNCTIONS.items():
            fn = getattr(self.cdll, fname)
            fn.restype, fn.argtypes = restype, argtypes
            setattr(self, fname[len("memphis_") :], fn)
        # status -> (exception class, status name), from the library itself.
        self.statuses: Dict[int, Tuple[Type[MemphisError], str]] = {}
        arr = POINTER(c_int)()
        for i in range(self.status_list(byref(arr))):
            name = self.status_name(arr[i]).decode()
            self.statuses[arr[i]] = (_CLASS_OF_STATUS.get(name, MemphisError), name)


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
    return str(lib().version_str().decode())


# --- errors ---------------------------------------------------------------


def error_from(status: int, message: Optional[bytes], details: Optional[Tuple[int, bool]] = None) -> MemphisError:
    """The exception for a status and an optional detail text; ``details``
    are a failed delivery's (retries, possible duplicate)."""
    L = lib()
    cls, name = L.statuses.get(status, (MemphisError, f"status {status}"))
    text = message.decode("utf-8", "replace") if message else L.status_str(status).decode()
    exc = cls(text, name)
    if details is not None:
        exc.retries, exc.possible_duplicate = details
    return exc


def take_error(status: int, err: c_void_p) -> MemphisError:
    """The exception for a failed call, freeing its error object."""
    if not err.value:
        return error_from(status, None)
    L = lib()
    text = L.error_message(err)
    L.error_free(err)
    return error_from(status, text)


def check(fn: Callable[..., int], *args: Any) -> None:
    """Call a fallible library function and raise on failure."""
    err = c_void_p()
    status = fn(*args, byref(err))
    if status != OK:
        raise take_error(status, err)


def call_status(fn: Callable[..., int], *args: Any) -> Tuple[int, Optional[MemphisError]]:
    """Call and return (status, exception or None) instead of raising."""
    err = c_void_p()
    status = fn(*args, byref(err))
    if status == OK:
        return OK, None
    return status, take_error(status, err)


# --- arguments ------------------------------------------------------------
# Type checks only: what a value must be to cross into C unaltered. The
# library checks ranges and names (with the broker's texts).

_INT_RANGES = {
    "int": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
    "size": (0, 2**63 - 1),
}


def text(value: Any, param: str, error: Type[MemphisError] = MemphisInvalidArgumentError) -> bytes:
    """A str as the C string the library gets. A NUL byte would cut the
    string short silently, so it is refused, naming the parameter."""
    if not isinstance(value, str):
        raise error(f"{param} must be a str, got {type(value).__name__}")
    if "\x00" in value:
        raise error(f"{param} must not contain NUL bytes (a C string ends at the first one)")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(f"{param} is not valid text: {exc}") from None


def opt_text(value: Any, param: str) -> Optional[bytes]:
    return None if value is None else text(value, param)


def integer(value: Any, param: str, kind: str = "int") -> int:
    """An int that fits the C type (ctypes would silently wrap a larger one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MemphisInvalidArgumentError(f"{param} must be an int, got {type(value).__name__}")
    lo, hi = _INT_RANGES[kind]
    if not lo <= value <= hi:
        raise MemphisInvalidArgumentError(f"{param} is out of range for the library: {value}")
    return value


def boolean(value: Any, param: str) -> bool:
    if not isinstance(value, bool):
        raise MemphisInvalidArgumentError(f"{param} must be a bool, got {type(value).__name__}")
    return value


def milliseconds(seconds: Any, param: str) -> int:
    """Seconds (int or float) as whole milliseconds, for the library's *_ms values."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise MemphisInvalidArgumentError(f"{param} must be a number of seconds, got {type(seconds).__name__}")
    if not math.isfinite(seconds):
        raise MemphisInvalidArgumentError(f"{param} must be a finite number of seconds, got {seconds}")
    ms = round(seconds * 1000)
    if ms == 0 and seconds > 0:
        ms = 1  # a positive wait never rounds down to "none"
    return integer(ms, param, "int64")


_CONVERT: Dict[str, Callable[[Any, str], Any]] = {
    "str": text,
    "int": lambda v, p: integer(v, p, "int"),
    "int64": lambda v, p: integer(v, p, "int64"),
    "uint64": lambda v, p: integer(v, p, "uint64"),
    "bool": boolean,
}


Prepared = List[Tuple[Callable[..., int], Any]]


def prepare_options(kind: str, values: Mapping[str, Any], aliases: Mapping[str, str]) -> Prepared:
    """Type-check option values and pair each with its library setter
    (None = not given: the library default stays).

    ``values`` is keyed by the binding's keyword names; ``aliases`` maps
    the documented memphis-py names that differ from the library's option
    names. Every other option of the generated table is accepted by its
    library name, so a new library option needs no code here."""
    L = lib()
    setters = _capi.SETTERS[kind]
    out: Prepared = []
    for param, value in values.items():
        if value is None:
            continue
        name = aliases.get(param, param)
        if name not in setters or setters[name][1] not in _CONVERT:
            raise MemphisInvalidArgumentError(f"unknown {kind} option {param!r}")
        fname, tag = setters[name]
        out.append((getattr(L, fname[len("memphis_") :]), _CONVERT[tag](value, param)))
    return out


def set_options(opts: c_void_p, prepared: Prepared) -> None:
    for setter, value in prepared:
        check(setter, opts, value)


class Options:
    """A library options object (connect, station, producer, consumer),
    destroyed with ``close()`` or when the wrapper is collected."""

    def __init__(self, kind: str, *new_args: Any) -> None:
        self.kind = kind
        self.handle = c_void_p()
        check(getattr(lib(), f"{kind}_opts_new"), *new_args, byref(self.handle))

    def get(self, option: str) -> Any:
        fname, tag = _capi.GETTERS[self.kind][option]
        out: Any = {"int": c_int(), "int64": c_int64(), "uint64": c_uint64(), "bool": c_bool(), "enum": c_int()}.get(
            tag, c_void_p()
        )
        check(getattr(lib(), fname[len("memphis_") :]), self.handle, byref(out))
        if tag == "str":
            return take_text(out)
        return out.value

    def close(self) -> None:
        if self.handle.value:
            call_status(getattr(lib(), f"{self.kind}_opts_destroy"), self.handle)
            self.handle = c_void_p()

    def __enter__(self) -> Options:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if _lib is not None:
            self.close()


def take_text(ptr: c_void_p) -> str:
    """Text the library malloc'd for us, freed here."""
    if not ptr.value:
        return ""
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib().free(ptr)


# --- statistics -------------------------------------------------------------


def stats(kind: str, handle: Any) -> Dict[str, Any]:
    """The statistics document of a connection, producer or consumer
    (``kind``: "conn", "producer", "consumer"), as the library renders it
    (docs/statistics.md), parsed."""
    ptr = c_void_p()
    check(getattr(lib(), f"{kind}_stats_json"), handle, byref(ptr))
    doc: Dict[str, Any] = json.loads(take_text(ptr))
    return doc


# --- connection, stations, schemas -----------------------------------------


def connect(prepared: Prepared) -> c_void_p:
    """Connect with only the given options set; the rest are library defaults."""
    with Options("conn") as opts:
        set_options(opts.handle, prepared)
        conn = c_void_p()
        check(lib().connect, opts.handle, byref(conn))
        return conn


def conn_close(conn: c_void_p) -> None:
    check(lib().conn_close, conn)


def conn_destroy(conn: c_void_p) -> None:
    call_status(lib().conn_destroy, conn)  # releasing a handle cannot usefully fail


def conn_is_connected(conn: c_void_p) -> bool:
    out = c_bool()
    status, _ = call_status(lib().conn_is_connected, conn, byref(out))
    return status == OK and bool(out.value)


def station_create(
    conn: c_void_p,
    name: bytes,
    retention: Optional[int],
    retention_value: Optional[int],
    storage: Optional[int],
    prepared: Prepared,
) -> c_void_p:
    L = lib()
    with Options("station", name) as opts:
        if retention is not None or retention_value is not None:
            cur_type, cur_value = c_int(), c_int64()
            check(L.station_opts_get_retention, opts.handle, byref(cur_type), byref(cur_value))
            check(
                L.station_opts_set_retention,
                opts.handle,
                cur_type.value if retention is None else retention,
                cur_value.value if retention_value is None else retention_value,
            )
        if storage is not None:
            check(L.station_opts_set_storage, opts.handle, storage)
        set_options(opts.handle, prepared)
        station = c_void_p()
        check(L.station_create, conn, opts.handle, byref(station))
        return station


def station_destroy(station: c_void_p) -> None:
    check(lib().station_destroy, station)


def station_free(station: c_void_p) -> None:
    call_status(lib().station_free, station)


# --- producing ------------------------------------------------------------


class NativeHeaders:
    """A library headers object, destroyed when this wrapper is dropped."""

    __slots__ = ("handle",)

    def __init__(self) -> None:
        self.handle = c_void_p()
        check(lib().headers_new, byref(self.handle))

    def add(self, key: str, value: str) -> None:
        k = text(key, "header key", MemphisHeaderError)
        v = text(value, f"the value of header {key!r}", MemphisHeaderError)
        check(lib().headers_add, self.handle, k, v)

    def close(self) -> None:
        if self.handle.value:
            call_status(lib().headers_destroy, self.handle)
            self.handle = c_void_p()

    def __del__(self) -> None:
        if _lib is not None:
            self.close()


def produce_opts(
    headers: Optional[NativeHeaders],
    msg_id: Optional[str],
    partition_key: Optional[str],
    partition_number: Optional[int],
    ack_wait_ms: int,
) -> Optional[ProduceOpts]:
    """The per-message options struct, or None when nothing is set.
    A partition number of 0 or below means "not set" (memphis-py: -1)."""
    number = 0 if partition_number is None else integer(partition_number, "producer_partition_number")
    if headers is None and msg_id is None and partition_key is None and number <= 0 and not ack_wait_ms:
        return None
    o = ProduceOpts()
    o.headers = headers.handle if headers is not None else None
    o.msg_id = opt_text(msg_id, "msg_id")
    o.partition_key = opt_text(partition_key, "producer_partition_key")
    o.partition_number = max(number, 0)
    o.ack_wait_ms = ack_wait_ms
    return o


def opts_ptr(o: Optional[ProduceOpts]) -> Any:
    return byref(o) if o is not None else None


def producer_create(conn: c_void_p, stations: Sequence[bytes], name: bytes, prepared: Prepared) -> c_void_p:
    L = lib()
    with Options("producer", stations[0], name) as opts:
        for extra in stations[1:]:
            check(L.producer_opts_add_station, opts.handle, extra)
        set_options(opts.handle, prepared)
        producer = c_void_p()
        check(L.producer_create, conn, opts.handle, byref(producer))
        return producer


# A NULL delivery callback: failures are counted by the library for flush.
NO_CALLBACK = _capi.DeliveryCb()

# Options of a produce without any: awaited, for a synchronous produce that
# goes through the event queue (its failure is raised, not left for flush).
AWAITED = ProduceOpts()
AWAITED.awaited = True


def produce_async_plain(producer: c_void_p, data: bytes) -> Tuple[int, Optional[MemphisError]]:
    """Nonblocking produce without options or callback, 0 block timeout
    (the bulk hot path): the library counts failures for flush."""
    err = c_void_p()
    status = lib().producer_produce_async(producer, data, len(data), None, NO_CALLBACK, None, 0, byref(err))
    if status == OK:
        return OK, None
    return status, take_error(status, err)


def produce_async(
    producer: c_void_p, data: bytes, opts: Optional[ProduceOpts], block_ms: int
) -> Tuple[int, Optional[MemphisError]]:
    """Nonblocking produce reported to the library's failure count (flush)."""
    return call_status(
        lib().producer_produce_async, producer, data, len(data), opts_ptr(opts), NO_CALLBACK, None, block_ms
    )


def producer_flush(producer: c_void_p, timeout_ms: int) -> Tuple[int, int, Optional[MemphisError]]:
    """Wait for the delivery reports: (status, nonblocking messages that
    failed since the previous flush, the library's summary of them)."""
    failed = c_uint64()
    status, exc = call_status(lib().producer_flush, producer, timeout_ms, byref(failed))
    return status, failed.value, exc


def producer_destroy(producer: c_void_p) -> None:
    check(lib().producer_destroy, producer)


# --- consuming ------------------------------------------------------------


def consumer_create(conn: c_void_p, opts: Options) -> c_void_p:
    consumer = c_void_p()
    check(lib().consumer_create, conn, opts.handle, byref(consumer))
    return consumer


def consumer_stop(consumer: c_void_p) -> None:
    check(lib().consumer_stop, consumer)


def consumer_fetch(
    consumer: c_void_p, batch_size: int, partition_key: Optional[bytes], partition_number: int
) -> Tuple[Any, int]:
    """The fetched array of message ids (POINTER(c_void_p), the caller's
    to free; message.wrap_batch does) and its length."""
    arr = POINTER(c_void_p)()
    count = c_size_t()
    check(lib().consumer_fetch, consumer, batch_size, partition_key, partition_number, byref(arr), byref(count))
    return arr, count.value


def consumer_destroy(consumer: c_void_p) -> None:
    check(lib().consumer_destroy, consumer)


# --- messages -------------------------------------------------------------


def msg_data(msg: int) -> bytes:
    # Hot path of consuming: one library call, no error object unless it fails.
    L = lib()
    ptr, n = c_void_p(), c_size_t()
    if L.msg_data(msg, byref(ptr), byref(n), None) != OK:
        check(L.msg_data, msg, byref(ptr), byref(n))  # again, for the error text
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


def msg_scalar(fn: str, msg: int, ctype: Any) -> Any:
    out = ctype()
    check(getattr(lib(), fn), msg, byref(out))
    return out.value


def msg_text(fn: str, msg: int) -> str:
    out = c_void_p()
    check(getattr(lib(), fn), msg, byref(out))
    return take_text(out)


def msg_destroy(msg: int) -> None:
    # Called from finalizers: never raises, and is a no-op once unloaded.
    if _lib is not None:
        _lib.msg_destroy(msg, None)


def msgs_ack(msgs: Sequence[int]) -> None:
    arr = (c_void_p * len(msgs))(*msgs)
    check(lib().msgs_ack, arr, len(msgs))
