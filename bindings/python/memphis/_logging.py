"""libmemphis' log events on the standard ``logging`` logger ``memphis``.

The library prints nothing. Its events (connected, disconnected,
reconnected, resends, slow consumers, failed nonblocking produces, schema
updates, retries; docs/statistics.md lists them with their levels) go to
one process-wide C log callback, called on one library thread. This module
installs a callback that passes each record to ``logging.getLogger("memphis")``
at the matching level, with the text as the message: the event, then its
details as ``key=value`` (``connection_id=...`` always).

The library only hands over records at or above the level the logger is
enabled for when a connection is made (``Memphis.connect`` syncs it), so a
disabled level costs nothing. The package adds a ``NullHandler`` to the
logger, as libraries should: nothing is printed unless the application
configures logging (``logging.basicConfig(level=logging.INFO)``, say).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any, Optional

from . import _capi, _native

logger = logging.getLogger("memphis")

# memphis_log_level_t -> logging level
_TO_PYTHON = {
    _capi.LOG_ERROR: logging.ERROR,
    _capi.LOG_WARN: logging.WARNING,
    _capi.LOG_INFO: logging.INFO,
    _capi.LOG_DEBUG: logging.DEBUG,
}


def _c_level(level: int) -> int:
    """The least severe library level a logger at ``level`` records."""
    if level <= logging.DEBUG:
        return int(_capi.LOG_DEBUG)
    if level <= logging.INFO:
        return int(_capi.LOG_INFO)
    if level <= logging.WARNING:
        return int(_capi.LOG_WARN)
    return int(_capi.LOG_ERROR)


def _on_log(level: int, message: Optional[bytes], _user_data: Any) -> None:
    # Runs on the library's log thread. Nothing may propagate into C.
    try:
        text = message.decode("utf-8", "replace") if message else ""
        logger.log(_TO_PYTHON.get(level, logging.WARNING), "%s", text)
    except Exception:  # a broken handler must not reach the library
        pass


# Kept referenced for as long as the library may call it.
_callback = _capi.LogCb(_on_log)
_lock = threading.Lock()
_installed: Optional[int] = None  # the C level installed, None = no callback yet


def sync() -> None:
    """Install the callback, or move its level to the logger's current one.

    ``memphis_set_log_callback`` may wait for a running callback: call this
    off the event loop (``Memphis.connect`` runs it on a worker thread)."""
    global _installed
    level = _c_level(logger.getEffectiveLevel())
    with _lock:
        if _installed == level:
            return
        first = _installed is None
        _native.check(_native.lib().set_log_callback, _callback, None, level)
        _installed = level
    if first:
        # Before the interpreter finalizes: a library thread calling into a
        # finalizing interpreter would hang or crash.
        atexit.register(_uninstall)


def _uninstall() -> None:
    global _installed
    with _lock:
        if _installed is None:
            return
        # A NULL callback (ctypes refuses None for a function pointer).
        _native.lib().set_log_callback(_capi.LogCb(), None, _capi.LOG_ERROR, None)
        _installed = None
