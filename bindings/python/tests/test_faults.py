"""The broker crashes mid-produce, through the FFI: memphis-devbroker runs
as a real process that is SIGKILLed and restarted on the same data dir.

Every produce gets exactly one result, all are acknowledged, and the station
holds exactly the produced messages, once each, in production order. The
random points come from a seed printed by the test; replay a run with
MEMPHIS_FAULT_SEED=<seed> (the C suite's variable).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from memphis import Delivery, Memphis

from conftest import PASSWORD, USERNAME, pause_broker, start_broker, stop_broker


@pytest.fixture
def workdir(library):
    path = Path(tempfile.mkdtemp(prefix="memphis-py-faults-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fault_seed(capsys) -> int:
    env = os.environ.get("MEMPHIS_FAULT_SEED")
    seed = int(env) if env else random.SystemRandom().randrange(2**32)
    with capsys.disabled():
        print(f"\nfault seed {seed} (replay with MEMPHIS_FAULT_SEED={seed})")
    return seed


async def test_crash_mid_produce(workdir, name, capsys):
    """Nonblocking produce in one stream; at a random point the broker is
    paused and 200 synchronous produces are sent to it (in flight: none can
    be acknowledged), then it is SIGKILLed; 300 more messages are produced
    while it is down (held by the library) and it restarts about a second
    later. The in-flight messages come back as Deliveries that were resent;
    the idempotent producer keeps the resends from being stored twice."""
    rnd = random.Random(fault_seed(capsys))
    before = rnd.randrange(2000, 10000)
    inflight, during, after = 200, 300, 2000
    down = rnd.uniform(0.8, 1.2)
    total = before + inflight + during + after

    proc, broker = start_broker(workdir)
    m = Memphis()
    try:
        await m.connect(
            host=broker.host,
            port=broker.port,
            username=USERNAME,
            password=PASSWORD,
            reconnect=True,
            max_reconnect=-1,
            reconnect_interval_ms=200,
        )
        st = name("crash")
        # Room for everything produced before the restart: the window never
        # blocks, so production order is call order.
        producer = await m.producer(
            station_name=st, producer_name="p", idempotent=True, ack_wait_ms=60000, max_in_flight=total
        )
        stream = [f"b{i:08d}".encode() for i in range(before + during + after)]
        for data in stream[:before]:
            await producer.produce(data, nonblocking=True)

        pause_broker(proc)
        held = [f"x{i:08d}".encode() for i in range(inflight)]
        syncs = [asyncio.ensure_future(producer.produce(data)) for data in held]
        # One turn of the loop runs each task up to its first wait: its
        # library call, which hands the message to the connection.
        await asyncio.sleep(0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        t_kill = time.monotonic()
        for data in stream[before : before + during]:
            await producer.produce(data, nonblocking=True)  # held while the broker is down
        await asyncio.sleep(down)
        proc, _ = await asyncio.get_running_loop().run_in_executor(
            None, lambda: start_broker(workdir, port=broker.port)
        )
        t_restart = time.monotonic()
        for data in stream[before + during :]:
            await producer.produce(data, nonblocking=True)
        await producer.flush()  # raises if any nonblocking produce failed
        results = await asyncio.gather(*syncs, return_exceptions=True)
        t_done = time.monotonic()

        failed = [r for r in results if not isinstance(r, Delivery)]
        assert not failed, f"{len(failed)} in-flight produces failed, first: {failed[0]!r}"
        not_resent = [i for i, d in enumerate(results) if d.retries < 1]
        assert not not_resent, f"in-flight messages not resent: {not_resent[:5]}"
        flagged = sum(1 for d in results if d.possible_duplicate)
        assert flagged == 0, "an idempotent producer's resends are de-duplicated, never flagged"
        seqs = [d.sequence for d in results]
        assert seqs == sorted(seqs) and len(set(seqs)) == inflight, "in-flight messages stored out of order"

        # The station holds each message once, in production order.
        want = stream[:before] + held + stream[before:]
        consumer = await m.consumer(
            station_name=st, consumer_name="reader", batch_size=5000, batch_max_time_to_wait_ms=1000
        )
        stored: list = []
        deadline = time.monotonic() + 120
        while len(stored) < total and time.monotonic() < deadline:
            batch = await consumer.fetch()
            stored.extend(bytes(x.get_data()) for x in batch)
            for x in batch:
                await x.ack()
        duplicates = len(stored) - len(set(stored))
        with capsys.disabled():
            print(
                f"faults: python crash mid-produce: {total} acked, {len(stored)} stored, {duplicates} duplicates; "
                f"killed after {before} (+{inflight} in flight, all resent), {during} held while down; "
                f"down {t_restart - t_kill:.2f}s, restart->all acked {t_done - t_restart:.2f}s"
            )
        assert len(stored) == total and stored == want, _first_difference(stored, want)
    finally:
        await m.close()
        proc.send_signal(signal.SIGCONT)
        stop_broker(proc)


def _first_difference(got: list, want: list) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"stored message {i} is {g!r}, want {w!r} (lost, duplicated or out of order)"
    return f"stored {len(got)} messages, want {len(want)}"


async def test_crash_flags_possible_duplicates(workdir, name, capsys, caplog):
    """Without idempotence, a message resent after a crash may be stored
    twice: its Delivery says so unless it carries a msg_id (the broker drops
    the second copy of those). Nonblocking produces with
    limit_concurrent_tasks log the flag."""
    rnd = random.Random(fault_seed(capsys))
    proc, broker = start_broker(workdir)
    m = Memphis()
    try:
        await m.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD, max_reconnect=-1)
        producer = await m.producer(station_name=name("dup"), producer_name="p", ack_wait_ms=60000)
        await producer.produce(b"warm")
        pause_broker(proc)
        plain = [asyncio.ensure_future(producer.produce(f"p{i}".encode())) for i in range(10)]
        keyed = [asyncio.ensure_future(producer.produce(f"k{i}".encode(), msg_id=f"id-{i}")) for i in range(10)]
        await asyncio.sleep(0)  # each task's library call hands its message over
        with caplog.at_level(logging.WARNING, logger="memphis"):
            for i in range(5):
                await producer.produce(f"w{i}".encode(), nonblocking=True, limit_concurrent_tasks=100)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            await asyncio.sleep(rnd.uniform(0.3, 0.8))
            proc, _ = await asyncio.get_running_loop().run_in_executor(
                None, lambda: start_broker(workdir, port=broker.port)
            )
            plain_d = await asyncio.gather(*plain)
            keyed_d = await asyncio.gather(*keyed)
            await producer.flush()
        assert all(d.retries >= 1 and d.possible_duplicate for d in plain_d), plain_d
        assert all(d.retries >= 1 and not d.possible_duplicate for d in keyed_d), keyed_d
        assert caplog.text.count("the station may hold it twice") == 5, caplog.text
    finally:
        await m.close()
        proc.send_signal(signal.SIGCONT)
        stop_broker(proc)
