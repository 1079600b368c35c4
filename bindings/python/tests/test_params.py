"""Each documented parameter has an effect a test can see."""

from __future__ import annotations

import json
import logging

import pytest

from memphis import Headers, MemphisError, MemphisSchemaError
from memphis.types import Retention, Storage

from conftest import FAST, collect, eventually


async def _produce(memphis, st, payloads, **kw):
    producer = await memphis.producer(station_name=st, producer_name="p")
    for p in payloads:
        await producer.produce(message=p, **kw)
    return producer


async def test_partition_key_and_number_route_messages(memphis, name):
    st = name("st")
    await memphis.station(name=st, partitions_number=3)
    producer = await memphis.producer(station_name=st, producer_name="p")
    # murmur3(seed 31) test vectors: "user-1" -> index 2 (partition 3), "a" -> index 0.
    await producer.produce(message=b"k1", producer_partition_key="user-1")
    await producer.produce(message=b"k2", producer_partition_key="a")
    await producer.produce(message=b"n2", producer_partition_number=2)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    by_partition = {}
    for part in (1, 2, 3):
        msgs = await consumer.fetch(consumer_partition_number=part)
        by_partition[part] = sorted(bytes(m.get_data()) for m in msgs)
        assert all(m.get_partition() == part for m in msgs)
    assert by_partition == {1: [b"k2"], 2: [b"n2"], 3: [b"k1"]}
    keyed = await consumer.fetch(consumer_partition_key="user-1")
    assert keyed == []  # already delivered (unacked messages wait for max_ack_time)


async def test_round_robin_without_key(memphis, name):
    st = name("st")
    await memphis.station(name=st, partitions_number=2)
    await _produce(memphis, st, [b"a", b"b", b"c", b"d"])
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    got = await collect(consumer, 4)
    parts = sorted(m.get_partition() for m in got)
    assert parts == [1, 1, 2, 2]


async def test_msg_id_deduplicates(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [b"first", b"second"], msg_id="same-id")
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    got = await collect(consumer, 1)
    assert [bytes(m.get_data()) for m in got] == [b"first"]
    assert got[0].get_headers()["msg-id"] == "same-id"
    assert await consumer.fetch() == []


async def test_retention_messages_keeps_only_the_newest(memphis, name):
    st = name("st")
    await memphis.station(name=st, retention_type=Retention.MESSAGES, retention_value=2, storage_type=Storage.MEMORY)
    await _produce(memphis, st, [b"1", b"2", b"3", b"4"])
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    got = await collect(consumer, 2)
    assert [bytes(m.get_data()) for m in got] == [b"3", b"4"]
    assert await consumer.fetch() == []


async def test_last_messages_and_start_sequence(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [b"1", b"2", b"3", b"4", b"5"])
    last = await memphis.consumer(station_name=st, consumer_name="last", last_messages=2, **FAST)
    assert [bytes(m.get_data()) for m in await collect(last, 2)] == [b"4", b"5"]
    start = await memphis.consumer(station_name=st, consumer_name="start", start_consume_from_sequence=4, **FAST)
    got = await collect(start, 2)
    assert [m.get_sequence_number() for m in got] == [4, 5]


async def test_batch_size_bounds_a_fetch(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [b"x"] * 5)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_size=2, **FAST)
    first = await consumer.fetch()
    assert 1 <= len(first) <= 2
    explicit = await consumer.fetch(batch_size=3)
    assert 1 <= len(explicit) <= 3


async def test_consumer_groups_share_and_split(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [str(i).encode() for i in range(6)])
    a = await memphis.consumer(station_name=st, consumer_name="a", consumer_group="g1", batch_size=3, **FAST)
    b = await memphis.consumer(station_name=st, consumer_name="b", consumer_group="g1", batch_size=3, **FAST)
    other = await memphis.consumer(station_name=st, consumer_name="o", consumer_group="g2", **FAST)
    seen = [bytes(m.get_data()) for m in await collect(a, 3)]
    seen += [bytes(m.get_data()) for m in await collect(b, 3)]
    assert sorted(seen) == [str(i).encode() for i in range(6)]  # each once within g1
    assert len(await collect(other, 6)) == 6  # g2 sees everything


async def test_nack_and_delay_redeliver(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [b"again"])
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1, ack=False)
    await msg.nack()
    (msg,) = await collect(consumer, 1, ack=False)
    assert bytes(msg.get_data()) == b"again"
    await msg.delay(0.3)
    (msg,) = await collect(consumer, 1)
    assert bytes(msg.get_data()) == b"again"


async def test_max_ack_time_redelivers_unacked(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [b"slow"])
    consumer = await memphis.consumer(station_name=st, consumer_name="c", max_ack_time_ms=500, **FAST)
    await collect(consumer, 1, ack=False)
    (again,) = await collect(consumer, 1)
    assert bytes(again.get_data()) == b"slow"


async def test_max_msg_deliveries_sends_poison_to_the_handler(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce(memphis, st, [b"poison"])
    consumer = await memphis.consumer(station_name=st, consumer_name="c", max_msg_deliveries=2, **FAST)
    deliveries = []
    dls = []

    async def handler(msgs, error, context):
        for m in msgs:
            if m.is_dls():
                dls.append(bytes(m.get_data()))
                await m.ack()
            else:
                deliveries.append(bytes(m.get_data()))
                await m.nack()

    consumer.consume(handler)
    await eventually(lambda: dls == [b"poison"], timeout=60)
    assert deliveries == [b"poison", b"poison"]
    await consumer.destroy()


async def test_dead_letter_reaches_dls_station(memphis, name):
    st, dls_st = name("st"), name("dls")
    await memphis.station(name=st, dls_station=dls_st)
    await _produce(memphis, st, [b"bad"])
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1, ack=False)
    await msg.dead_letter("cannot parse")
    watcher = await memphis.consumer(station_name=dls_st, consumer_name="w", **FAST)
    (copy,) = await collect(watcher, 1, timeout=60)
    assert bytes(copy.get_data()) == b"bad"


async def test_headers_dict_and_headers_object(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    h = Headers()
    h.add("from", "object")
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message=b"1", headers=h)
    await producer.produce(message=b"2", headers={"from": "dict"})
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    got = await collect(consumer, 2)
    assert [m.get_headers()["from"] for m in got] == ["object", "dict"]


async def test_schema_validation_and_deserialization(memphis, name, tmp_path):
    st, schema = name("st"), name("sc")
    path = tmp_path / "s.json"
    path.write_text('{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}')
    await memphis.create_schema(schema, "json", str(path))
    await memphis.station(name=st, schema_name=schema)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message={"id": 7})
    with pytest.raises(MemphisSchemaError, match=r"(?i)schema validation has failed"):
        await producer.produce(message={"id": "not a number"})
    with pytest.raises(MemphisSchemaError):
        await producer.produce(message=b"not json", nonblocking=True)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1)
    assert msg.get_data_deserialized() == {"id": 7}
    assert await msg.get_data_deserialized() == {"id": 7}  # memphis-py awaits it
    await memphis.detach_schema(st)
    await producer.produce(message=b"anything goes")


async def test_nonblocking_flush_and_batch(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    for i in range(200):
        await producer.produce(message=str(i), nonblocking=True, limit_concurrent_tasks=20)
        assert producer.pending_count <= 20
    await producer.flush()
    assert producer.pending_count == 0
    await producer.produce_batch([f"b{i}" for i in range(100)], headers={"batch": "yes"})
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_size=500, **FAST)
    got = await collect(consumer, 300)
    assert [bytes(m.get_data()) for m in got[:3]] == [b"0", b"1", b"2"]
    assert got[-1].get_headers()["batch"] == "yes"


async def test_nonblocking_failures_are_counted_and_raised_on_flush(memphis, name, caplog):
    st = name("st")
    station = await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await station.destroy()  # the stream is gone: no ack can arrive
    refused = 0
    with caplog.at_level(logging.WARNING, logger="memphis"):
        for i in range(3):
            try:
                await producer.produce(message=str(i), nonblocking=True, ack_wait_sec=1)
            except MemphisError:
                refused += 1  # refusing at once is a visible failure too
        if refused < 3:
            with pytest.raises(MemphisError, match="nonblocking produce"):
                await producer.flush()
            assert "nonblocking produce call(s) of producer p failed" in caplog.text
        await producer.flush()  # reported once: the library's record was reset


async def test_produce_on_connection_caches_the_producer(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    for i in range(3):
        await memphis.produce(station_name=st, producer_name="cached", message=json.dumps({"i": i}))
    assert len(memphis._producer_cache) == 1
