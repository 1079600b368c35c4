"""Consumers: the consume loop, fetch, stop and destroy."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Awaitable, Callable, List, Optional, Union

from . import _native, _registry
from ._ops import Pending, executor, run_blocking, start
from .exceptions import MemphisError
from .message import Message

if TYPE_CHECKING:
    from .memphis import Memphis

__all__ = ["Consumer"]

log = logging.getLogger("memphis")

Handler = Callable[[List[Message], Optional[MemphisError], Any], Union[Awaitable[None], None]]

# What a drained station looks like to a handler, as in memphis-py.
TIMEOUT_TEXT = "Memphis: TimeoutError"


class _ConsumeState:
    """The running consume loop of one consumer, shared with library threads.

    Batches arrive on a library thread, which hands each one to the event
    loop (call_soon_threadsafe); handler calls run there one after another,
    in order. The library thread then waits until the handler of the
    *previous* batch has finished: the next pull overlaps the current
    handler call (one batch of read-ahead), but a slow handler still slows
    the pulls down instead of letting messages pile up.
    """

    def __init__(self, consumer: Consumer, handler: Handler, loop: asyncio.AbstractEventLoop) -> None:
        self.consumer_ref = weakref.ref(consumer)
        self.handler = handler
        self.loop = loop
        self.stopped = threading.Event()
        self.previous_done: Optional[threading.Event] = None  # library thread only
        self.last_task: Optional[asyncio.Task[None]] = None  # loop thread only
        self.tasks: set[asyncio.Task[None]] = set()

    def on_batch(self, messages: List[Message], error: Optional[MemphisError]) -> None:
        if self.stopped.is_set():
            return
        done = threading.Event()
        try:
            self.loop.call_soon_threadsafe(self._dispatch, messages, error, done)
        except RuntimeError:  # the loop is closed: nobody can handle messages
            self.stopped.set()
            return
        previous, self.previous_done = self.previous_done, done
        if previous is None:
            return
        # Never wait past a stop: the loop may be gone.
        while not previous.wait(0.25):
            if self.stopped.is_set() or self.loop.is_closed():
                return

    def _dispatch(self, messages: List[Message], error: Optional[MemphisError], done: threading.Event) -> None:
        if self.stopped.is_set():
            done.set()
            return
        task = self.loop.create_task(self._invoke(self.last_task, messages, error, done))
        self.last_task = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _invoke(
        self,
        previous: Optional[asyncio.Task[None]],
        messages: List[Message],
        error: Optional[MemphisError],
        done: threading.Event,
    ) -> None:
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])  # keep handler calls in batch order
            if self.stopped.is_set():
                return
            consumer = self.consumer_ref()
            context = consumer.context if consumer is not None else {}
            result = self.handler(messages, error, context)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("memphis: consume handler raised; the consumer keeps going")
        finally:
            done.set()


@_native.CONSUME_CB
def _on_batch(msgs: Any, count: int, status: int, message: Optional[bytes], user_data: Optional[int]) -> None:
    # Runs on a library thread. Wrap every message at once: the wrapper's
    # finalizer releases it, whatever happens to the batch afterwards.
    batch = [Message(msgs[i]) for i in range(count)]
    state = _registry.lookup(user_data)
    if state is None:
        return
    error: Optional[MemphisError] = None
    if status == _native.NO_MESSAGES:
        error = MemphisError(TIMEOUT_TEXT)
    elif status != _native.OK:
        error = _native.error_from(status, message)
    state.on_batch(batch, error)


def _release(handle: Any, tokens: list[int], states: list[_ConsumeState]) -> None:
    """Finalizer of a consumer that was never destroyed: destroy it off-loop."""
    for st in states:
        st.stopped.set()

    def work() -> None:
        try:
            _native.consumer_destroy(handle)
        except MemphisError:
            pass
        finally:
            for t in tokens:
                _registry.unregister(t)

    try:
        executor().submit(work)
    except RuntimeError:  # interpreter shutting down
        pass


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
        self._tokens: List[int] = []
        self._states: List[_ConsumeState] = []
        self._consuming: Optional[_ConsumeState] = None
        self._destroyed: Optional[Pending[None]] = None
        self._finalizer = weakref.finalize(self, _release, handle, self._tokens, self._states)

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
        happen every ``pull_interval_ms``; the next pull waits for the
        callback to finish. Must be called on the running event loop.
        """
        if self._destroyed is not None:
            raise MemphisError(f"consumer {self.consumer_name} was destroyed")
        if not callable(callback):
            raise MemphisError("consume needs a callable message handler")
        if (
            consumer_partition_key is not None
            and consumer_partition_number is not None
            and consumer_partition_number > 0
        ):
            raise MemphisError("Can not use both partition number and partition key")
        if self._consuming is not None and not self._consuming.stopped.is_set():
            raise MemphisError(f"consumer {self.consumer_name} is already consuming; call stop_consume() first")
        loop = asyncio.get_running_loop()
        state = _ConsumeState(self, callback, loop)
        token = _registry.register(state)
        try:
            _native.consumer_consume(
                self._handle,
                _on_batch,
                token,
                consumer_partition_key,
                consumer_partition_number if consumer_partition_number and consumer_partition_number > 0 else 0,
            )
        except BaseException:
            _registry.unregister(token)
            raise
        self._tokens.append(token)
        self._states.append(state)
        self._consuming = state

    def stop_consume(self) -> Pending[None]:
        """Stop the consume loop (no handler call starts afterwards).

        Works with or without await; awaiting waits for the running handler.
        """
        state = self._consuming
        self._consuming = None
        if state is None:
            return Pending.completed("stop_consume", None)
        state.stopped.set()
        handle = self._handle

        def work() -> None:
            try:
                _native.consumer_stop(handle)
            except MemphisError as exc:
                if exc.code not in ("MEMPHIS_ERR_CLOSED", "MEMPHIS_ERR_INVALID_HANDLE"):
                    raise

        return start(f"stopping consumer {self.consumer_name}", work)

    async def fetch(
        self,
        batch_size: Optional[int] = None,
        consumer_partition_key: Optional[str] = None,
        consumer_partition_number: int = -1,
        prefetch: bool = False,
    ) -> List[Message]:
        """Fetch one batch (up to ``batch_size``, default the consumer's 10).

        Returns ``[]`` when nothing arrived within ``batch_max_time_to_wait_ms``.
        ``prefetch`` is accepted for compatibility; the library buffers itself.
        """
        del prefetch
        if self._destroyed is not None:
            raise MemphisError(f"consumer {self.consumer_name} was destroyed")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)):
            raise MemphisError(f"batch_size must be an integer, got {batch_size!r}")
        if batch_size is not None and (batch_size < 1 or batch_size > 5000):
            raise MemphisError("Batch size can not be greater than 5000 or less than 1")
        if (
            consumer_partition_key is not None
            and consumer_partition_number is not None
            and consumer_partition_number > 0
        ):
            raise MemphisError("Can not use both partition number and partition key")
        handles = await run_blocking(
            _native.consumer_fetch,
            self._handle,
            batch_size or 0,
            consumer_partition_key,
            consumer_partition_number if consumer_partition_number and consumer_partition_number > 0 else 0,
        )
        return [Message(h) for h in handles]

    def destroy(self, timeout_retries: int = 5) -> Pending[None]:
        """Stop consuming and de-register the consumer. Works with or without await."""
        del timeout_retries
        if self._destroyed is not None:
            return self._destroyed
        self._finalizer.detach()
        for st in self._states:
            st.stopped.set()
        self._consuming = None
        handle, tokens = self._handle, list(self._tokens)
        self.connection._forget_consumer(self)

        def work() -> None:
            try:
                _native.consumer_destroy(handle)
            except MemphisError as exc:
                if "not exist" not in str(exc) and exc.code not in ("MEMPHIS_ERR_CLOSED",):
                    raise
            finally:
                for t in tokens:
                    _registry.unregister(t)

        self._destroyed = start(f"destroying consumer {self.consumer_name}", work)
        return self._destroyed

    async def __aenter__(self) -> Consumer:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.destroy()

    def _stop_for_close(self) -> None:
        """Connection closing: no handler call may start any more."""
        for st in self._states:
            st.stopped.set()

    def __repr__(self) -> str:
        return f"<memphis.Consumer {self.consumer_name} ({self.consumer_group}) <- {self.station_name}>"
