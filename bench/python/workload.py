"""The benchmark workload, written once against the documented memphis-py API.

It runs unchanged on this binding and on the official memphis-py (both
import as ``memphis``); bench.py runs it in two interpreters against the
same memphis-devbroker and prints the ratios.

usage: workload.py HOST PORT PREFIX SYNC_N ASYNC_N CONSUME_N
prints one JSON object of messages per second.
"""

import asyncio
import json
import sys
import time

from memphis import Memphis

PAYLOAD = bytearray(b"x" * 512)


async def sync_produce(memphis, station, n):
    producer = await memphis.producer(station_name=station, producer_name="bench-sync")
    await producer.produce(message=PAYLOAD)  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        await producer.produce(message=PAYLOAD)
    return n / (time.perf_counter() - start)


async def nonblocking_produce(memphis, station, n):
    """Nonblocking produce, timed until every message is acknowledged."""
    producer = await memphis.producer(station_name=station, producer_name="bench-async")
    await producer.produce(message=PAYLOAD)
    start = time.perf_counter()
    for _ in range(n):
        await producer.produce(message=PAYLOAD, nonblocking=True)
    if hasattr(producer, "flush"):
        await producer.flush()  # this binding: waits for every ack
    else:
        # memphis-py: each nonblocking publish is a task awaiting its ack.
        while producer.background_tasks:
            await asyncio.gather(*list(producer.background_tasks), return_exceptions=True)
    return n / (time.perf_counter() - start)


async def consume(memphis, station, n, ack, batch_ack=False):
    consumer = await memphis.consumer(
        station_name=station,
        consumer_name=f"bench-{ack}-{batch_ack}",
        pull_interval_ms=1,
        batch_size=1000,
        batch_max_time_to_wait_ms=1000,
    )
    got = 0
    done = asyncio.Event()
    start = time.perf_counter()

    async def handler(msgs, error, context):
        nonlocal got
        for msg in msgs:
            msg.get_data()
            if ack:
                await msg.ack()
        if batch_ack and msgs:
            await type(msgs[0]).ack_many(msgs)  # this binding only
        got += len(msgs)
        if got >= n:
            done.set()

    consumer.consume(handler)
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - start
    await consumer.destroy()
    return n / elapsed


async def main():
    host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sync_n, async_n, consume_n = (int(a) for a in sys.argv[4:7])
    memphis = Memphis()
    await memphis.connect(host=host, port=port, username="root", password="memphis")
    out = {}
    try:
        print("sync produce", file=sys.stderr)
        out["sync_produce"] = await sync_produce(memphis, prefix + "-sync", sync_n)
        out["nonblocking_produce"] = await nonblocking_produce(memphis, prefix + "-async", async_n)
        # The nonblocking station now holds async_n + 1 messages to consume.
        out["consume"] = await consume(memphis, prefix + "-async", consume_n, ack=False)
        out["consume_ack"] = await consume(memphis, prefix + "-async", consume_n, ack=True)
        if hasattr(getattr(__import__("memphis"), "Message", None), "ack_many"):
            out["consume_ack_many"] = await consume(memphis, prefix + "-async", consume_n, ack=False, batch_ack=True)
    finally:
        await memphis.close()
    print(json.dumps(out))


asyncio.run(main())
