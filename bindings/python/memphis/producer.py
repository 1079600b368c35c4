"""Producers: sync, nonblocking and batch produce."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _capi, _events, _native
from ._capi import OK
from ._convert import message_bytes
from ._ops import Pending, executor, run_blocking, start_on_loop
from .delivery import Delivery
from .exceptions import MemphisError, MemphisInvalidArgumentError
from .headers import Headers, native_headers

if TYPE_CHECKING:
    from ._events import _LoopQueue
    from .memphis import Memphis

__all__ = ["Producer"]

log = logging.getLogger("memphis")

HeadersArg = Union[Headers, Mapping[str, str], None]


def _release(handle: Any, windows: Dict[Any, Any]) -> None:
    """Finalizer of a producer that was never destroyed: destroy it off-loop."""
    _forget_windows(windows)

    def work() -> None:
        try:
            _native.producer_destroy(handle)
        except MemphisError as exc:
            log.error("memphis: releasing a producer: %s", exc)

    try:
        executor().submit(work)
    except RuntimeError:  # interpreter shutting down
        pass


def _forget_windows(windows: Dict[Any, Any]) -> None:
    """Unregister a producer's windows from their loops' queues."""
    for q, (token, _window) in list(windows.items()):
        loop = q.loop_ref()
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(q.unregister, token)
            except RuntimeError:
                pass
    windows.clear()


class Producer:
    """A producer created by ``await memphis.producer(...)``.

    Across broker crashes, restarts and overload, every produced message
    gets exactly one result: *delivered* means the broker acknowledged that
    it stored the message (and a stored message survives a crash). Messages
    not yet acknowledged when the connection drops are sent again once the
    broker is back, in their original order and before any later message of
    this producer; overload answers are retried with a short backoff. A
    message fails only when its ack wait (``ack_wait_sec``, counted from the
    call) passes or the producer or connection is closed. ``Delivery`` and
    ``MemphisError`` carry the retry count and the possible-duplicate flag.

    Producer options beyond memphis-py's (keywords of
    ``memphis.producer()``): ``max_in_flight`` and ``max_in_flight_bytes``
    bound the nonblocking messages awaiting their acknowledgement (default
    4000 messages and 32 MiB); ``ack_wait_ms``; ``idempotent`` (default
    False) gives every message without a ``msg_id`` a unique one, so a
    resent message is stored exactly once; it is off by default because the
    broker keeps every id for the station's idempotency window (2 minutes by
    default), which costs it memory at high message rates.
    """

    def __init__(
        self, connection: Memphis, station_name: Union[str, List[str]], producer_name: str, handle: Any
    ) -> None:
        self.connection = connection
        self.station_name = station_name
        self.producer_name = producer_name.lower()
        self._handle = handle
        self._stations = len(station_name) if isinstance(station_name, list) else 1
        # limit_concurrent_tasks windows, one per event loop used: queue -> (token, Window)
        self._windows: Dict[_LoopQueue, tuple[int, _events.Window]] = {}
        self._destroyed: Optional[Pending[None]] = None
        self._finalizer = weakref.finalize(self, _release, handle, self._windows)

    @property
    def pending_count(self) -> int:
        """``limit_concurrent_tasks`` messages still waiting for their acknowledgement."""
        return sum(w.pending // w.stations for _t, w in self._windows.values())

    def stats(self) -> Dict[str, Any]:
        """A snapshot of this producer's statistics (produced, acked,
        failed by cause, in flight, ack latency...): its part of the
        library's statistics document (docs/statistics.md) as a dict."""
        self._check_open()
        return _native.stats("producer", self._handle)

    def _check_open(self) -> None:
        if self._destroyed is not None:
            raise MemphisError(f"producer {self.producer_name} was destroyed")

    def _window(self) -> tuple[int, _events.Window]:
        q = _events.loop_queue(asyncio.get_running_loop())
        entry = self._windows.get(q)
        if entry is None:
            window = _events.Window(self.producer_name, self._stations)
            entry = self._windows[q] = (q.register(window, "window"), window)
        return entry

    async def produce(
        self,
        message: Any,
        ack_wait_sec: Optional[float] = None,
        headers: HeadersArg = None,
        async_produce: bool = False,
        nonblocking: bool = False,
        msg_id: Optional[str] = None,
        producer_partition_key: Optional[str] = None,
        producer_partition_number: int = -1,
        limit_concurrent_tasks: Optional[int] = None,
        concurrent_task_limit: Optional[int] = None,
    ) -> Optional[Delivery]:
        """Produce one message.

        A synchronous produce returns once the broker stored the message
        (its ``Delivery``: sequence, retries, possible duplicate) or raises
        the failure (a ``MemphisError`` with the same ``retries`` and
        ``possible_duplicate``); while the broker is away it waits for the
        reconnect within its ack wait. A nonblocking produce returns None as
        soon as the message is queued.

        Args:
            message: bytes/bytearray/str/dict, a protobuf message or a GraphQL
                document (validated against the station's schema, if any).
            ack_wait_sec: how long to wait for the broker's ack (default 15).
            headers: a ``Headers`` or a plain dict of strings.
            nonblocking: return once the message is queued; failures are
                counted by the library and raised by ``flush()`` (those of
                ``limit_concurrent_tasks`` produces are also logged as they
                happen). ``async_produce`` is the older spelling.
            msg_id: idempotency id (duplicates within the station's
                idempotency window are dropped).
            producer_partition_key / producer_partition_number: choose the
                partition (by key hash, or 1-based number); default round robin.
            limit_concurrent_tasks: with nonblocking, at most this many
                messages awaiting their ack (``concurrent_task_limit`` alias).
        """
        if (
            headers is None
            and msg_id is None
            and producer_partition_key is None
            and ack_wait_sec is None
            and limit_concurrent_tasks is None
            and concurrent_task_limit is None
            and type(producer_partition_number) is int
            and producer_partition_number <= 0
            and type(message) in (bytes, bytearray, str)
            and self._destroyed is None
        ):
            data = message if type(message) is bytes else message_bytes(message)
            if not (nonblocking or async_produce):
                # Hot path of sync producing: no options to build.
                return await _events.produce_sync(self._handle, data, None, self._stations)
            # Hot path of bulk producing: no options; the library counts
            # failures for flush.
            status, exc = _native.produce_async_plain(self._handle, data)
            if status == OK:
                return None
            if status != _capi.ERR_QUEUE_FULL:
                assert exc is not None
                raise exc
            await self._produce_async(data, None)
            return None
        self._check_open()
        data = message_bytes(message)
        limit = limit_concurrent_tasks if limit_concurrent_tasks is not None else concurrent_task_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            # A limit of the binding's own window, not a library option.
            raise MemphisInvalidArgumentError(f"limit_concurrent_tasks must be a positive int, got {limit!r}")
        hdrs, temporary = native_headers(headers)
        try:
            opts = _native.produce_opts(
                hdrs, msg_id, producer_partition_key, producer_partition_number, _ack_wait_ms(ack_wait_sec)
            )
            if not (nonblocking or async_produce):
                return await _events.produce_sync(self._handle, data, opts, self._stations)
            if limit is None:
                await self._produce_async(data, opts)
            else:
                token, window = self._window()
                await window.wait_below(limit)
                await _events.produce_to_window(self._handle, data, opts, window, token)
        finally:
            if temporary and hdrs is not None:
                hdrs.close()
        return None

    async def _produce_async(self, data: bytes, opts: Any) -> None:
        """Hand one message to the library's nonblocking window; its failure
        is counted by the library and raised by flush."""
        status, exc = _native.produce_async(self._handle, data, opts, 0)
        if status == _capi.ERR_QUEUE_FULL:
            # The in-flight window is full: wait for room on a worker thread.
            status, exc = await run_blocking(_native.produce_async, self._handle, data, opts, -1)
        if status != OK:
            assert exc is not None
            raise exc

    async def produce_batch(
        self,
        messages: Sequence[Any],
        ack_wait_sec: Optional[float] = None,
        headers: HeadersArg = None,
        producer_partition_key: Optional[str] = None,
        producer_partition_number: int = -1,
    ) -> List[Delivery]:
        """Produce many messages in one library call and wait for all acks.

        Returns a ``Delivery`` per message, in order (sequence, retries,
        possible duplicate), or raises the first failure (after every
        message got its report) with that message's ``retries`` and
        ``possible_duplicate``. Headers and partition options apply to every
        message. The failures are raised here, not again by ``flush()``.
        """
        self._check_open()
        payloads = [message_bytes(m) for m in messages]
        if not payloads:
            return []
        hdrs, temporary = native_headers(headers)
        try:
            opts = _native.produce_opts(
                hdrs, None, producer_partition_key, producer_partition_number, _ack_wait_ms(ack_wait_sec)
            )
            return await _events.produce_batch(self._handle, payloads, opts, self._stations)
        finally:
            if temporary and hdrs is not None:
                hdrs.close()

    async def flush(self, timeout_ms: Optional[int] = None) -> None:
        """Wait until every nonblocking message was acknowledged or failed.

        Raises ``MemphisError`` describing the nonblocking produces that
        failed since the previous flush (logged as well), with the first
        failure's code; the count comes from the library, the one record of
        failures. Failures of synchronous produces and ``produce_batch`` are
        raised by those calls and not counted here. With ``timeout_ms``,
        raises a ``MEMPHIS_ERR_TIMEOUT`` error when messages are still
        pending (their failures are left for the next flush).
        """
        if self._destroyed is not None:
            return
        ms = -1 if timeout_ms is None else _native.integer(timeout_ms, "timeout_ms", "int64")
        status, failed, first = await run_blocking(_native.producer_flush, self._handle, ms)
        # The library has queued every report by now; let the loop take
        # them, so their log lines come before the summary.
        for _token, window in list(self._windows.values()):
            await window.wait_empty()
        if status == OK:
            return
        assert first is not None
        if not failed:
            raise first  # the wait timed out
        err = _failures(self.producer_name, first)
        log.error("memphis: %s", err)
        raise err

    def destroy(self, timeout_retries: int = 5) -> Pending[None]:
        """Flush, then de-register the producer. Works with or without await.

        Raises (or, not awaited, logs) the nonblocking failures not yet
        reported by ``flush()``: the library's flush inside destroy returns
        them."""
        del timeout_retries  # the library retries control requests itself
        if self._destroyed is not None:
            return self._destroyed
        self._finalizer.detach()
        handle, windows, name = self._handle, self._windows, self.producer_name
        self.connection._forget_producer(self)

        def destroy_handle() -> None:
            try:
                _native.producer_destroy(handle)
            except MemphisError as exc:
                # Already gone with its connection is what the user wanted.
                if exc.code not in ("MEMPHIS_ERR_CLOSED", "MEMPHIS_ERR_NOT_CONNECTED"):
                    raise

        async def work() -> None:
            try:
                await run_blocking(destroy_handle)
                # The library queued the last reports: let the loop take them.
                for _token, window in list(windows.values()):
                    await window.wait_empty()
            finally:
                _forget_windows(windows)

        self._destroyed = start_on_loop(f"destroying producer {name}", work, destroy_handle)
        return self._destroyed

    async def __aenter__(self) -> Producer:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.destroy()

    def __repr__(self) -> str:
        return f"<memphis.Producer {self.producer_name} -> {self.station_name}>"


def _failures(producer: str, first: MemphisError) -> MemphisError:
    # The library's summary names the count when more than one failed.
    detail = first.message.replace("memphis: ", "")
    return MemphisError(f"nonblocking produce call(s) of producer {producer} failed: {detail}", first.code)


def _ack_wait_ms(ack_wait_sec: Optional[float]) -> int:
    # None and 0 mean the producer's ack wait; the library checks the range.
    return 0 if ack_wait_sec is None else _native.milliseconds(ack_wait_sec, "ack_wait_sec")
