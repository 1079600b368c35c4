"""Delivery results: what synchronous produce and produce_batch return,
what their failures carry, which failures flush() counts, and the producer
options for resilience (byte window, idempotence)."""

from __future__ import annotations

import pytest

from memphis import Delivery, MemphisError, MemphisInvalidArgumentError

from conftest import FAST, collect


async def test_sync_produce_and_batch_return_deliveries(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    first = await producer.produce(b"one")
    assert isinstance(first, Delivery)
    assert (first.sequence, first.retries, first.possible_duplicate) == (1, 0, False)
    assert await producer.produce(b"async", nonblocking=True) is None
    await producer.flush()
    batch = await producer.produce_batch([f"b{i}".encode() for i in range(50)])
    assert [d.sequence for d in batch] == list(range(3, 53))
    assert all(d.retries == 0 and not d.possible_duplicate for d in batch)
    assert await producer.produce_batch([]) == []
    assert "sequence=3" in repr(batch[0])
    # The connection-level one-shot produce returns the same.
    again = await memphis.produce(station_name=st, producer_name="once", message=b"x")
    assert isinstance(again, Delivery) and again.sequence == 53


async def test_sync_produce_to_several_stations_waits_for_each(memphis, name):
    a, b = name("a"), name("b")
    await memphis.station(name=a)
    station_b = await memphis.station(name=b)
    producer = await memphis.producer(station_name=[a, b], producer_name="p")
    d = await producer.produce(b"both")
    assert d.sequence == 1
    batch = await producer.produce_batch([b"x", b"y"])
    assert [x.sequence for x in batch] == [2, 3]
    for station in (a, b):
        consumer = await memphis.consumer(station_name=station, consumer_name="c", **FAST)
        got = await collect(consumer, 3)
        assert [bytes(m.get_data()) for m in got] == [b"both", b"x", b"y"]
    await station_b.destroy()
    # One station failing fails the produce, although the other stored it.
    with pytest.raises(MemphisError):
        await producer.produce(b"half", ack_wait_sec=5)


async def test_awaited_failures_are_raised_once_not_by_flush(memphis, name):
    """The failures of synchronous produce and produce_batch are raised by
    those calls; flush() reports only nonblocking produces (the library's
    one record of failures)."""
    st = name("st")
    station = await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await station.destroy()  # the stream is gone: no ack can arrive
    with pytest.raises(MemphisError) as sync_exc:
        await producer.produce(b"sync", ack_wait_sec=2)
    assert isinstance(sync_exc.value.retries, int) and sync_exc.value.possible_duplicate is False
    with pytest.raises(MemphisError) as batch_exc:
        await producer.produce_batch([b"a", b"b"], ack_wait_sec=2)
    assert isinstance(batch_exc.value.retries, int)
    await producer.flush()  # nothing nonblocking failed
    # A missing stream is not refused at once: the failure is a report.
    await producer.produce(b"nb", nonblocking=True, ack_wait_sec=2)
    with pytest.raises(MemphisError, match="nonblocking produce call"):
        await producer.flush()
    await producer.flush()  # reported once


async def test_errors_not_from_a_delivery_carry_no_retry_details():
    err = MemphisError("x")
    assert (err.retries, err.possible_duplicate) == (0, False)


async def test_byte_window_and_idempotent_producer(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p", max_in_flight_bytes=4096, idempotent=True)
    big = b"x" * 10000  # larger than the whole window: goes alone
    for _ in range(5):
        await producer.produce(big, nonblocking=True)
    await producer.flush()
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    assert len(await collect(consumer, 5)) == 5
    with pytest.raises(MemphisInvalidArgumentError, match="MaxInFlightBytes"):
        await memphis.producer(station_name=st, producer_name="neg", max_in_flight_bytes=-1)
    with pytest.raises(MemphisInvalidArgumentError, match="idempotent must be a bool"):
        await memphis.producer(station_name=st, producer_name="idem", idempotent="yes")
