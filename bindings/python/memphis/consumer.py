"""Consumers: the consume loop, fetch, stop and destroy."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Optional, Union

from . import _native
from ._events import ConsumeLoop
from ._ops import Pending, executor, run_blocking, start_on_loop
from .exceptions import MemphisError, MemphisInvalidArgumentError
from .message import Message, wrap_batch

if TYPE_CHECKING:
    from .memphis import Memphis

__all__ = ["Consumer"]

log = logging.getLogger("memphis")

Handler = Callable[[List[Message], Optional[MemphisError], Any], Union[Awaitable[None], None]]


def _release(handle: Any, loops: List[ConsumeLoop]) -> None:
    """Finalizer of a consumer that was never destroyed: destroy it off-loop."""
    for cl in loops:
        cl.close_threadsafe()

    def work() -> None:
        try:
            _native.consumer_destroy(handle)
        except MemphisError:
            pass
        finally:
            for cl in loops:
                cl.release_threadsafe()

    try:
        executor().submit(work)
    except RuntimeError:  # interpreter shutting down
        pass


def _partition(key: Optional[str], number: Optional[int]) -> tuple[Optional[bytes], int]:
    """The partition arguments: a key, or a 1-based number (0 or below, as
    memphis-py's default -1, means none)."""
    n = 0 if number is None else _native.integer(number, "consumer_partition_number")
    return _native.opt_text(key, "consumer_partition_key"), max(n, 0)


class Consumer:
    """A consumer created by ``await memphis.consumer(...)``."""

    def __init__(
        self,
        connection: Memphis,
        station_name: str,
        consumer_name: str,
        consumer_group: str,
        handle: Any,
    ) -> None:
        self.connection = connection
        self.station_name = station_name.lower()
        self.consumer_name = consumer_name.lower()
        self.consumer_group = (consumer_group or consumer_name).lower()
        self.context: Any = {}
        self._handle = handle
        self._loops: List[ConsumeLoop] = []  # every consume session, for the finalizer
        self._consuming: Optional[ConsumeLoop] = None
        self._destroyed: Optional[Pending[None]] = None
        self._finalizer = weakref.finalize(self, _release, handle, self._loops)

    def set_context(self, context: Any) -> None:
        """Set the value passed as ``context`` to every handler call."""
        self.context = context

    def consume(
        self,
        callback: Handler,
        consumer_partition_key: Optional[str] = None,
        consumer_partition_number: int = -1,
    ) -> None:
        """Start consuming: ``callback(msgs, error, context)`` runs on the event loop.

        The callback may be ``async def`` or plain. It gets batches of
        messages with ``error=None``, and ``([], MemphisError("Memphis:
        TimeoutError"), context)`` whenever the station is drained. Pulls
        happen every ``pull_interval_ms``; while the station has a backlog,
        up to two batches wait in the library while the callback runs (one
        fetched, one being fetched), and further pulls wait for room. Must
        be called on the running event loop.
        """
        if self._destroyed is not None:
            raise MemphisError(f"consumer {self.consumer_name} was destroyed")
        if not callable(callback):
            raise MemphisInvalidArgumentError(
                f"callback must be callable (msgs, error, context), got {type(callback).__name__}"
            )
        if self._consuming is not None and not self._consuming.stopped:
            raise MemphisError(f"consumer {self.consumer_name} is already consuming; call stop_consume() first")
        key, number = _partition(consumer_partition_key, consumer_partition_number)
        ref = weakref.ref(self)

        def context() -> Any:
            consumer = ref()
            return consumer.context if consumer is not None else {}

        cl = ConsumeLoop(asyncio.get_running_loop(), self._handle, callback, context, key, number)
        self._loops.append(cl)
        self._consuming = cl

    def stop_consume(self) -> Pending[None]:
        """Stop the consume loop (no handler call starts afterwards).

        Works with or without await; awaiting waits for the running handler
        (except when called from that handler)."""
        cl, self._consuming = self._consuming, None
        if cl is None:
            return Pending.completed("stop_consume", None)
        cl.close()
        handle = self._handle

        def stop() -> None:
            try:
                _native.consumer_stop(handle)
            except MemphisError as exc:
                if exc.code not in ("MEMPHIS_ERR_CLOSED", "MEMPHIS_ERR_INVALID_HANDLE"):
                    raise

        async def work() -> None:
            try:
                await run_blocking(stop)
            finally:
                cl.release()
            running = cl.task
            if running is not None and running is not asyncio.current_task():
                await asyncio.wait([running])

        return start_on_loop(f"stopping consumer {self.consumer_name}", work, stop)

    async def fetch(
        self,
        batch_size: Optional[int] = None,
        consumer_partition_key: Optional[str] = None,
        consumer_partition_number: int = -1,
        prefetch: bool = False,
    ) -> List[Message]:
        """Fetch one batch (up to ``batch_size``; None or 0: the consumer's, default 10).

        Returns ``[]`` when nothing arrived within ``batch_max_time_to_wait_ms``.
        ``prefetch`` is accepted for compatibility with memphis-py and has no
        effect: each call fetches one batch (the consume loop does fetch
        ahead, see ``consume``).
        """
        del prefetch
        if self._destroyed is not None:
            raise MemphisError(f"consumer {self.consumer_name} was destroyed")
        size = 0 if batch_size is None else _native.integer(batch_size, "batch_size", "size")
        key, number = _partition(consumer_partition_key, consumer_partition_number)
        arr, count = await run_blocking(_native.consumer_fetch, self._handle, size, key, number)
        return wrap_batch(arr, count)

    def stats(self) -> Dict[str, Any]:
        """A snapshot of this consumer's statistics (fetched, delivered,
        acked, nacked, delayed, dead-lettered, redelivered, pull latency,
        handler time...): its part of the library's statistics document
        (docs/statistics.md) as a dict."""
        if self._destroyed is not None:
            raise MemphisError(f"consumer {self.consumer_name} was destroyed")
        return _native.stats("consumer", self._handle)

    def destroy(self, timeout_retries: int = 5) -> Pending[None]:
        """Stop consuming and de-register the consumer. Works with or without await."""
        del timeout_retries
        if self._destroyed is not None:
            return self._destroyed
        self._finalizer.detach()
        loops = list(self._loops)
        for cl in loops:
            cl.close()
        self._consuming = None
        handle = self._handle
        self.connection._forget_consumer(self)

        def destroy_handle() -> None:
            try:
                _native.consumer_destroy(handle)
            except MemphisError as exc:
                if exc.code not in ("MEMPHIS_ERR_CLOSED", "MEMPHIS_ERR_NOT_CONNECTED"):
                    raise

        async def work() -> None:
            try:
                await run_blocking(destroy_handle)
            finally:
                for cl in loops:
                    cl.release()

        self._destroyed = start_on_loop(f"destroying consumer {self.consumer_name}", work, destroy_handle)
        return self._destroyed

    async def __aenter__(self) -> Consumer:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.destroy()

    def _stop_for_close(self) -> None:
        """Connection closing: no handler call may start any more."""
        for cl in self._loops:
            cl.close_threadsafe()

    def __repr__(self) -> str:
        return f"<memphis.Consumer {self.consumer_name} ({self.consumer_group}) <- {self.station_name}>"
