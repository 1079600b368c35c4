"""User message headers."""

from __future__ import annotations

from typing import Dict, Iterator, Mapping, Optional, Union

from .exceptions import MemphisHeaderError

__all__ = ["Headers", "normalise_headers"]

_RESERVED_PREFIX = "$memphis"


def _check(key: object, value: object) -> None:
    if not isinstance(key, str):
        raise MemphisHeaderError(f"Header keys must be strings, got {type(key).__name__}")
    if not isinstance(value, str):
        raise MemphisHeaderError(f"Header values must be strings, got {type(value).__name__} for key {key!r}")
    if key.startswith(_RESERVED_PREFIX):
        raise MemphisHeaderError("Keys in headers should not start with $memphis")


class Headers:
    """Headers to send with a message.

    ``headers.add(key, value)`` rejects keys starting with ``$memphis``, which
    the SDK reserves for its own headers.
    """

    def __init__(self) -> None:
        self.headers: Dict[str, str] = {}

    def add(self, key: str, value: str) -> None:
        """Add (or replace) one header."""
        _check(key, value)
        self.headers[key] = value

    def __len__(self) -> int:
        return len(self.headers)

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers)

    def __repr__(self) -> str:
        return f"Headers({self.headers!r})"


def normalise_headers(
    headers: Union[Headers, Mapping[str, str], None],
) -> Optional[Dict[str, str]]:
    """Return the user headers as a checked dict (``None`` when there are none).

    The documented API accepts both a ``Headers`` object and a plain dict.
    """
    if headers is None:
        return None
    items: Mapping[str, str]
    if isinstance(headers, Headers):
        items = headers.headers
    elif isinstance(headers, Mapping):
        items = headers
    else:
        raise MemphisHeaderError(f"headers must be a memphis.Headers or a dict, got {type(headers).__name__}")
    if not items:
        return None
    out: Dict[str, str] = {}
    for key, value in items.items():
        _check(key, value)
        out[key] = value
    return out
