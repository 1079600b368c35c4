"""Producers: sync, nonblocking and batch produce."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence, Union

from . import _events, _native, _registry
from ._convert import message_bytes
from ._ops import Pending, executor, run_blocking, start
from .exceptions import MemphisError
from .headers import Headers, normalise_headers

if TYPE_CHECKING:
    from .memphis import Memphis

__all__ = ["Producer"]

log = logging.getLogger("memphis")

HeadersArg = Union[Headers, Mapping[str, str], None]
_KEPT_ERRORS = 10


class _DeliveryState:
    """Delivery bookkeeping of one producer, shared with library threads.

    Delivery reports arrive on library threads; they only count and record
    here, and wake the event loop (call_soon_threadsafe) only when a
    coroutine is waiting for room or for the last report.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.pending = 0
        self.failed = 0
        self.errors: List[MemphisError] = []
        self.waiters: List[tuple[asyncio.AbstractEventLoop, asyncio.Future[None], int]] = []

    def accepted(self, n: int = 1) -> None:
        with self.lock:
            self.pending += n

    def on_delivery(self, status: int, message: Optional[bytes]) -> None:
        wake = None
        with self.lock:
            self.pending -= 1
            if status != _native.OK:
                self.failed += 1
                err = _native.error_from(status, message)
                if len(self.errors) < _KEPT_ERRORS:
                    self.errors.append(err)
                log.warning("memphis: nonblocking produce by %s failed: %s", self.name, err)
            if self.waiters:
                wake = [w for w in self.waiters if self.pending < w[2]]
                if wake:
                    self.waiters = [w for w in self.waiters if self.pending >= w[2]]
        if wake:
            for loop, fut, _ in wake:
                try:
                    loop.call_soon_threadsafe(_resolve, fut)
                except RuntimeError:
                    pass  # that loop is closed; nobody is waiting any more

    async def wait_below(self, limit: int) -> None:
        """Wait until fewer than ``limit`` messages await their report."""
        loop = asyncio.get_running_loop()
        with self.lock:
            if self.pending < limit:
                return
            fut: asyncio.Future[None] = loop.create_future()
            self.waiters.append((loop, fut, limit))
        await fut

    def add_failures(self, n: int, first: Optional[MemphisError]) -> None:
        """Failures the library counted for callback-less messages."""
        with self.lock:
            self.failed += n
            if first is not None and len(self.errors) < _KEPT_ERRORS:
                self.errors.append(first)

    def take_failures(self) -> Optional[MemphisError]:
        with self.lock:
            failed, errors = self.failed, self.errors
            self.failed, self.errors = 0, []
        if not failed:
            return None
        first = errors[0] if errors else MemphisError("unknown failure")
        return MemphisError(
            f"{failed} nonblocking produce call(s) of producer {self.name} failed; first: {first.message}",
            first.code,
        )


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _BatchState:
    """Collects the delivery reports of one produce_batch call."""

    def __init__(self, count: int, loop: asyncio.AbstractEventLoop) -> None:
        self.lock = threading.Lock()
        self.remaining = count
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.first_error: Optional[MemphisError] = None
        self.failed = 0

    def on_delivery(self, status: int, message: Optional[bytes]) -> None:
        with self.lock:
            if status != _native.OK:
                self.failed += 1
                if self.first_error is None:
                    self.first_error = _native.error_from(status, message)
            self.remaining -= 1
            done = self.remaining == 0
        if done:
            try:
                self.loop.call_soon_threadsafe(_resolve, self.future)
            except RuntimeError:
                pass

    def not_queued(self, n: int) -> None:
        with self.lock:
            self.remaining -= n
            done = self.remaining == 0
        if done:
            _resolve(self.future)


# A NULL function pointer: ctypes refuses None for a CFUNCTYPE argument.
_NO_CALLBACK = _native.DELIVERY_CB()


@_native.DELIVERY_CB
def _on_delivery(status: int, message: Optional[bytes], sequence: int, user_data: Optional[int]) -> None:
    # Runs on a library thread for every nonblocking message: keep it short.
    del sequence
    target = _registry.lookup(user_data)
    if target is not None:
        target.on_delivery(status, message)


def _release(handle: Any, token: int, state: _DeliveryState) -> None:
    """Finalizer of a producer that was never destroyed: destroy it off-loop."""

    def work() -> None:
        try:
            _native.producer_destroy(handle)
        except MemphisError:
            pass
        finally:
            _registry.unregister(token)
            err = state.take_failures()
            if err is not None:
                log.error("memphis: %s", err)

    try:
        executor().submit(work)
    except RuntimeError:  # interpreter shutting down
        _registry.unregister(token)


class Producer:
    """A producer created by ``await memphis.producer(...)``."""

    def __init__(
        self, connection: Memphis, station_name: Union[str, List[str]], producer_name: str, handle: Any
    ) -> None:
        self.connection = connection
        self.station_name = station_name
        self.producer_name = producer_name.lower()
        self._handle = handle
        self._state = _DeliveryState(self.producer_name)
        self._token = _registry.register(self._state)
        self._destroyed: Optional[Pending[None]] = None
        self._finalizer = weakref.finalize(self, _release, handle, self._token, self._state)

    @property
    def failed_count(self) -> int:
        """Nonblocking produce failures not yet raised by ``flush()``."""
        return self._state.failed

    @property
    def pending_count(self) -> int:
        """Nonblocking messages still waiting for their acknowledgement."""
        return self._state.pending

    def _check_open(self) -> None:
        if self._destroyed is not None:
            raise MemphisError(f"producer {self.producer_name} was destroyed")

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
    ) -> None:
        """Produce one message.

        Args:
            message: bytes/bytearray/str/dict, a protobuf message or a GraphQL
                document (validated against the station's schema, if any).
            ack_wait_sec: how long to wait for the broker's ack (default 15).
            headers: a ``Headers`` or a plain dict of strings.
            nonblocking: return once the message is queued; failures are
                logged, counted and raised by ``flush()``. ``async_produce``
                is the older spelling.
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
            and (producer_partition_number is None or producer_partition_number <= 0)
            and type(message) in (bytes, bytearray, str)
            and self._destroyed is None
        ):
            data = message if type(message) is bytes else message_bytes(message)
            if not (nonblocking or async_produce):
                # Hot path of sync producing: no options to build.
                await _events.produce_sync(self._handle, data, None)
                return
            # Hot path of bulk producing: no options, no per-message callback.
            status, exc = _native.produce_async_plain(self._handle, data)
            if status == _native.OK:
                return
            if status != _native.QUEUE_FULL:
                assert exc is not None
                raise exc
            await self._queue(data, None, _NO_CALLBACK, None)
            return
        self._check_open()
        data = message_bytes(message)
        if (
            producer_partition_key is not None
            and producer_partition_number is not None
            and producer_partition_number > 0
        ):
            raise MemphisError("Can not use both partition number and partition key")
        hdrs = normalise_headers(headers)
        ack_ms = _ack_wait_ms(ack_wait_sec)
        limit = limit_concurrent_tasks if limit_concurrent_tasks is not None else concurrent_task_limit
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise MemphisError(f"limit_concurrent_tasks must be a positive integer, got {limit!r}")
        native_headers = _native.Headers(hdrs) if hdrs else None
        try:
            opts = _native.produce_opts(
                native_headers, msg_id, producer_partition_key, producer_partition_number, ack_ms
            )
            if not (nonblocking or async_produce):
                await self._produce_sync(data, opts)
            elif limit is None:
                # No delivery callback: the library counts failures and flush()
                # reports them, so the hot path never wakes Python per message.
                await self._queue(data, opts, _NO_CALLBACK, None)
            else:
                await self._state.wait_below(limit)
                self._state.accepted()  # before queueing: the report may come first
                try:
                    await self._queue(data, opts, _on_delivery, self._token)
                except BaseException:
                    self._state.accepted(-1)
                    raise
        finally:
            if native_headers is not None:
                native_headers.close()

    async def _queue(self, data: bytes, opts: Any, cb: Any, token: Optional[int]) -> None:
        """Hand one message to the library's nonblocking window."""
        # On the loop with a 0 block timeout: queueing is fast unless the
        # in-flight window is full, and then we wait on a worker instead.
        status, exc = _native.produce_async(self._handle, data, opts, cb, token, 0)
        if status == _native.QUEUE_FULL:
            status, exc = await run_blocking(_native.produce_async, self._handle, data, opts, cb, token, -1)
        if status != _native.OK:
            assert exc is not None
            raise exc

    async def _produce_sync(self, data: bytes, opts: Any) -> None:
        """Produce and wait for the ack without tying up a worker thread.

        The report comes through the library's event queue, which the event
        loop watches through a wake-up pipe (see _events), not through a
        callback on a Go thread.
        """
        await _events.produce_sync(self._handle, data, opts)

    async def produce_batch(
        self,
        messages: Sequence[Any],
        ack_wait_sec: Optional[float] = None,
        headers: HeadersArg = None,
        producer_partition_key: Optional[str] = None,
        producer_partition_number: int = -1,
    ) -> None:
        """Produce many messages in one library call and wait for all acks.

        Raises the first failure (after every message got its report).
        Headers and partition options apply to every message.
        """
        self._check_open()
        payloads = [message_bytes(m) for m in messages]
        if not payloads:
            return
        hdrs = normalise_headers(headers)
        ack_ms = _ack_wait_ms(ack_wait_sec)
        loop = asyncio.get_running_loop()
        batch = _BatchState(len(payloads), loop)
        token = _registry.register(batch)
        native_headers = _native.Headers(hdrs) if hdrs else None
        try:
            opts = _native.produce_opts(native_headers, None, producer_partition_key, producer_partition_number, ack_ms)
            status, accepted, exc = await run_blocking(
                _native.produce_batch, self._handle, payloads, opts, _on_delivery, token, -1
            )
            if accepted < len(payloads):
                batch.not_queued(len(payloads) - accepted)
            await batch.future
        finally:
            _registry.unregister(token)
            if native_headers is not None:
                native_headers.close()
        if status != _native.OK and exc is not None:
            raise exc
        if batch.first_error is not None:
            raise batch.first_error

    async def flush(self, timeout_ms: Optional[int] = None) -> None:
        """Wait until every nonblocking message was acknowledged or failed.

        Raises ``MemphisError`` describing the failures since the previous
        flush (they are logged as well).
        """
        if self._destroyed is None:
            status, failed, exc = await run_blocking(
                _native.producer_flush, self._handle, -1 if timeout_ms is None else timeout_ms
            )
            if status == _native.TIMEOUT and exc is not None:
                raise exc
            if failed:
                self._state.add_failures(failed, exc)
        err = self._state.take_failures()
        if err is not None:
            log.error("memphis: %s", err)
            raise err

    def destroy(self, timeout_retries: int = 5) -> Pending[None]:
        """Flush, then de-register the producer. Works with or without await."""
        del timeout_retries  # the library retries control requests itself
        if self._destroyed is not None:
            return self._destroyed
        self._finalizer.detach()
        handle, token, state = self._handle, self._token, self._state
        self.connection._forget_producer(self)

        def work() -> None:
            try:
                _native.producer_destroy(handle)
            except MemphisError as exc:
                # "Already gone" is what the user wanted.
                if "not exist" not in str(exc) and exc.code not in ("MEMPHIS_ERR_CLOSED",):
                    raise
            finally:
                _registry.unregister(token)
            err = state.take_failures()
            if err is not None:
                raise err

        self._destroyed = start(f"destroying producer {self.producer_name}", work)
        return self._destroyed

    async def __aenter__(self) -> Producer:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.destroy()

    def __repr__(self) -> str:
        return f"<memphis.Producer {self.producer_name} -> {self.station_name}>"


def _ack_wait_ms(ack_wait_sec: Optional[float]) -> int:
    if ack_wait_sec is None:
        return 0  # the producer's default
    if isinstance(ack_wait_sec, bool) or not isinstance(ack_wait_sec, (int, float)) or ack_wait_sec <= 0:
        raise MemphisError(f"ack_wait_sec must be a positive number, got {ack_wait_sec!r}")
    return max(1, int(ack_wait_sec * 1000))
