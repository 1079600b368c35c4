"""Sync produce through the library's event queue (memphis._events)."""

from __future__ import annotations

import asyncio

from memphis import _events

from conftest import collect

FAST = {"batch_max_time_to_wait_ms": 300, "pull_interval_ms": 50}


async def test_concurrent_sync_produces_all_settle(memphis, name):
    # Many reports arrive in one poll batch: each future gets its own result.
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await asyncio.gather(*(producer.produce(message=f"m-{i}") for i in range(200)))
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_size=200, **FAST)
    msgs = await collect(consumer, 200)
    assert sorted(m.get_data().decode() for m in msgs) == sorted(f"m-{i}" for i in range(200))
    assert not _events._get().waiters  # nothing left waiting


async def test_cancelled_sync_produce_leaves_no_waiter(memphis, name):
    producer = await memphis.producer(station_name=name("st"), producer_name="p")
    tasks = [asyncio.ensure_future(producer.produce(message=b"x")) for _ in range(20)]
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert not _events._get().waiters
    await producer.produce(message=b"after")  # the poller still serves the next call
    assert not _events._get().waiters


async def test_sync_produce_with_options_uses_queue(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message=b"h", headers={"k": "v"}, msg_id="id-1", ack_wait_sec=5)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1)
    assert msg.get_data() == b"h"
    assert msg.get_headers()["k"] == "v"
