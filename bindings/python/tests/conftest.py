"""Fixtures: a real memphis-devbroker per test session, connections to it.

The broker is started the way every suite starts it
(`--port 0 --data-dir TMP --ready-file TMP/ready`); the binary and the
library are built first when missing, so `pytest` works in a fresh checkout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator, Tuple

import pytest

BINDING = Path(__file__).resolve().parent.parent
REPO = BINDING.parent.parent
BROKER_BIN = Path(os.environ.get("MEMPHIS_DEVBROKER") or REPO / "build" / "bin" / "memphis-devbroker")
LIBRARY = REPO / "build" / "lib" / "libmemphis.so"

# The package under test is this checkout's, whatever else is installed.
sys.path.insert(0, str(BINDING))

USERNAME = "root"
PASSWORD = "memphis"
TOKEN = "memphis"

# Consumer options for tests: drained fetches return fast.
FAST = {"batch_max_time_to_wait_ms": 300, "pull_interval_ms": 50}


def _build(what: str, cmd: list) -> None:
    if shutil.which(cmd[0]) is None:
        return
    print(f"conftest: building {what}: {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, cwd=REPO, check=False, stdout=sys.stderr, stderr=sys.stderr)


def _ensure_built() -> None:
    if not BROKER_BIN.exists():
        _build("memphis-devbroker", ["go", "build", "-o", str(BROKER_BIN), "./cmd/memphis-devbroker"])
    if not os.environ.get("MEMPHIS_LIBRARY") and (not LIBRARY.exists() or _library_stale()):
        _build("libmemphis.so", ["make", "lib"])


def _library_stale() -> bool:
    """True when the C API sources are newer than the built library (a new
    header function would otherwise fail to load as an undefined symbol)."""
    built = LIBRARY.stat().st_mtime
    sources = [REPO / "include" / "memphis.h", *(REPO / "capi").glob("*.go"), *(REPO / "capi").glob("*.c")]
    return any(p.stat().st_mtime > built for p in sources if p.exists())


class Broker:
    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.host = host
        self.port = port
        self.data_dir = data_dir


def start_broker(workdir: Path, *extra: str, port: int = 0) -> Tuple[subprocess.Popen, Broker]:
    """Start memphis-devbroker and wait (up to 60 s) for its ready file.
    port 0 picks a free one; a restart passes the port it had, and reuses
    workdir's data dir."""
    ready = workdir / "ready"
    ready.unlink(missing_ok=True)
    log = open(workdir / "broker.log", "ab")
    proc = subprocess.Popen(
        [str(BROKER_BIN), "--port", str(port), "--data-dir", str(workdir / "data"), "--ready-file", str(ready), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text().strip():
            host, _, port = ready.read_text().strip().rpartition(":")
            return proc, Broker(host, int(port), workdir / "data")
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_broker(proc)
    raise RuntimeError("memphis-devbroker did not start:\n" + (workdir / "broker.log").read_text())


def pause_broker(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGSTOP the broker and wait until every thread of it is stopped.

    The kernel stops a process only once the thread picked to take the
    signal runs; until then its other threads keep serving. On a loaded
    machine that takes milliseconds to seconds, so a test that produced
    right after kill() would find its messages acknowledged by a broker it
    believes paused."""
    proc.send_signal(signal.SIGSTOP)
    tasks = Path(f"/proc/{proc.pid}/task")
    deadline = time.monotonic() + timeout
    while True:
        states = set()
        for stat in tasks.glob("*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue  # a thread that just ended
            states.add(text[text.rindex(")") + 2])
        if states and states <= {"T", "t"}:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"memphis-devbroker did not stop within {timeout} s (thread states {states})")
        time.sleep(0.002)


def stop_broker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    _ensure_built()
    if not BROKER_BIN.exists():
        pytest.skip(f"{BROKER_BIN} is not built (needs Go and cmd/memphis-devbroker)")
    workdir = Path(tempfile.mkdtemp(prefix="memphis-py-test-"))
    proc, info = start_broker(workdir)
    try:
        yield info
    finally:
        stop_broker(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def library() -> Path:
    _ensure_built()
    from memphis import _locate

    try:
        return _locate.find_library()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture
async def memphis(broker: Broker, library: Path) -> AsyncIterator[object]:
    from memphis import Memphis

    conn = Memphis()
    await conn.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def name() -> NameFactory:
    return NameFactory()


class NameFactory:
    """Unique, valid Memphis names so tests never share a station."""

    def __call__(self, prefix: str = "t") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def eventually(predicate, timeout: float = 30.0, interval: float = 0.02) -> None:
    """Wait until ``predicate()`` is true (generous deadline, no fixed sleeps)."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def collect(consumer, count: int, timeout: float = 30.0, ack: bool = True) -> list:
    """Fetch from ``consumer`` until ``count`` messages arrived."""
    got: list = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"got {len(got)} of {count} messages within {timeout} s")
        batch = await consumer.fetch()
        for m in batch:
            if ack:
                await m.ack()
        got.extend(batch)
    return got
