"""The binding's one delivery path: library event queues watched by the
event loop.

Delivery reports and consume batches never arrive as callbacks on library
threads (a call from such a foreign thread makes Python create and destroy
a thread state, and would run Python code beside the loop). Instead each
report or batch goes to a memphis_queue_t tied to a nonblocking pipe with
memphis_queue_set_wakeup_fd: the library writes a byte when an event
arrives in an empty queue, the loop sees the pipe readable
(loop.add_reader) and takes the events with nonblocking memphis_queue_poll
calls. Everything after that runs on the loop thread, so nothing here needs
a lock, and user code (handlers, logging) never runs under one.

* Each event loop has one delivery queue (``_LoopQueue``) for the reports
  of sync produce (a future per message), of nonblocking produce with
  ``limit_concurrent_tasks`` (a ``Window`` per producer) and of
  ``produce_batch`` (a ``Batch`` per call).
* Each consume loop has its own small queue (``ConsumeLoop``): the loop
  takes the next batch only once the handler finished the previous one,
  so a slow handler makes the library stop pulling instead of letting
  batches pile up.
"""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import itertools
import logging
import os
import struct
import threading
import weakref
from ctypes import byref, c_char_p, c_size_t, c_void_p
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _capi, _native
from ._capi import OK
from ._ops import run_blocking, running_loop
from .delivery import Delivery
from .exceptions import MemphisError

__all__ = ["Batch", "ConsumeLoop", "Window", "live_count", "loop_queue", "produce_batch", "produce_sync"]

log = logging.getLogger("memphis")

_BATCH = 256  # events taken per poll
_WAKE_BYTE = b"\x01"

# memphis_event_t in native layout and alignment (checked below).
_LAYOUT = struct.Struct("@iiPQPPNP")
assert _LAYOUT.size == ctypes.sizeof(_capi.Event), "memphis_event_t layout mismatch"
_EVENT_SIZE = _LAYOUT.size

_DELIVERY = _capi.EVENT_DELIVERY

# produce_batch reports carry their batch and message index in the user
# data: this bit, the batch's id (31 bits) and the index (32 bits). Sync
# produce tokens count up from 1 and never reach it.
_BATCH_BIT = 1 << 63
_INDEX_MASK = (1 << 32) - 1

# What a drained station looks like to a handler, as in memphis-py.
TIMEOUT_TEXT = "Memphis: TimeoutError"

_live_lock = threading.Lock()
_live: Dict[int, str] = {}  # id -> what, for live_count()


def live_count() -> int:
    """Consume loops and report targets (windows, batches) still registered
    (tests check that nothing leaks)."""
    with _live_lock:
        return len(_live)


def _track(obj: Any, what: str) -> None:
    with _live_lock:
        _live[id(obj)] = what


def _untrack(obj: Any) -> None:
    with _live_lock:
        _live.pop(id(obj), None)


def _release(queue: c_void_p, rfd: int, wfd: int) -> None:
    """Give a queue and its pipe back. Disabling the wake-up first
    guarantees the library never writes to a descriptor number that is
    closed (and maybe reused) below."""
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


class _WatchedQueue:
    """A library event queue whose wake-up pipe an event loop watches.

    Holds no strong reference to the loop (the loop's reader holds this
    object), so a finished loop and its queue are collected together."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int, batch: int) -> None:
        L = _native.lib()
        out = c_void_p()
        _native.check(L.queue_new, capacity, byref(out))
        self.queue = out
        self.pid = os.getpid()
        self.loop_ref = weakref.ref(loop)
        self.failed: Optional[MemphisError] = None
        self._events = (_capi.Event * batch)()
        self._raw = memoryview(self._events).cast("B")
        self._count = c_size_t()
        self._batch = batch
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
        try:
            # One read: the library writes one byte per arming, and bytes
            # left behind only make the loop call again.
            os.read(self.rfd, 4096)
        except BlockingIOError:
            pass  # a spurious wake-up
        self.drain()

    def poll(self, max_events: int) -> List[Tuple[int, int, Optional[bytes], int, int, int, Any]]:
        """Take up to max_events events without waiting: (kind, status,
        text, sequence, user data, msgs array, count) each; for a delivery
        report the last item is its (retries, possible duplicate), or None
        for a message sent once. The texts are copied and freed here; msgs
        arrays are the caller's."""
        L = _native.lib()
        err = c_void_p()
        status = L.queue_poll(self.queue, self._events, max_events, 0, byref(self._count), byref(err))
        if status != OK:
            self.fail(_native.take_error(status, err))
            return []
        n = self._count.value
        out = []
        free = L.free
        # struct.iter_unpack reads the filled events without a ctypes object per event.
        for i, (kind, st, text_ptr, seq, token, msgs, count, stats_ptr) in enumerate(
            _LAYOUT.iter_unpack(self._raw[: n * _EVENT_SIZE])
        ):
            text = None
            if text_ptr:
                text = c_char_p(text_ptr).value
                free(text_ptr)
            if stats_ptr:  # statistics events: this binding asks for none
                free(stats_ptr)
            details: Any = count
            if kind == _DELIVERY:
                # count is 0 for a message sent once; otherwise the library
                # decodes its retry details (rare: only after resends).
                details = None
                if count:
                    ev = byref(self._events[i])
                    details = (L.event_retries(ev), bool(L.event_possible_duplicate(ev)))
            out.append((kind, st, text, seq, token or 0, msgs or 0, details))
        return out

    def drain(self) -> None:
        raise NotImplementedError

    def fail(self, exc: MemphisError) -> None:
        """The queue stopped working (e.g. after fork): stop watching its
        pipe, or a pipe left readable would call us forever."""
        log.error("memphis: event queue poll failed: %s", exc)
        self.failed = exc
        self.unwatch()

    def unwatch(self) -> None:
        loop = self.loop_ref()
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self.rfd)


class Window:
    """The in-flight messages of one producer's ``limit_concurrent_tasks``
    produces on one loop. Their failures are logged here as they happen and
    counted by the library, whose count ``flush()`` raises.
    Only the loop thread touches it."""

    def __init__(self, producer_name: str, stations: int) -> None:
        self.name = producer_name
        self.stations = stations  # a multi-station producer reports once per station
        self.pending = 0
        self._room: List[Tuple[int, asyncio.Future[None]]] = []

    async def wait_below(self, limit: int) -> None:
        while self.pending + self.stations > limit * self.stations and self.pending:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._room.append((limit, fut))
            await fut

    async def wait_empty(self) -> None:
        await self.wait_below(0)

    def report(self, status: int, text: Optional[bytes], details: Optional[Tuple[int, bool]]) -> None:
        self.pending -= 1
        if status != OK:
            err = _native.error_from(status, text, details)
            log.warning("memphis: nonblocking produce by %s failed%s: %s", self.name, _retried(err), err)
        elif details is not None and details[1]:
            log.warning(
                "memphis: nonblocking produce by %s: stored after %d resend(s) without a msg_id;"
                " the station may hold it twice",
                self.name,
                details[0],
            )
        if self._room:
            waiting, self._room = self._room, []
            for _limit, fut in waiting:
                if not fut.done():
                    fut.set_result(None)  # each waiter re-checks its own limit


def _retried(err: MemphisError) -> str:
    if not err.retries:
        return ""
    dup = ", possibly stored twice" if err.possible_duplicate else ""
    return f" after {err.retries} resend(s){dup}"


class Batch:
    """The reports of one produce_batch call (or of one synchronous produce
    to several stations): a Delivery per message, or the first failure."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int, stations: int) -> None:
        self.remaining = count * stations
        self.results: List[Optional[Delivery]] = [None] * count
        self.first_error: Optional[MemphisError] = None
        self.done: asyncio.Future[None] = loop.create_future()
        if self.remaining == 0:
            self.done.set_result(None)

    def report(self, index: int, status: int, text: Optional[bytes], seq: int, details: Any) -> None:
        if status != OK:
            if self.first_error is None:
                self.first_error = _native.error_from(status, text, details)
        elif 0 <= index < len(self.results):
            d = Delivery(seq, *details) if details is not None else Delivery(seq)
            prev = self.results[index]
            if prev is None:
                self.results[index] = d
            else:
                prev._merge(d)
        self.remaining -= 1
        if self.remaining <= 0 and not self.done.done():
            self.done.set_result(None)

    def not_coming(self, n: int) -> None:
        """n reports will not come (messages the library did not accept)."""
        self.remaining -= n
        if self.remaining <= 0 and not self.done.done():
            self.done.set_result(None)

    def deliveries(self) -> List[Delivery]:
        """Every message's Delivery; call once done without a failure."""
        missing = [i for i, d in enumerate(self.results) if d is None]
        if missing:
            # Each message gets exactly one report per station: a gap means
            # another message got two, which the library never does.
            raise MemphisError(f"internal: no delivery report for message {missing[0]}", "MEMPHIS_ERR_INTERNAL")
        return [d for d in self.results if d is not None]


class _LoopQueue(_WatchedQueue):
    """The delivery queue of one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, 0, _BATCH)
        self.waiters: Dict[int, asyncio.Future[Delivery]] = {}  # sync produce, one per message
        self.targets: Dict[int, Any] = {}  # windows: .report(status, text, details)
        self.batches: Dict[int, Batch] = {}  # by batch id, see _BATCH_BIT
        self.ids = itertools.count(1)
        self.batch_ids = itertools.count(1)

    def register(self, target: Any, what: str) -> int:
        token = next(self.ids)
        self.targets[token] = target
        _track(target, what)
        return token

    def unregister(self, token: int) -> None:
        target = self.targets.pop(token, None)
        if target is not None:
            _untrack(target)

    def register_batch(self, batch: Batch) -> int:
        """Register a batch; returns the user data of its message 0 (add
        the index for the others)."""
        bid = next(self.batch_ids) & 0x7FFFFFFF  # wraps after 2**31 batches, long gone by then
        self.batches[bid] = batch
        _track(batch, "batch")
        return _BATCH_BIT | (bid << 32)

    def unregister_batch(self, base: int) -> None:
        batch = self.batches.pop((base >> 32) & 0x7FFFFFFF, None)
        if batch is not None:
            _untrack(batch)

    def drain(self) -> None:
        """Runs on the loop when the library signalled: settle every report."""
        waiters, targets, batches = self.waiters, self.targets, self.batches
        while True:
            events = self.poll(_BATCH)
            for _kind, st, text, seq, token, _msgs, details in events:
                fut = waiters.pop(token, None)
                if fut is not None:
                    if not fut.done():
                        if st == OK:
                            fut.set_result(Delivery(seq, *details) if details is not None else Delivery(seq))
                        else:
                            fut.set_exception(_native.error_from(st, text, details))
                    continue
                if token & _BATCH_BIT:
                    batch = batches.get((token >> 32) & 0x7FFFFFFF)
                    if batch is not None:
                        batch.report(token & _INDEX_MASK, st, text, seq, details)
                    continue
                target = targets.get(token)
                if target is not None:
                    target.report(st, text, details)
            if len(events) < _BATCH:
                return

    def fail(self, exc: MemphisError) -> None:
        super().fail(exc)
        pending = list(self.waiters.values())
        self.waiters.clear()
        for fut in pending:
            if not fut.done():
                fut.set_exception(exc)
        for batch in list(self.batches.values()):
            if not batch.done.done():
                batch.done.set_exception(exc)


_queues_lock = threading.Lock()
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = weakref.WeakKeyDictionary()

# The last loop served and its queue: saves the weak-dictionary lookup on
# the hot path (a program usually runs one loop).
_last: Tuple[Optional[weakref.ReferenceType[asyncio.AbstractEventLoop]], Optional[_LoopQueue]] = (None, None)


def loop_queue(loop: asyncio.AbstractEventLoop) -> _LoopQueue:
    """The delivery queue of ``loop`` (created on first use)."""
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


async def _queue_async(
    handle: c_void_p, data: bytes, optp: Any, q: _LoopQueue, token: int
) -> Optional[MemphisError]:
    """Hand one message reporting to q to the library's window: on the loop
    with a 0 block timeout (queueing is fast unless the in-flight window is
    full), else on a worker thread waiting for room. Returns the refusal."""
    fn, err = _native.lib().producer_produce_async_to_queue, c_void_p()
    status = fn(handle, data, len(data), optp, q.queue, token, 0, byref(err))
    if status == OK:
        return None
    exc: Optional[MemphisError] = _native.take_error(status, err)
    if status == _capi.ERR_QUEUE_FULL:
        status, exc = await run_blocking(_native.call_status, fn, handle, data, len(data), optp, q.queue, token, -1)
    return exc if status != OK else None


def _awaited(opts: Optional[_capi.ProduceOpts]) -> Any:
    """Options marking a produce whose report the binding awaits: the
    library leaves its failure to the caller instead of counting it for
    flush."""
    if opts is None:
        return byref(_native.AWAITED)
    opts.awaited = True
    return byref(opts)


async def produce_sync(handle: c_void_p, data: bytes, opts: Optional[_capi.ProduceOpts], stations: int = 1) -> Delivery:
    """Queue one message with its report going to the loop's queue; await
    the ack (of every station) and return its Delivery, or raise."""
    if stations > 1:
        deliveries = await produce_batch(handle, [data], opts, stations)
        return deliveries[0]
    loop = asyncio.get_running_loop()
    q = loop_queue(loop)
    fut: asyncio.Future[Delivery] = loop.create_future()
    token = next(q.ids)
    q.waiters[token] = fut
    try:
        exc = await _queue_async(handle, data, _awaited(opts), q, token)
        if exc is not None:
            raise exc
        return await fut
    finally:
        q.waiters.pop(token, None)


async def produce_to_window(
    handle: c_void_p, data: bytes, opts: Optional[_capi.ProduceOpts], window: Window, token: int
) -> None:
    """Nonblocking produce whose report goes to ``window`` (registered under token)."""
    window.pending += window.stations  # before queueing: the report may come first
    try:
        exc = await _queue_async(
            handle, data, _native.opts_ptr(opts), loop_queue(asyncio.get_running_loop()), token
        )
    except BaseException:
        window.pending -= window.stations
        raise
    if exc is not None:
        window.pending -= window.stations
        raise exc


async def produce_batch(
    handle: c_void_p, payloads: List[bytes], opts: Optional[_capi.ProduceOpts], stations: int
) -> List[Delivery]:
    """Queue a batch in one library call and wait for every report.
    Returns a Delivery per message, or raises the first failure (a
    refusal, else a failed delivery)."""
    loop = asyncio.get_running_loop()
    q = loop_queue(loop)
    n = len(payloads)
    batch = Batch(loop, n, stations)
    base = q.register_batch(batch)
    try:
        data = (c_char_p * n)(*payloads)
        lens = (c_size_t * n)(*[len(p) for p in payloads])
        one = _native.AWAITED if opts is None else opts
        one.awaited = True
        # One option struct per message: copies of one, made in one go
        # (the strings they point to stay alive with `one`).
        opts_arr = (_capi.ProduceOpts * n).from_buffer_copy(bytes(one) * n)
        uds = (c_void_p * n)(*range(base, base + n))
        fn = _native.lib().producer_produce_batch_to_queue
        accepted = c_size_t()
        # Within the window the call returns at once; waiting for room
        # happens on a worker thread.
        status, exc = await run_blocking(
            _native.call_status, fn, handle, data, lens, opts_arr, n, q.queue, uds, -1, byref(accepted)
        )
        batch.not_coming((n - accepted.value) * stations)
        await batch.done
    finally:
        q.unregister_batch(base)
    if status != OK:
        assert exc is not None
        raise exc
    if batch.first_error is not None:
        raise batch.first_error
    return batch.deliveries()


class ConsumeLoop:
    """One consume session: the library's consume loop reporting to a
    queue of its own, and the handler calls it feeds on the event loop, one
    batch at a time and in order."""

    CAPACITY = 1  # batches waiting in the library queue beside the one handled

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        consumer_handle: c_void_p,
        handler: Callable[..., Any],
        context: Callable[[], Any],
        partition_key: Optional[bytes],
        partition_number: int,
    ) -> None:
        self.loop = loop
        self.handler = handler
        self.context = context
        self.stopped = False
        self.task: Optional[asyncio.Task[None]] = None  # the running async handler
        self._q = _ConsumeQueue(loop, self)
        try:
            _native.check(
                _native.lib().consumer_consume_to_queue,
                consumer_handle,
                self._q.queue,
                None,
                partition_key,
                partition_number,
            )
        except BaseException:
            self._q.unwatch()
            self._q.release()
            raise
        _track(self, "consume loop")

    def close(self) -> None:
        """No handler call starts afterwards (loop thread)."""
        if not self.stopped:
            self.stopped = True
            self._q.unwatch()

    def close_threadsafe(self) -> None:
        if running_loop() is self.loop:
            self.close()
            return
        try:
            self.loop.call_soon_threadsafe(self.close)
        except RuntimeError:  # the loop is closed: nobody runs handlers any more
            self.stopped = True

    def release(self) -> None:
        """Give the queue back once the library consumer stopped (loop
        thread). Batches still queued are released: their messages come
        again after max_ack_time."""
        self.close()
        self._q.release()
        _untrack(self)

    def release_threadsafe(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.release)
        except RuntimeError:  # the loop is closed and no longer watches the pipe
            self._q.release()
            _untrack(self)

    def next_batch(self) -> None:
        """Take the next batch if the handler is free (loop thread)."""
        if self.stopped or self.task is not None:
            return
        events = self._q.poll(1)
        if not events:
            return  # the poll armed the queue: the pipe signals the next batch
        _kind, st, text, _seq, _token, msgs, count = events[0]  # count: the batch's messages
        messages = _wrap_messages(msgs, count)
        error: Optional[MemphisError] = None
        if st == _capi.ERR_NO_MESSAGES:
            error = MemphisError(TIMEOUT_TEXT)
        elif st != OK:
            error = _native.error_from(st, text)
        try:
            result = self.handler(messages, error, self.context())
        except Exception:
            log.exception("memphis: consume handler raised; the consumer keeps going")
            result = None
        if inspect.isawaitable(result):
            self.task = self.loop.create_task(self._finish(result))
        else:
            self.loop.call_soon(self.next_batch)

    async def _finish(self, result: Any) -> None:
        try:
            await result
        except Exception:
            log.exception("memphis: consume handler raised; the consumer keeps going")
        finally:
            self.task = None
            self.loop.call_soon(self.next_batch)


class _ConsumeQueue(_WatchedQueue):
    def __init__(self, loop: asyncio.AbstractEventLoop, owner: ConsumeLoop) -> None:
        super().__init__(loop, ConsumeLoop.CAPACITY, 1)
        self._owner = weakref.ref(owner)

    def drain(self) -> None:
        owner = self._owner()
        if owner is not None:
            owner.next_batch()


def _wrap_messages(arr: int, count: int) -> List[Any]:
    from .message import wrap_batch

    return wrap_batch(arr, count)
