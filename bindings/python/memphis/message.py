"""Consumed messages."""

from __future__ import annotations

import ctypes
import datetime
import json
from ctypes import POINTER, c_bool, c_int, c_int64, c_size_t, c_uint64, c_void_p
from typing import Any, Dict, List, Optional

from . import _native
from ._ops import run_blocking
from .exceptions import MemphisInvalidArgumentError

__all__ = ["Message"]


class _AwaitableValue:
    """Mixin: ``await value`` gives the value itself.

    ``get_data_deserialized()`` is a coroutine in memphis-py and a plain call
    in this binding's contract; returning a value that is also awaitable lets
    both ``x = msg.get_data_deserialized()`` and ``await`` it work.
    """

    def __await__(self):  # type: ignore[no-untyped-def]
        if False:  # pragma: no cover - makes this a generator function
            yield
        return self


class _ADict(_AwaitableValue, dict):  # type: ignore[type-arg]
    pass


class _AList(_AwaitableValue, list):  # type: ignore[type-arg]
    pass


class _AStr(_AwaitableValue, str):
    pass


class _ABytes(_AwaitableValue, bytearray):
    pass


class _AInt(_AwaitableValue, int):
    pass


class _AFloat(_AwaitableValue, float):
    pass


def _awaitable(value: Any) -> Any:
    if isinstance(value, dict):
        return _ADict(value)
    if isinstance(value, list):
        return _AList(value)
    if isinstance(value, str):
        return _AStr(value)
    if isinstance(value, (bytearray, bytes, memoryview)):
        return _ABytes(value)
    if isinstance(value, float):
        return _AFloat(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _AInt(value)
    return value


class Message:
    """A message received by ``consume``, ``fetch`` or ``fetch_messages``.

    The library's copy is released when the object is garbage collected.
    """

    __slots__ = ("_data", "_handle", "_headers", "_len", "_ptr")

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._data: Optional[bytes] = None
        self._headers: Optional[Dict[str, str]] = None
        # The payload's address in the library (borrowed until the handle is
        # destroyed, which only __del__ does), when wrap_batch read it.
        self._ptr: Optional[int] = None
        self._len = 0

    def __del__(self) -> None:
        # Cheaper than weakref.finalize for thousands of messages a second;
        # msg_destroy never raises.
        try:
            _native.msg_destroy(self._handle)
        except Exception:  # interpreter shutdown: modules already torn down
            pass

    def get_data(self) -> bytearray:
        """The payload, as a ``bytearray`` like memphis-py returns it."""
        if self._data is None:
            ptr = self._ptr
            if ptr is not None:
                self._data = ctypes.string_at(ptr, self._len)
            else:
                self._data = _native.msg_data(self._handle)
        return bytearray(self._data)

    def get_data_deserialized(self) -> Any:
        """The payload decoded with the station's schema, as memphis-py does.

        No schema -> the raw payload (``bytearray``, even when it looks like
        JSON); json/avro -> the decoded JSON value; graphql -> ``str`` (the
        query text); protobuf -> ``dict`` (its JSON mapping; deviation:
        memphis-py returns the generated message object, which needs the
        user's compiled classes). Raises ``MemphisSchemaError`` when the
        payload does not match the station's schema. memphis-py code awaits
        this call; the result can be awaited (it is then the value itself).
        """
        schema_type = _native.msg_text("msg_schema_type", self._handle)
        if not schema_type:
            return _awaitable(self.get_data())
        text = _native.msg_text("msg_deserialize", self._handle)
        if schema_type == "graphql":
            return _awaitable(text)
        return _awaitable(json.loads(text))

    def get_headers(self) -> Dict[str, str]:
        """Headers as received: the user's plus the ``$memphis_*`` ones."""
        if self._headers is None:
            self._headers = _native.msg_headers(self._handle)
        return dict(self._headers)

    def get_sequence_number(self) -> int:
        """The message's sequence number in its station (partition)."""
        return int(_native.msg_scalar("msg_sequence", self._handle, c_uint64))

    def get_timesent(self) -> datetime.datetime:
        """When the broker stored the message (UTC, timezone-aware)."""
        ms = _native.msg_scalar("msg_time_sent", self._handle, c_int64)
        return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)

    def is_dls(self) -> bool:
        """True for a poison message re-sent from the dead-letter station."""
        return bool(_native.msg_scalar("msg_is_dls", self._handle, c_bool))

    def get_partition(self) -> int:
        """The partition the message came from (1-based)."""
        return int(_native.msg_scalar("msg_partition", self._handle, c_int))

    async def ack(self) -> None:
        """Acknowledge: the group will not get the message again.

        Like memphis-py (a plain ``+ACK``), this does not wait for the
        broker's confirmation: it only queues the ack on the connection, on
        the calling thread, and never blocks the event loop. Delivery is
        at-least-once: an ack lost with the connection (broker restart,
        network drop) means the message is redelivered after
        ``max_ack_time_ms``. ``close()`` and ``consumer.destroy()`` write
        queued acks out first. Use ``Message.ack_many`` to have the broker
        confirm a batch of acks.
        """
        # Only buffers the ack on the connection: safe on the event-loop thread.
        # The hot path of consuming: no error object unless the call fails.
        L = _native.lib()
        if L.msg_ack_nowait(self._handle, None) != _native.OK:
            # Again, for the error text. A failed call sent nothing, and a
            # repeated ack is harmless (the broker ignores it).
            _native.check(L.msg_ack_nowait, self._handle)

    @staticmethod
    async def ack_many(messages: List[Message]) -> None:
        """Acknowledge many messages in one library call and wait until the
        broker confirms them (pipelined: about one round trip per call).

        Use it when an acknowledged message must never come back (for
        example before committing side effects elsewhere).
        """
        if not isinstance(messages, list) or not all(isinstance(m, Message) for m in messages):
            raise MemphisInvalidArgumentError("messages must be a list of memphis.Message")
        if messages:
            await run_blocking(_native.msgs_ack, [m._handle for m in messages])

    async def nack(self) -> None:
        """Ask for immediate redelivery (counts towards max_msg_deliveries)."""
        await run_blocking(_native.check, _native.lib().msg_nack, self._handle)

    async def delay(self, delay: float) -> None:
        """Redeliver after ``delay`` seconds (counts towards max_msg_deliveries)."""
        ms = _native.milliseconds(delay, "delay")
        await run_blocking(_native.check, _native.lib().msg_delay, self._handle, ms)

    async def dead_letter(self, reason: str) -> None:
        """Send the message to the dead-letter station with ``reason``."""
        await run_blocking(_native.check, _native.lib().msg_dead_letter, self._handle, _native.text(reason, "reason"))

    def __repr__(self) -> str:
        return f"<memphis.Message seq={self.get_sequence_number()}>"


def wrap_batch(arr: Any, count: int) -> List[Message]:
    """The messages of a received array of ``count`` ids (a
    ``POINTER(c_void_p)`` or the array's address), which is freed here.

    Every id is wrapped before anything else (the wrapper releases it,
    whatever happens next); then one library call (memphis_msgs_data) reads
    every payload's address, so ``get_data`` crosses into the library no
    more: one call per batch instead of one per message.
    """
    if not arr:
        return []
    if isinstance(arr, int):
        arr = ctypes.cast(c_void_p(arr), POINTER(c_void_p))
    L = _native.lib()
    try:
        messages = [Message(h) for h in arr[:count]]
        ptrs = (c_void_p * count)()
        lens = (c_size_t * count)()
        if L.msgs_data(arr, count, ptrs, lens, None) == _native.OK:
            for msg, ptr, n in zip(messages, ptrs, lens):
                msg._ptr = ptr
                msg._len = n
        # else: each get_data asks the library (and reports its error).
    finally:
        L.free(arr)
    return messages
