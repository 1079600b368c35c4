"""Station option values, spelled as the broker expects them on the wire.

The members are ``str`` enums so they compare equal to the protocol strings
(``Retention.MESSAGES == "messages"``) and can be passed wherever a string is.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Retention", "Storage"]


class Retention(str, Enum):
    """How a station decides which messages to drop (``retention_type``)."""

    MAX_MESSAGE_AGE_SECONDS = "message_age_sec"
    MESSAGES = "messages"
    BYTES = "bytes"
    ACK_BASED = "ack_based"


class Storage(str, Enum):
    """Where a station keeps its messages (``storage_type``)."""

    DISK = "file"
    MEMORY = "memory"
