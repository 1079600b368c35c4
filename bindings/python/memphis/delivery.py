"""What the broker answered for one produced message."""

from __future__ import annotations

__all__ = ["Delivery"]


class Delivery:
    """The delivery result of one stored message, returned by a synchronous
    ``produce()`` and, one per message, by ``produce_batch()``.

    *Delivered* means the broker acknowledged that it stored the message; a
    stored message survives a broker crash or restart. When the connection
    drops, the library keeps every message not yet acknowledged and sends
    it again once the broker is back (in order, before any later message of
    the producer), and it retries overload answers, all within the
    message's ack wait. So a broker crash or restart delays the result
    instead of failing it.

    Attributes:
        sequence: the message's sequence number in its station (for a
            producer of several stations: in the first station that
            acknowledged it).
        retries: how often the message was sent again after its first send
            (after a reconnect or an overload answer); 0 = sent once. For a
            producer of several stations, the highest count among them.
        possible_duplicate: the message was sent more than once without a
            ``msg_id`` (and the producer is not idempotent), so the station
            may hold it twice. With a ``msg_id`` the broker drops the second
            copy within the station's idempotency window.

    The same ``retries`` and ``possible_duplicate`` attributes are set on the
    ``MemphisError`` raised for a failed delivery.
    """

    __slots__ = ("possible_duplicate", "retries", "sequence")

    def __init__(self, sequence: int, retries: int = 0, possible_duplicate: bool = False) -> None:
        self.sequence = sequence
        self.retries = retries
        self.possible_duplicate = possible_duplicate

    def _merge(self, other: Delivery) -> None:
        """Fold in the report of the same message from another station."""
        self.retries = max(self.retries, other.retries)
        self.possible_duplicate = self.possible_duplicate or other.possible_duplicate

    def __repr__(self) -> str:
        return (
            f"Delivery(sequence={self.sequence}, retries={self.retries}, possible_duplicate={self.possible_duplicate})"
        )
