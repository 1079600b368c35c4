"""Where the binding looks for libmemphis after the bundled and checkout copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from memphis import _locate


@pytest.fixture
def nothing_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MEMPHIS_LIBRARY, no bundled or checkout copy, empty /usr/local stand-ins."""
    monkeypatch.delenv("MEMPHIS_LIBRARY", raising=False)
    missing = [tmp_path / "bundled" / _locate.SONAME, tmp_path / "checkout" / _locate.SONAME]
    monkeypatch.setattr(_locate, "candidate_paths", lambda: list(missing))
    local = tmp_path / "usr-local-lib"
    local.mkdir()
    monkeypatch.setattr(_locate, "_LOCAL_DIRS", (local,))
    return local


def test_system_loader_is_asked_for_the_soname(nothing_bundled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setattr(_locate, "_loader_finds", lambda name: asked.append(name) or True)
    assert _locate.find_library() == Path("libmemphis.so.1")
    assert asked == ["libmemphis.so.1"]


def test_usr_local_lib_after_the_loader(nothing_bundled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_locate, "_loader_finds", lambda name: False)
    lib = nothing_bundled / _locate.SONAME
    lib.write_bytes(b"")
    assert _locate.find_library() == lib


def test_not_found_lists_every_place(nothing_bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_locate, "_loader_finds", lambda name: False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/x/lib")
    with pytest.raises(FileNotFoundError) as info:
        _locate.find_library()
    text = str(info.value)
    for place in (
        "MEMPHIS_LIBRARY (unset)",
        str(tmp_path / "bundled" / _locate.SONAME),
        str(tmp_path / "checkout" / _locate.SONAME),
        "system loader for libmemphis.so.1 (LD_LIBRARY_PATH: /opt/x/lib",
        str(nothing_bundled / _locate.SONAME),
    ):
        assert place in text
    assert "install the C package and run ldconfig" in text


def test_loader_probe_reports_a_missing_library() -> None:
    assert _locate._loader_finds("libmemphis-no-such-library.so.9") is False
