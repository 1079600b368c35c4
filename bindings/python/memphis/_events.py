"""Delivery reports of sync produce, taken from a library event queue that
the event loop itself watches.

Sync produce points its message at a memphis_queue_t instead of handing the
library a ctypes callback: a callback runs on a Go thread, and every call
from such a foreign thread makes Python create and destroy a thread state,
which cost most of a sync produce's time. Each event loop gets its own
queue, tied to a nonblocking pipe with memphis_queue_set_wakeup_fd: the
library writes a byte when a report arrives in an empty queue, the loop
sees the pipe readable (loop.add_reader) and takes the reports with
nonblocking memphis_queue_poll calls, settling the futures directly. No
thread sits between the library and the loop, so an acknowledgement costs
one wake-up of the loop and nothing else.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import os
import struct
import threading
import weakref
from ctypes import byref, c_char_p, c_int, c_size_t, c_uint64, c_void_p
from typing import Any, Dict, Optional, Tuple

from . import _native
from ._ops import run_blocking
from .exceptions import MemphisError

__all__ = ["produce_sync"]

log = logging.getLogger("memphis")

_BATCH = 256  # events taken per poll
_DELIVERY = 1
_WAKE_BYTE = b"\x01"


class _Event(ctypes.Structure):
    """memphis_event_t."""

    _fields_ = [
        ("kind", c_int),
        ("status", c_int),
        ("error_message", c_void_p),
        ("sequence", c_uint64),
        ("user_data", c_void_p),
        ("msgs", c_void_p),
        ("count", c_size_t),
    ]


# memphis_event_t in native layout and alignment (checked below).
_LAYOUT = struct.Struct("@iiPQPPN")
assert _LAYOUT.size == ctypes.sizeof(_Event), "memphis_event_t layout mismatch"


def _release(queue: c_void_p, rfd: int, wfd: int) -> None:
    """Give the queue and the pipe back once their loop is gone.

    Disabling the wake-up first guarantees the library never writes to a
    descriptor number that is closed (and maybe reused) below.
    """
    try:
        L = _native.lib()
        L.queue_set_wakeup_fd(queue, -1, None, 0, None)
        L.queue_destroy(queue, None)
    finally:
        for fd in (rfd, wfd):
            try:
                os.close(fd)
            except OSError:
                pass


class _LoopQueue:
    """The event queue and wake-up pipe of one event loop.

    Holds no reference to the loop (the loop's reader holds this object),
    so a finished loop and its queue are collected together.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        L = _native.lib()
        out = c_void_p()
        _native.check(L.queue_new, 0, byref(out))
        self.queue = out
        self.pid = os.getpid()
        self.waiters: Dict[int, asyncio.Future[None]] = {}
        self.ids = itertools.count(1)
        self.failed: Optional[MemphisError] = None
        self._events = (_Event * _BATCH)()
        self._events_ptr = ctypes.cast(self._events, c_void_p)
        self._raw = memoryview(self._events).cast("B")
        self._count = c_size_t()
        rfd, wfd = os.pipe()
        os.set_blocking(rfd, False)
        os.set_blocking(wfd, False)
        self.rfd, self.wfd = rfd, wfd
        try:
            _native.check(L.queue_set_wakeup_fd, out, wfd, _WAKE_BYTE, 1)
            loop.add_reader(rfd, self._on_readable)
        except BaseException:
            _release(out, rfd, wfd)
            raise
        self.release = weakref.finalize(loop, _release, out, rfd, wfd)
        self.release.atexit = False  # at exit the process goes away anyway

    def _on_readable(self) -> None:
        """Runs on the loop when the library signalled: take every report."""
        try:
            # One read: the library writes one byte per arming, and bytes
            # left behind only make the loop call again.
            os.read(self.rfd, 4096)
        except BlockingIOError:
            pass  # a spurious wake-up
        L = _native.lib()
        poll = L.queue_poll
        free = L.cdll.memphis_free
        waiters = self.waiters
        ok = _native.OK
        size = ctypes.sizeof(_Event)
        count = self._count
        while True:
            err = c_void_p()
            status = poll(self.queue, self._events_ptr, _BATCH, 0, byref(count), byref(err))
            if status != ok:
                self._fail_all(_native._take_error(status, err))
                return
            n = count.value
            # struct.iter_unpack reads the filled events without building a
            # ctypes object per event.
            for kind, st, text_ptr, _seq, token, _msgs, _count in _LAYOUT.iter_unpack(self._raw[: n * size]):
                text = None
                if text_ptr:
                    text = c_char_p(text_ptr).value
                    free(text_ptr)
                if kind != _DELIVERY:
                    continue  # only delivery reports are sent here
                # A producer of several stations reports once per station:
                # the first report settles the call, later ones find no waiter.
                fut = waiters.pop(token, None)
                if fut is None or fut.done():
                    continue
                if st == ok:
                    fut.set_result(None)
                else:
                    fut.set_exception(_native.error_from(st, text))
            if n < _BATCH:
                return

    def _fail_all(self, exc: MemphisError) -> None:
        """The queue stopped working (e.g. after fork): fail every waiter.

        The reader goes too, or a pipe left readable would call us forever;
        the next sync produce on this loop sets up a fresh queue.
        """
        log.error("memphis: event queue poll failed: %s", exc)
        self.failed = exc
        asyncio.get_running_loop().remove_reader(self.rfd)
        pending = list(self.waiters.values())
        self.waiters.clear()
        for fut in pending:
            if not fut.done():
                fut.set_exception(exc)


_queues_lock = threading.Lock()
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = weakref.WeakKeyDictionary()


# The last loop served and its queue: saves the weak-dictionary lookup on
# the hot path (a program usually runs one loop).
_last: Tuple[Optional[weakref.ReferenceType[asyncio.AbstractEventLoop]], Optional[_LoopQueue]] = (None, None)


def _queue_of(loop: asyncio.AbstractEventLoop) -> _LoopQueue:
    global _last
    ref, q = _last
    if ref is not None and ref() is loop and q is not None and q.failed is None and q.pid == os.getpid():
        return q
    # The slow path runs once per loop; the lock keeps loops on other
    # threads from changing _queues while it is swept.
    with _queues_lock:
        q = _queues.get(loop)
        if q is None or q.pid != os.getpid() or q.failed is not None:
            _release_closed_loops()
            q = _queues[loop] = _LoopQueue(loop)
    _last = (weakref.ref(loop), q)
    return q


def _release_closed_loops() -> None:
    """Give back the queues of loops already closed but not yet collected
    (reference cycles can keep a finished loop alive for a while), so a
    program that runs asyncio.run() many times does not pile up pipes."""
    for lp, q in list(_queues.items()):
        if lp.is_closed():
            _queues.pop(lp, None)
            q.release()


async def produce_sync(handle: c_void_p, data: bytes, opts: Optional[_native.ProduceOpts]) -> None:
    """Queue one message with its report going to the loop's event queue; await the ack."""
    loop = asyncio.get_running_loop()
    q = _queue_of(loop)
    fut: asyncio.Future[None] = loop.create_future()
    token = next(q.ids)
    waiters = q.waiters
    waiters[token] = fut
    try:
        fn = _native.lib().producer_produce_async_to_queue
        optp: Any = byref(opts) if opts is not None else None
        err = c_void_p()
        # 0 block timeout: queueing never waits on the event loop.
        status = fn(handle, data, len(data), optp, q.queue, token, 0, byref(err))
        exc: Optional[MemphisError] = None
        if status == _native.QUEUE_FULL:
            _native._take_error(status, err)  # frees the detail
            # The in-flight window is full: wait for room on a worker thread.
            status, exc = await run_blocking(_native.call_status, fn, handle, data, len(data), optp, q.queue, token, -1)
        elif status != _native.OK:
            exc = _native._take_error(status, err)
        if status != _native.OK:
            assert exc is not None
            raise exc
        await fut
    finally:
        waiters.pop(token, None)
