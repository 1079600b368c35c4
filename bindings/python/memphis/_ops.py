"""Running blocking library calls without blocking the event loop.

Every call into libmemphis that can wait on the network runs on a worker
thread; ctypes releases the GIL for the duration of the C call, so the event
loop and other threads keep running. ``Pending`` is what the calls that the
documented API shows both with and without ``await`` return: the work starts
at once, awaiting it gives the result (or raises), ignoring it is fine and a
failure is then logged instead of lost.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import weakref
from typing import Any, Callable, Coroutine, Generator, Generic, Optional, TypeVar

__all__ = ["Pending", "executor", "run_blocking", "running_loop", "start", "start_on_loop"]

T = TypeVar("T")
log = logging.getLogger("memphis")


class _DaemonPool(concurrent.futures.Executor):
    """A thread pool whose threads never hold up interpreter exit.

    concurrent.futures.ThreadPoolExecutor joins its threads at exit; a
    thread still inside a long library call (a fetch waiting for messages, a
    flush) would then hang the exit. These threads are daemons, start on
    demand and retire after a minute idle.
    """

    def __init__(self, max_workers: int) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._max = max_workers
        self._threads = 0
        self._idle = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((future, fn, args, kwargs))
        with self._lock:
            if self._idle == 0 and self._threads < self._max:
                self._threads += 1
                threading.Thread(target=self._work, name="memphis-worker", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                item = self._queue.get(timeout=60)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    self._threads -= 1
                return
            with self._lock:
                self._idle -= 1
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args, kwargs, item


_executor: Optional[_DaemonPool] = None
_executor_lock = threading.Lock()


def executor() -> _DaemonPool:
    """The binding's worker pool.

    Separate from asyncio's default executor, whose few threads would be
    taken up by long fetches (a fetch may wait seconds for messages).
    """
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = _DaemonPool(max_workers=64)
        return _executor


def running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on a worker thread and wait for it on the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor(), fn, *args)


def _report(what: str, exc: BaseException) -> None:
    log.error("memphis: %s failed (result not awaited): %s", what, exc)


class Pending(Generic[T]):
    """Work that has already started; ``await`` it for its result.

    Backed by a ``concurrent.futures.Future`` so worker threads can wait on
    it too. Without a running event loop the work runs synchronously in the
    call itself and errors are raised there, so plain scripts can use the
    bare form.
    """

    __slots__ = ("__weakref__", "_future", "_observed", "_what")

    def __init__(self, what: str, future: concurrent.futures.Future[T]) -> None:
        self._what = what
        self._future = future
        self._observed = False
        ref = weakref.ref(self)

        def on_done(f: concurrent.futures.Future[T]) -> None:
            # Dropped before it finished (the bare call form): report now.
            if ref() is None and not f.cancelled() and f.exception() is not None:
                _report(what, f.exception())  # type: ignore[arg-type]

        future.add_done_callback(on_done)

    @classmethod
    def completed(cls, what: str, value: T) -> Pending[T]:
        f: concurrent.futures.Future[T] = concurrent.futures.Future()
        f.set_result(value)
        p = cls(what, f)
        p._observed = True
        return p

    def __await__(self) -> Generator[Any, None, T]:
        self._observed = True
        return (yield from asyncio.wrap_future(self._future).__await__())

    def result(self, timeout: Optional[float] = None) -> T:
        """Block until done (for worker threads and sync code)."""
        self._observed = True
        return self._future.result(timeout)

    def done(self) -> bool:
        return self._future.done()

    def __del__(self) -> None:
        f = self._future
        if not self._observed and f.done() and not f.cancelled() and f.exception() is not None:
            _report(self._what, f.exception())  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<Pending {self._what} {'done' if self._future.done() else 'running'}>"


def start(what: str, fn: Callable[[], T]) -> Pending[T]:
    """Start ``fn`` now and return a ``Pending`` for it.

    On a running loop the call goes to a worker thread; without one it runs
    here and raises here.
    """
    if running_loop() is None:
        return Pending.completed(what, fn())
    return Pending(what, executor().submit(fn))


def start_on_loop(what: str, work: Callable[[], Coroutine[Any, Any, T]], fallback: Callable[[], T]) -> Pending[T]:
    """Like ``start``, for work that also waits on the event loop: on a
    running loop ``work()`` runs there as a task; without one ``fallback``
    runs here and raises here."""
    loop = running_loop()
    if loop is None:
        return Pending.completed(what, fallback())
    return Pending(what, asyncio.run_coroutine_threadsafe(work(), loop))

