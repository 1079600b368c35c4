"""Turning the message types the documented API accepts into bytes.

Schema validation (and the JSON-to-protobuf conversion a protobuf station
needs for dict input) happens in libmemphis, identically for every binding;
this module only picks the bytes to hand over. Protobuf messages and GraphQL
documents are recognised by duck typing so neither library is a dependency.
"""

from __future__ import annotations

import json
from typing import Any

from .exceptions import MemphisInvalidArgumentError

__all__ = ["message_bytes"]


def _graphql_source(message: Any) -> bytes | None:
    # graphql-core's DocumentNode keeps the parsed text in loc.source.body;
    # a document built by hand has no source, so print it if graphql is there.
    loc = getattr(message, "loc", None)
    source = getattr(loc, "source", None)
    body = getattr(source, "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    if type(message).__name__ == "DocumentNode":
        try:
            from graphql import print_ast  # type: ignore[import-not-found]
        except ImportError:
            return None
        return str(print_ast(message)).encode("utf-8")
    return None


def message_bytes(message: Any) -> bytes:
    """Return the payload bytes for ``message``.

    Accepted: ``bytes``, ``bytearray``, ``memoryview``, ``str`` (UTF-8),
    ``dict`` (JSON), a protobuf message (``SerializeToString()``) and a
    GraphQL ``DocumentNode`` (its source text).
    """
    if isinstance(message, bytes):
        return message
    if isinstance(message, (bytearray, memoryview)):
        return bytes(message)
    if isinstance(message, str):
        return message.encode("utf-8")
    if isinstance(message, dict):
        try:
            return json.dumps(message).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise MemphisInvalidArgumentError(
                f"Unsupported message type: dict is not JSON serialisable: {exc}"
            ) from exc
    serialize = getattr(message, "SerializeToString", None)
    if callable(serialize):
        data = serialize()
        if not isinstance(data, (bytes, bytearray)):
            raise MemphisInvalidArgumentError("Unsupported message type: SerializeToString() did not return bytes")
        return bytes(data)
    graphql = _graphql_source(message)
    if graphql is not None:
        return graphql
    raise MemphisInvalidArgumentError(
        f"Unsupported message type: {type(message).__name__} (use bytes, bytearray, str, dict, "
        "a protobuf message or a GraphQL document)"
    )
