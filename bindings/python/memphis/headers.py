"""User message headers."""

from __future__ import annotations

from typing import Dict, Iterator, Mapping, Optional, Union

from ._native import NativeHeaders
from .exceptions import MemphisHeaderError

__all__ = ["Headers", "native_headers"]


class Headers:
    """Headers to send with a message.

    ``headers.add(key, value)`` refuses at once (``MemphisHeaderError``)
    what a message header cannot carry: keys starting with ``$memphis``,
    keys that are not printable ASCII without spaces or ``:``, values with a
    line break or NUL. The rules are the library's; the headers are kept in
    a library object that produce uses as it is.
    """

    def __init__(self) -> None:
        self.headers: Dict[str, str] = {}
        self._native: Optional[NativeHeaders] = None
        self._added: Dict[str, str] = {}  # what _native holds

    def add(self, key: str, value: str) -> None:
        """Add (or replace) one header."""
        if self._native is None:
            self._native = NativeHeaders()
        self._native.add(key, value)
        self.headers[key] = value
        self._added[key] = value

    def __len__(self) -> int:
        return len(self.headers)

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers)

    def __repr__(self) -> str:
        return f"Headers({self.headers!r})"


def native_headers(headers: Union[Headers, Mapping[str, str], None]) -> tuple[Optional[NativeHeaders], bool]:
    """The library headers object for a produce call, and whether it is a
    temporary the caller must close. The documented API accepts both a
    ``Headers`` object and a plain dict."""
    if headers is None:
        return None, False
    if isinstance(headers, Headers):
        if headers._native is not None and headers.headers == headers._added:
            return headers._native, False  # not changed behind add()
        items: Mapping[str, str] = headers.headers
    elif isinstance(headers, Mapping):
        items = headers
    else:
        raise MemphisHeaderError(f"headers must be a memphis.Headers or a dict, got {type(headers).__name__}")
    if not items:
        return None, False
    out = NativeHeaders()
    try:
        for key, value in items.items():
            out.add(key, value)
    except BaseException:
        out.close()
        raise
    return out, True
