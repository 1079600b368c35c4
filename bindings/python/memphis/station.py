"""Stations: created by ``memphis.station(...)``, removed by ``destroy()``."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Generator

from . import _native
from ._ops import Pending, executor, start

if TYPE_CHECKING:
    from .memphis import Memphis

__all__ = ["Station"]


def _free_when_created(creation: Pending[Any]) -> None:
    def work() -> None:
        try:
            _native.station_free(creation.result())
        except Exception:
            pass  # creation failed: there is no handle to release

    try:
        executor().submit(work)
    except RuntimeError:  # interpreter shutting down
        pass


class Station:
    """A station. ``memphis.station(...)`` starts creating it at once.

    The object is usable straight away (``station.destroy()`` waits for the
    creation first); ``await`` it to wait for the creation and see its error.
    """

    def __init__(self, connection: Memphis, name: str, creation: Pending[Any]) -> None:
        self.connection = connection
        self.name = name.lower()
        self._creation = creation
        self._destroyed: Pending[None] | None = None
        # A station that is never destroyed only releases its handle (the
        # station stays on the broker).
        self._finalizer = weakref.finalize(self, _free_when_created, creation)

    def __await__(self) -> Generator[Any, None, Station]:
        yield from self._creation.__await__()
        return self

    def destroy(self, timeout_retries: int = 5) -> Pending[None]:
        """Remove the station with its messages, producers and consumers.

        Works awaited (``await station.destroy()``) and bare
        (``station.destroy()``); the bare form does the work in the
        background and logs a failure.
        """
        del timeout_retries  # the library retries control requests itself
        if self._destroyed is not None:
            return self._destroyed
        self._finalizer.detach()
        creation = self._creation

        def work() -> None:
            _native.station_destroy(creation.result())

        self._destroyed = start(f"destroying station {self.name}", work)
        return self._destroyed

    def __repr__(self) -> str:
        return f"<memphis.Station {self.name}>"
