"""Pure-Python parts: types, exceptions, headers, message conversion, lookup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memphis import Headers, MemphisError, MemphisHeaderError, MemphisInvalidArgumentError, _capi, _locate, _native
from memphis._convert import message_bytes
from memphis.exceptions import MemphisConnectError, MemphisSchemaError
from memphis.headers import native_headers
from memphis.types import Retention, Storage


def test_enum_values_match_the_protocol():
    assert [r.value for r in Retention] == ["message_age_sec", "messages", "bytes", "ack_based"]
    assert Storage.DISK.value == "file" and Storage.MEMORY.value == "memory"
    assert Retention.MESSAGES == "messages"


def test_error_text_follows_memphis_py():
    assert str(MemphisError("Memphis: TimeoutError")) == "memphis: Memphis: TimeoutError"
    assert str(MemphisError("memphis: already prefixed")) == "memphis: already prefixed"
    assert str(MemphisError("nats: timeout")) == "memphis: timeout"
    assert issubclass(MemphisConnectError, MemphisError)
    assert issubclass(MemphisSchemaError, MemphisError)
    assert issubclass(MemphisHeaderError, MemphisError)
    assert issubclass(MemphisInvalidArgumentError, MemphisError)


def test_headers_refuse_what_a_header_cannot_carry_at_add(library):
    h = Headers()
    h.add("key", "value")
    assert h.headers == {"key": "value"}
    cases = [
        ("$memphis_producedBy", "x", r"should not start with \$memphis"),
        ("a b", "x", "printable ASCII without spaces"),
        ("a:b", "x", "printable ASCII without spaces"),
        ("k", "a\r\nInjected: 1", "line break or NUL"),
        ("k\x00", "x", "header key must not contain NUL"),
        ("k", "a\x00b", "must not contain NUL"),
        (1, "x", "header key must be a str, got int"),
        ("k", 1, "must be a str, got int"),
    ]
    for key, value, text in cases:
        with pytest.raises(MemphisHeaderError, match=text):
            h.add(key, value)  # type: ignore[arg-type]
    assert h.headers == {"key": "value"}  # refused headers were not kept


def test_plain_dict_headers_are_checked_too(library):
    assert native_headers(None) == (None, False)
    assert native_headers({}) == (None, False)
    hdrs, temporary = native_headers({"a": "b"})
    assert hdrs is not None and temporary
    hdrs.close()
    with pytest.raises(MemphisHeaderError):
        native_headers({"$memphis_x": "y"})
    with pytest.raises(MemphisHeaderError, match="Headers or a dict"):
        native_headers(["a"])  # type: ignore[arg-type]


def test_status_table_comes_from_the_library(library):
    L = _native.lib()
    assert L.statuses[_capi.ERR_TIMEOUT] == (MemphisError, "MEMPHIS_ERR_TIMEOUT")
    assert L.statuses[_capi.ERR_INVALID_ARGUMENT] == (MemphisInvalidArgumentError, "MEMPHIS_ERR_INVALID_ARGUMENT")
    assert L.statuses[_capi.ERR_HEADER][0] is MemphisHeaderError
    assert L.statuses[_capi.ERR_SCHEMA_VALIDATION][0] is MemphisSchemaError
    assert L.statuses[_capi.ERR_CLOSED][0] is MemphisConnectError
    # Every status the header defines is in the library's list, and back.
    defined = {v for k, v in vars(_capi).items() if k == "OK" or k.startswith("ERR_")}
    assert set(L.statuses) == defined
    err = _native.error_from(_capi.ERR_TIMEOUT, None)
    assert err.code == "MEMPHIS_ERR_TIMEOUT" and str(err) == "memphis: timed out"


def test_generated_files_are_fresh():
    # The ctypes declarations (and the other tables) come from include/memphis.h.
    gen = Path(__file__).resolve().parents[3] / "capi" / "gen_shims.py"
    out = subprocess.run([sys.executable, str(gen), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


class _FakeProto:
    def SerializeToString(self) -> bytes:
        return b"\x08\x01"


def test_message_conversion():
    assert message_bytes(b"x") == b"x"
    assert message_bytes(bytearray(b"y")) == b"y"
    assert message_bytes(memoryview(b"z")) == b"z"
    assert message_bytes("héllo") == "héllo".encode()
    assert json.loads(message_bytes({"a": 1})) == {"a": 1}
    assert message_bytes(_FakeProto()) == b"\x08\x01"
    with pytest.raises(MemphisError, match="Unsupported message type: int"):
        message_bytes(42)
    with pytest.raises(MemphisError, match="not JSON serialisable"):
        message_bytes({"a": object()})


def test_real_protobuf_and_graphql_objects():
    struct_pb2 = pytest.importorskip("google.protobuf.struct_pb2")
    v = struct_pb2.Value(string_value="hi")
    assert message_bytes(v) == v.SerializeToString()
    graphql = pytest.importorskip("graphql")
    doc = graphql.parse("query { hello }")
    assert message_bytes(doc) == b"query { hello }"


def test_library_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = tmp_path / "libmemphis.so"
    fake.write_bytes(b"")
    monkeypatch.setenv("MEMPHIS_LIBRARY", str(fake))
    assert _locate.find_library() == fake
    assert _locate.candidate_paths()[0] == fake
    monkeypatch.setenv("MEMPHIS_LIBRARY", str(tmp_path / "missing.so"))
    with pytest.raises(FileNotFoundError, match="MEMPHIS_LIBRARY"):
        _locate.find_library()
    monkeypatch.delenv("MEMPHIS_LIBRARY")
    paths = [str(p) for p in _locate.candidate_paths()]
    assert any(os.path.join("memphis", "_lib") in p for p in paths)
    assert paths.index(next(p for p in paths if "_lib" in p)) < paths.index(
        next(p for p in paths if os.path.join("build", "lib") in p)
    )


def test_import_does_not_load_the_library():
    code = "import memphis, memphis._native as n; print(n._lib is None)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"
