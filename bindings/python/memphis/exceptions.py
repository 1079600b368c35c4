"""Exceptions raised by the binding.

The message rules follow the documented Python SDK so existing ``except`` and
``str(e)`` checks keep working: NATS wording becomes "memphis" and every text
starts with ``memphis:``.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "MemphisConnectError",
    "MemphisError",
    "MemphisHeaderError",
    "MemphisInvalidArgumentError",
    "MemphisSchemaError",
]


def _normalise(message: str) -> str:
    for word in ("NatsError", "nats", "NATS", "Nats"):
        message = message.replace(word, "MemphisError" if word == "NatsError" else "memphis")
    return message


class MemphisError(Exception):
    """Base class of every error the binding raises.

    ``message`` holds the normalised text without the ``memphis: `` prefix;
    ``code`` is the library status name (for example
    ``"MEMPHIS_ERR_TIMEOUT"``) when libmemphis reported the error, else
    ``None``.

    For a failed delivery (a synchronous ``produce()``, ``produce_batch()``)
    ``retries`` says how often the message was sent again after its first
    send and ``possible_duplicate`` whether it was sent more than once
    without a ``msg_id`` (see ``memphis.Delivery``); for every other error
    they are 0 and False. A delivery fails only when its ack wait (counted
    from the call) passes or the producer or connection is closed; the
    codes are ``MEMPHIS_ERR_TIMEOUT`` (the text says whether the message was
    ever sent: if it was, it may have been stored),
    ``MEMPHIS_ERR_UNREACHABLE`` (the broker was unavailable until the
    deadline), ``MEMPHIS_ERR_NOT_FOUND`` (the station or partition does not
    exist), ``MEMPHIS_ERR_CLOSED``, and the refusals that are never retried
    (``MEMPHIS_ERR_PAYLOAD_TOO_LARGE``, ``MEMPHIS_ERR_SCHEMA_VALIDATION``,
    ``MEMPHIS_ERR_HEADER``, ``MEMPHIS_ERR_BROKER`` with the broker's text).
    """

    retries: int = 0
    possible_duplicate: bool = False

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        message = _normalise(str(message))
        self.message = message
        self.code = code
        if message.startswith("memphis:"):
            super().__init__(message)
        else:
            super().__init__("memphis: " + message)


class MemphisConnectError(MemphisError):
    """Connecting failed, or an operation needs a connection that is gone."""


class MemphisSchemaError(MemphisError):
    """A message does not match the schema enforced on its station."""


class MemphisHeaderError(MemphisError):
    """A header is not allowed: a key starting with ``$memphis``, a key that
    is not printable ASCII without spaces or ``:``, or a value holding a line
    break or NUL (a message header cannot carry those)."""


class MemphisInvalidArgumentError(MemphisError):
    """An argument has the wrong type, cannot be passed to the library (a
    string holding a NUL byte) or is out of range. The message names the
    parameter."""
