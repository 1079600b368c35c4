"""GC churn with messages in flight, close with live consumers, async with, loop hygiene."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

from memphis import Memphis, _events

from conftest import PASSWORD, USERNAME, collect, eventually


async def test_gc_churn_with_messages_in_flight(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    received = []
    for round_ in range(5):
        producer = await memphis.producer(station_name=st, producer_name=f"p{round_}")
        for i in range(200):
            await producer.produce(message=f"{round_}-{i}", nonblocking=True)
        del producer  # dropped with acks still in flight: finalizer destroys it off-loop
        consumer = await memphis.consumer(
            station_name=st, consumer_name=f"c{round_}", pull_interval_ms=10, batch_max_time_to_wait_ms=200
        )

        async def handler(msgs, error, context, sink=received):
            for m in msgs:
                sink.append(m.get_sequence_number())
            # messages are dropped unacked: their wrappers are collected

        consumer.consume(handler)
        await asyncio.sleep(0.05)
        del consumer, handler
        gc.collect()
    await eventually(lambda: _events.live_count() == 0, timeout=60)
    assert received  # some batches were handled while objects came and went
    # The station still works after all that.
    producer = await memphis.producer(station_name=st, producer_name="after")
    await producer.produce(message=b"still fine")


async def test_close_with_live_consumers(broker, library, name):
    m = Memphis()
    await m.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
    st = name("st")
    await m.station(name=st)
    producer = await m.producer(station_name=st, producer_name="p")
    for i in range(50):
        await producer.produce(message=str(i), nonblocking=True)
    await producer.flush()
    calls = []

    async def slow_handler(msgs, error, context):
        calls.append(len(msgs))
        await asyncio.sleep(0.2)

    consumers = []
    for i in range(3):
        c = await m.consumer(station_name=st, consumer_name=f"c{i}", pull_interval_ms=10, batch_max_time_to_wait_ms=200)
        c.consume(slow_handler)
        consumers.append(c)
    await eventually(lambda: len(calls) >= 3)
    started = time.monotonic()
    await m.close()
    assert time.monotonic() - started < 30
    assert not m.is_connected()
    n = len(calls)
    await asyncio.sleep(0.5)
    assert len(calls) <= n + 3  # at most the handlers already running finish
    for c in consumers:
        await c.destroy()  # destroying after close is fine


async def test_async_with_and_reconnect(broker, library, name):
    async with Memphis() as m:
        await m.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
        st = name("st")
        async with await m.producer(station_name=st, producer_name="p") as producer:
            await producer.produce(message=b"in context")
        async with await m.consumer(station_name=st, consumer_name="c", batch_max_time_to_wait_ms=300) as consumer:
            (msg,) = await collect(consumer, 1)
            assert bytes(msg.get_data()) == b"in context"
        await m.close()
        await m.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
        assert m.is_connected()
    assert not m.is_connected()


async def test_unbuffered_writes_connection(broker, library, name):
    """The library option, passed by name: sync produce and consume work on it."""
    async with Memphis() as m:
        await m.connect(
            host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD, unbuffered_writes=True
        )
        st = name("st")
        producer = await m.producer(station_name=st, producer_name="p")
        for i in range(3):
            await producer.produce(message=f"m{i}")
        consumer = await m.consumer(station_name=st, consumer_name="c", batch_max_time_to_wait_ms=300)
        got = await collect(consumer, 3)
        assert [bytes(msg.get_data()) for msg in got] == [b"m0", b"m1", b"m2"]


async def test_handlers_run_on_the_loop_thread(memphis, name):
    st = name("st")
    await memphis.produce(station_name=st, producer_name="p", message=b"x")
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_max_time_to_wait_ms=300)
    threads = []
    loop_thread = threading.get_ident()

    def plain_handler(msgs, error, context):  # a plain function works too
        threads.append(threading.get_ident())

    consumer.consume(plain_handler)
    await eventually(lambda: len(threads) >= 2)
    assert set(threads) == {loop_thread}
    await consumer.stop_consume()
    n = len(threads)
    await asyncio.sleep(0.5)
    assert len(threads) == n  # nothing after stop
    consumer.consume(plain_handler)  # and it can start again
    await eventually(lambda: len(threads) > n)
    await consumer.destroy()


async def test_loop_is_not_blocked_by_a_long_fetch(memphis, name):
    consumer = await memphis.consumer(station_name=name("st"), consumer_name="c", batch_max_time_to_wait_ms=1500)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    t = asyncio.create_task(ticker())
    assert await consumer.fetch() == []
    t.cancel()
    assert ticks > 20  # the loop kept running during the 1.5 s fetch


async def test_handler_exception_does_not_stop_consuming(memphis, name):
    st = name("st")
    producer = await memphis.producer(station_name=st, producer_name="p")
    consumer = await memphis.consumer(
        station_name=st, consumer_name="c", pull_interval_ms=10, batch_max_time_to_wait_ms=200
    )
    seen = []

    async def handler(msgs, error, context):
        for m in msgs:
            seen.append(bytes(m.get_data()))
            await m.ack()
        if msgs:
            raise RuntimeError("user bug")

    consumer.consume(handler)
    await producer.produce(message=b"1")
    await eventually(lambda: seen == [b"1"])
    await producer.produce(message=b"2")
    await eventually(lambda: seen == [b"1", b"2"])
    await consumer.destroy()
