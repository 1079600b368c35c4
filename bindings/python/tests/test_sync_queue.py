"""Sync produce through the library's event queue (memphis._events), which
the event loop watches through a wake-up pipe."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import threading
import time
import weakref

import pytest

from memphis import _capi, _events, _native
from memphis.exceptions import MemphisError

from conftest import FAST, collect


def _waiters() -> dict:
    return _events.loop_queue(asyncio.get_running_loop()).waiters


async def test_concurrent_sync_produces_all_settle(memphis, name):
    # Many reports arrive in one poll batch: each future gets its own result.
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await asyncio.gather(*(producer.produce(message=f"m-{i}") for i in range(200)))
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_size=200, **FAST)
    msgs = await collect(consumer, 200)
    assert sorted(m.get_data().decode() for m in msgs) == sorted(f"m-{i}" for i in range(200))
    assert not _waiters()  # nothing left waiting


async def test_cancelled_sync_produce_leaves_no_waiter(memphis, name):
    producer = await memphis.producer(station_name=name("st"), producer_name="p")
    tasks = [asyncio.ensure_future(producer.produce(message=b"x")) for _ in range(20)]
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert not _waiters()
    await producer.produce(message=b"after")  # the queue still serves the next call
    assert not _waiters()


async def test_sync_produce_with_options_uses_queue(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message=b"h", headers={"k": "v"}, msg_id="id-1", ack_wait_sec=5)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1)
    assert msg.get_data() == b"h"
    assert msg.get_headers()["k"] == "v"


async def test_each_loop_gets_its_own_queue_released_with_the_loop(memphis, broker, name):
    # A second event loop in another thread (its own connection) gets its
    # own queue and pipe; both loops' sync produces settle, and the second
    # loop's queue is released once that loop is gone.
    from memphis import Memphis

    st = name("st")
    await memphis.station(name=st)
    mine = _events.loop_queue(asyncio.get_running_loop())
    seen = {}

    async def other_loop() -> None:
        m = Memphis()
        await m.connect(host=broker.host, port=broker.port, username="root", password="memphis")
        try:
            p = await m.producer(station_name=st, producer_name="p2")
            await asyncio.gather(*(p.produce(message=b"other") for _ in range(50)))
            q = _events.loop_queue(asyncio.get_running_loop())
            seen["queue"] = q is not mine
            seen["waiters"] = len(q.waiters)
            seen["q"] = q
            seen["loop"] = weakref.ref(asyncio.get_running_loop())
        finally:
            await m.close()

    t = threading.Thread(target=lambda: asyncio.run(other_loop()))
    t.start()
    producer = await memphis.producer(station_name=st, producer_name="p1")
    await asyncio.gather(*(producer.produce(message=b"mine") for _ in range(50)))
    await asyncio.get_running_loop().run_in_executor(None, t.join)
    q, loop_ref = seen.pop("q"), seen.pop("loop")
    assert seen == {"queue": True, "waiters": 0}
    gc.collect()
    # The finished loop is gone, and with it (weakref.finalize) its queue
    # and pipe. The finalizer may be running on another thread: a collection
    # a library thread started clears the weak references first and then
    # runs the callbacks, which release the GIL in their ctypes calls (and
    # gc.collect() here returns at once while that collection runs). So
    # wait, boundedly, for the release instead of expecting it done.
    assert loop_ref() is None
    events = (_capi.Event * 1)()
    deadline = time.monotonic() + 10
    while True:
        status, exc = _native.call_status(
            _native.lib().queue_poll, q.queue, events, 1, 0, ctypes.byref(ctypes.c_size_t())
        )
        if status != _capi.OK or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    assert status == _capi.ERR_INVALID_HANDLE, exc  # destroyed, and the pipe closed
    assert not _waiters()


async def test_reports_arriving_together_all_settle(memphis, name):
    # More reports than one poll takes (_BATCH) are pending when the loop
    # wakes: the loop keeps polling until a poll comes back short.
    st = name("st")
    producer = await memphis.producer(station_name=st, producer_name="p")
    n = 3 * _events._BATCH + 7
    await asyncio.gather(*(producer.produce(message=b"x") for _ in range(n)))
    assert not _waiters()


async def test_failed_queue_fails_waiters_and_is_replaced(memphis, name):
    # A queue whose poll fails (here: its handle destroyed under it) fails
    # every waiting produce, stops watching its pipe (no busy loop on a
    # readable pipe), and the next sync produce gets a fresh queue.
    loop = asyncio.get_running_loop()
    producer = await memphis.producer(station_name=name("st"), producer_name="p")
    await producer.produce(message=b"before")
    q = _events.loop_queue(loop)
    waiter = loop.create_future()
    q.waiters[10**9] = waiter
    _native.check(_native.lib().queue_destroy, q.queue)
    os.write(q.wfd, b"x")
    with pytest.raises(MemphisError):
        await asyncio.wait_for(waiter, 30)
    assert q.failed is not None and not q.waiters
    assert loop.remove_reader(q.rfd) is False  # already unwatched
    await producer.produce(message=b"after")
    assert _events.loop_queue(loop) is not q


def test_queues_of_closed_loops_are_released_before_a_new_one(broker, library, name):
    # Each asyncio.run() gets a fresh loop; when the next one sets up its
    # queue, the queues of loops already closed are released even if those
    # loops are still referenced (here: kept alive on purpose).
    from memphis import Memphis

    st = name("st")
    kept = []

    async def one_run() -> None:
        m = Memphis()
        await m.connect(host=broker.host, port=broker.port, username="root", password="memphis")
        try:
            p = await m.producer(station_name=st, producer_name="p")
            await p.produce(message=b"x")
            kept.append((asyncio.get_running_loop(), _events.loop_queue(asyncio.get_running_loop())))
        finally:
            await m.close()

    asyncio.run(one_run())
    asyncio.run(one_run())
    (first_loop, first_q), (_, second_q) = kept
    assert first_loop.is_closed() and not first_q.release.alive  # released by the second run
    assert first_loop not in _events._queues
    assert second_q.release.alive  # the latest loop's queue waits for the next sweep or GC
