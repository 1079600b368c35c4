"""Objects the library may call back into, kept alive by integer tokens.

The library hands a ``void *user_data`` back to every callback; we pass a
small integer and look the target up here, so no Python object address
crosses the boundary and nothing the library can still call is collected.
Entries are removed only after the library promised no further calls
(producer flushed and destroyed, consumer stopped and destroyed, batch
fully reported).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Dict, Optional

__all__ = ["live_count", "lookup", "register", "unregister"]

_items: Dict[int, Any] = {}
_lock = threading.Lock()
_ids = itertools.count(1)


def register(obj: Any) -> int:
    token = next(_ids)
    with _lock:
        _items[token] = obj
    return token


def lookup(token: Optional[int]) -> Any:
    if token is None:
        return None
    return _items.get(token)


def unregister(token: int) -> None:
    with _lock:
        _items.pop(token, None)


def live_count() -> int:
    """How many callback targets are registered (tests check for leaks)."""
    with _lock:
        return len(_items)
