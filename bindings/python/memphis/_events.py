"""The library's event queue and the one Python thread that drains it.

Sync produce points its message at a memphis_queue_t instead of handing the
library a ctypes callback: a callback runs on a Go thread, and every call
from such a foreign thread makes Python create and destroy a thread state
(PyGILState_Ensure), which cost most of a sync produce's time. Here one
long-lived daemon thread ("memphis-events") takes delivery reports in bulk
with memphis_queue_poll (ctypes releases the GIL while it waits) and
settles the waiting futures with one call_soon_threadsafe per event loop
per poll batch. The event loop never blocks on the queue.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import os
import struct
import threading
from ctypes import byref, c_char_p, c_int, c_size_t, c_uint64, c_void_p
from typing import Dict, List, Optional, Tuple

from . import _native
from ._ops import run_blocking
from .exceptions import MemphisError

__all__ = ["produce_sync"]

log = logging.getLogger("memphis")

_BATCH = 512  # events taken per poll
_POLL_MS = 250  # bounds how long a poll outlives interpreter shutdown
_DELIVERY = 1


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

_Waiter = Tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]
_Done = List[Tuple["asyncio.Future[None]", Optional[BaseException]]]


def _settle_all(done: _Done) -> None:
    """Runs on the event loop: settle every future of one poll batch."""
    for fut, err in done:
        if fut.done():
            continue
        if err is None:
            fut.set_result(None)
        else:
            fut.set_exception(err)


class _Poller:
    def __init__(self) -> None:
        out = c_void_p()
        _native.check(_native.lib().queue_new, 0, byref(out))
        self.queue = out
        self.pid = os.getpid()
        # token -> (loop, future); plain dict operations are atomic under the GIL.
        self.waiters: Dict[int, _Waiter] = {}
        self.ids = itertools.count(1)
        self.thread = threading.Thread(target=self._run, name="memphis-events", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        L = _native.lib()
        poll = L.queue_poll
        free = L.cdll.memphis_free
        events = (_Event * _BATCH)()
        events_ptr = ctypes.cast(events, c_void_p)
        raw = memoryview(events).cast("B")
        size = ctypes.sizeof(_Event)
        count = c_size_t()
        err = c_void_p()
        waiters = self.waiters
        ok = _native.OK
        while True:
            status = poll(self.queue, events_ptr, _BATCH, _POLL_MS, byref(count), byref(err))
            if status != ok:
                exc = _native._take_error(status, err)
                err = c_void_p()
                log.error("memphis: event queue poll stopped: %s", exc)
                self._fail_all(exc)
                return
            n = count.value
            if not n:
                continue
            by_loop: Dict[asyncio.AbstractEventLoop, _Done] = {}
            # struct.iter_unpack reads the filled events without building a
            # ctypes object per event.
            for kind, st, text_ptr, _seq, token, _msgs, _count in _LAYOUT.iter_unpack(raw[: n * size]):
                text = None
                if text_ptr:
                    text = c_char_p(text_ptr).value
                    free(text_ptr)
                if kind != _DELIVERY:
                    continue  # only delivery reports are sent here
                # A producer of several stations reports once per station:
                # the first report settles the call, later ones find no waiter.
                w = waiters.pop(token, None)
                if w is None:
                    continue
                e = None if st == ok else _native.error_from(st, text)
                done = by_loop.get(w[0])
                if done is None:
                    by_loop[w[0]] = [(w[1], e)]
                else:
                    done.append((w[1], e))
            for loop, done in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle_all, done)
                except RuntimeError:
                    pass  # that loop is closed; nobody waits any more

    def _fail_all(self, exc: MemphisError) -> None:
        pending = list(self.waiters.items())
        for token, (loop, fut) in pending:
            self.waiters.pop(token, None)
            done: _Done = [(fut, exc)]
            try:
                loop.call_soon_threadsafe(_settle_all, done)
            except RuntimeError:
                pass


_poller: Optional[_Poller] = None
_poller_lock = threading.Lock()


def _get() -> _Poller:
    p = _poller
    if p is not None and p.thread.is_alive() and p.pid == os.getpid():
        return p
    return _start()


def _start() -> _Poller:
    global _poller
    with _poller_lock:
        p = _poller
        if p is None or not p.thread.is_alive() or p.pid != os.getpid():
            p = _poller = _Poller()
        return p


async def produce_sync(handle: c_void_p, data: bytes, opts: Optional[_native.ProduceOpts]) -> None:
    """Queue one message with its report going to the event queue; await the ack."""
    p = _get()
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    token = next(p.ids)
    waiters = p.waiters
    waiters[token] = (loop, fut)
    try:
        fn = _native.lib().producer_produce_async_to_queue
        optp = byref(opts) if opts is not None else None
        err = c_void_p()
        # 0 block timeout: queueing never waits on the event loop.
        status = fn(handle, data, len(data), optp, p.queue, token, 0, byref(err))
        exc: Optional[MemphisError] = None
        if status == _native.QUEUE_FULL:
            # The in-flight window is full: wait for room on a worker thread.
            status, exc = await run_blocking(_native.call_status, fn, handle, data, len(data), optp, p.queue, token, -1)
        elif status != _native.OK:
            exc = _native._take_error(status, err)
        if status != _native.OK:
            assert exc is not None
            raise exc
        await fut
    finally:
        waiters.pop(token, None)
