"""The official memphis-py (PyPI) against memphis-devbroker, and interop with this binding.

Messages cross between the two SDKs, and memphis-py's README scenarios behave as on the
real broker: msg-id de-duplication, partitions by key and round robin, repeated fetches
on a drained partitioned station, start sequence and last messages, dead letters.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

import official_sdk
from conftest import collect

SCRIPT = Path(__file__).resolve().parent / "interop_script.py"


@pytest.fixture(scope="module")
def official_python() -> Path:
    py, why = official_sdk.ensure()
    if py is None:
        pytest.skip(f"official memphis-py {official_sdk.VERSION} unavailable: {why}")
    return py


async def _run(py: Path, mode: str, broker: Any, station: str, *args: str) -> Dict[str, Any]:
    """Run one interop_script.py scenario under memphis-py and return its JSON."""

    def work() -> Dict[str, Any]:
        cmd = [str(py), str(SCRIPT), mode, broker.host, str(broker.port), station, *args]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        result: Dict[str, Any] = json.loads(out.stdout)
        return result

    return await asyncio.get_running_loop().run_in_executor(None, work)


async def test_official_produces_binding_consumes(memphis, broker, name, official_python):
    st = name("interop")
    await memphis.station(name=st)
    await _run(official_python, "produce", broker, st, "3")
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
    out = (await _run(official_python, "consume", broker, st, "3"))["messages"]
    assert [m["data"] for m in out] == ["binding-0", "binding-1", "binding-2"]
    for i, m in enumerate(out):
        assert m["headers"]["origin"] == "libmemphis"
        assert m["headers"]["msg-id"] == f"binding-id-{i}"
        assert m["headers"]["$memphis_producedBy"] == "binding"


async def test_official_msg_id_is_deduplicated(broker, name, official_python):
    # memphis-py sends only "msg-id"; the second and third produce with id 123 are
    # duplicates, acknowledged and not stored, as on the real broker.
    out = await _run(official_python, "dedup", broker, name("dedup"))
    assert out["data"] == ["order-123", "order-124"]


async def test_official_partitions_by_key_number_and_round_robin(broker, name, official_python):
    out = await _run(official_python, "partitions", broker, name("parts"))
    # user-1 hashes to the third of 3 partitions (protocol doc §6.1); round robin put
    # rr-2 and rr-5 there too, and rr-1, rr-4 on partition 2.
    assert out["keyed"] == ["key-0", "key-1", "key-2", "key-3", "rr-2", "rr-5"]
    assert out["number_2"] == ["number-2", "rr-1", "rr-4"]
    assert out["drained"] == [0, 0, 0, 0, 0]


async def test_official_repeated_fetch_on_drained_partitioned_station(broker, name, official_python):
    # 120 fetches (20 groups x 6 rounds, concurrently, by key and round robin) on a
    # drained station: each returns [] after its 5 s wait and none raises. Before the
    # broker answered nats-py's no_wait probe at once, a few percent of these raised
    # MemphisError("memphis: ") (see devbroker/pull_probe.go).
    out = await _run(official_python, "drained", broker, name("drained"), "20", "6")
    assert out["errors"] == []
    assert out["fetches"] == 120 and out["messages"] == 20  # the one message, once per group


async def test_official_start_sequence_and_last_messages(broker, name, official_python):
    out = await _run(official_python, "history", broker, name("history"))
    assert out["from_seq"] == ["8", "9", "10"]
    assert out["last"] == ["9", "10"]


async def test_official_dead_letters(broker, name, official_python):
    st = name("dls")
    out = await _run(official_python, "dls", broker, st)
    # max_msg_deliveries=2: two deliveries, then the broker resends it to the group.
    assert out["deliveries"] == 2
    assert out["resent"] == "poison pill"
    h = out["resent_headers"]
    assert h["kind"] == "bad" and h["$memphis_pm_cg_name"] == "worker" and h["$memphis_producedBy"] == "$memphis_dls"
    assert out["schema_error"].startswith("memphis: Schema validation has failed")
    # Both dead letters were forwarded to the DLS station.
    fwd = out["forwarded"]
    assert [m["data"] for m in fwd] == ["poison pill", '{"amount":"not a number"}']
    assert fwd[0]["headers"]["type"] == "unacked" and fwd[0]["headers"]["station"] == st
    assert fwd[1]["headers"]["type"] == "failed_schema" and fwd[1]["headers"]["station"] == st
