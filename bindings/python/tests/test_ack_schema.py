"""Send-only ``await msg.ack()`` and schema-aware ``get_data_deserialized``."""

from __future__ import annotations

import time

import pytest

from memphis import Memphis, Message

from conftest import FAST, PASSWORD, USERNAME, collect

N = 10


async def _produce_with_control(memphis, st):
    """msg-0..msg-(N-1), then "control", which the tests never ack: its
    redelivery proves max_ack_time passed, so a lost ack would show too."""
    producer = await memphis.producer(station_name=st, producer_name="p")
    for i in range(N):
        await producer.produce(message=f"msg-{i}")
    await producer.produce(message="control")


async def _await_control(consumer, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = await consumer.fetch(batch_size=N + 1)
        seen = [bytes(m.get_data()) for m in batch]
        assert all(s == b"control" for s in seen), f"acked messages redelivered: {seen}"
        if seen:
            await batch[0].ack()
            return
    raise AssertionError("the unacknowledged control message was never redelivered")


async def test_ack_is_send_only_and_sticks(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce_with_control(memphis, st)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", max_ack_time_ms=1000, **FAST)
    got = await collect(consumer, N + 1, ack=False)
    for m in got:
        if bytes(m.get_data()) != b"control":
            assert await m.ack() is None
    await _await_control(consumer)


async def test_acks_flushed_by_close(memphis, broker, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce_with_control(memphis, st)
    first = Memphis()
    await first.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
    c1 = await first.consumer(station_name=st, consumer_name="c1", consumer_group="g", max_ack_time_ms=1000, **FAST)
    for m in await collect(c1, N + 1, ack=False):
        if bytes(m.get_data()) != b"control":
            await m.ack()
    await first.close()  # right away: the queued acks must still arrive
    c2 = await memphis.consumer(station_name=st, consumer_name="c2", consumer_group="g", max_ack_time_ms=1000, **FAST)
    await _await_control(c2)


async def test_ack_many_confirms(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    await _produce_with_control(memphis, st)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", max_ack_time_ms=1000, **FAST)
    got = await collect(consumer, N + 1, ack=False)
    await Message.ack_many([m for m in got if bytes(m.get_data()) != b"control"])
    await _await_control(consumer)


SCHEMAS = {
    "json": ('{"type":"object","required":["id"]}', {"id": "o-1", "amount": 7}, {"id": "o-1", "amount": 7}),
    "avro": (
        '{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"amount","type":"int"}]}',
        {"id": "o-1", "amount": 7},
        {"id": "o-1", "amount": 7},
    ),
    "protobuf": (
        'syntax = "proto3";\nmessage Order { string id = 1; int32 amount = 2; }\n',
        {"id": "o-1", "amount": 7},
        {"id": "o-1", "amount": 7},
    ),
    "graphql": (
        "type Query { order(id: ID!): Order }\ntype Order { id: ID! amount: Int! }\n",
        'query { order(id: "o-1") { id amount } }',
        'query { order(id: "o-1") { id amount } }',
    ),
}


@pytest.mark.parametrize("schema_type", sorted(SCHEMAS))
async def test_deserialized_follows_schema_type(memphis, name, tmp_path, schema_type):
    content, message, want = SCHEMAS[schema_type]
    path = tmp_path / "schema"
    path.write_text(content)
    st, schema = name("st"), name("sc")
    await memphis.create_schema(schema, schema_type, str(path))
    await memphis.station(name=st, schema_name=schema)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message=message)
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1)
    value = await msg.get_data_deserialized()
    assert value == want
    assert isinstance(value, str if schema_type == "graphql" else dict)


async def test_deserialized_without_schema_is_raw_bytes(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message=b'{"looks": "like json"}')
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    (msg,) = await collect(consumer, 1)
    value = msg.get_data_deserialized()
    assert isinstance(value, bytearray)
    assert value == bytearray(b'{"looks": "like json"}')
    assert await msg.get_data_deserialized() == bytearray(b'{"looks": "like json"}')
