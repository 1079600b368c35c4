"""Messages cross between this binding and the official memphis-py (PyPI)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

import official_sdk
from conftest import collect

SCRIPT = Path(__file__).resolve().parent / "interop_script.py"


@pytest.fixture(scope="module")
def official_python() -> Path:
    py, why = official_sdk.ensure()
    if py is None:
        pytest.skip(f"official memphis-py unavailable: {why}")
    return py


async def _run(py: Path, *args: str) -> str:
    def work() -> str:
        out = subprocess.run([str(py), str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    return await asyncio.get_running_loop().run_in_executor(None, work)


async def test_official_produces_binding_consumes(memphis, broker, name, official_python):
    st = name("interop")
    await memphis.station(name=st)
    await _run(official_python, "produce", broker.host, str(broker.port), st, "3")
    consumer = await memphis.consumer(station_name=st, consumer_name="binding", batch_max_time_to_wait_ms=300)
    got = await collect(consumer, 3)
    assert [bytes(m.get_data()) for m in got] == [b"official-0", b"official-1", b"official-2"]
    for i, m in enumerate(got):
        h = m.get_headers()
        assert h["origin"] == "memphis-py" and h["i"] == str(i)
        assert h["msg-id"] == f"official-id-{i}"
        assert h["$memphis_producedBy"] == "official"


async def test_binding_produces_official_consumes(memphis, broker, name, official_python):
    st = name("interop")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="binding")
    for i in range(3):
        await producer.produce(message=f"binding-{i}", headers={"origin": "libmemphis"}, msg_id=f"binding-id-{i}")
    out = json.loads(await _run(official_python, "consume", broker.host, str(broker.port), st, "3"))
    assert [m["data"] for m in out] == ["binding-0", "binding-1", "binding-2"]
    for i, m in enumerate(out):
        assert m["headers"]["origin"] == "libmemphis"
        assert m["headers"]["msg-id"] == f"binding-id-{i}"
        assert m["headers"]["$memphis_producedBy"] == "binding"
