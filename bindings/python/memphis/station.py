"""Stations: created by ``memphis.station(...)``, removed by ``destroy()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generator

from . import _native
from ._ops import Pending, start

if TYPE_CHECKING:
    from .memphis import Memphis

__all__ = ["Station"]


class Station:
    """A station. ``memphis.station(...)`` starts creating it at once.

    The object is usable straight away (``station.destroy()`` waits for the
    creation first); ``await`` it to wait for the creation and see its error.
    """

    def __init__(self, connection: Memphis, name: str, creation: Pending[Any]) -> None:
        self.connection = connection
        self.name = name.lower()
        self._creation = creation

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

        def work() -> None:
            handle = self._creation.result()
            _native.station_destroy(handle)

        return start(f"destroying station {self.name}", work)

    def __repr__(self) -> str:
        return f"<memphis.Station {self.name}>"
