"""Every snippet of the documented README, as written (names and address filled in)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from memphis import Headers, Memphis, MemphisSchemaError
from memphis.types import Retention, Storage

from conftest import PASSWORD, USERNAME, eventually


async def test_connect_snippet(broker, library):
    memphis = Memphis()
    try:
        await memphis.connect(
            host=broker.host,
            username=USERNAME,
            account_id=1,
            password=PASSWORD,
            port=broker.port,
            reconnect=True,
            max_reconnect=10,
            reconnect_interval_ms=1500,
            timeout_ms=1500,
        )
        assert memphis.is_connected()
    finally:
        await memphis.close()
    assert not memphis.is_connected()


async def test_station_snippet_bare_and_awaited(memphis, name):
    dls = name("dls")
    station = memphis.station(
        name=name("st"),
        schema_name="",
        retention_type=Retention.MAX_MESSAGE_AGE_SECONDS,
        retention_value=604800,
        storage_type=Storage.DISK,
        replicas=1,
        idempotency_window_ms=120000,
        send_poison_msg_to_dls=True,
        send_schema_failed_msg_to_dls=True,
        tiered_storage_enabled=False,
        partitions_number=1,
        dls_station=dls,
    )
    await station  # awaiting the same object waits for the creation
    producer = await memphis.producer(station_name=station.name, producer_name="p")
    await producer.produce(message=b"x")
    await producer.destroy()
    station.destroy()  # bare, as in the README
    st2 = await memphis.station(name=name("st"))
    await st2.destroy()
    await memphis.station(name=dls).destroy()


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "schema.json"
    p.write_text(text)
    return str(p)


async def test_schema_snippets(memphis, name, tmp_path):
    schema = name("sc")
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    path = _write(tmp_path, '{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}')
    await memphis.create_schema(schema, "json", path)
    await memphis.enforce_schema(schema, st)
    await producer.produce(message={"id": 1})
    with pytest.raises(MemphisSchemaError):  # enforced
        await producer.produce(message={"id": "one"})
    await memphis.detach_schema(st)
    await producer.produce(message={"id": "one"})  # detached: anything goes
    await memphis.attach_schema(schema, st)
    with pytest.raises(MemphisSchemaError):  # attached again
        await producer.produce(message=b"not json")
    await memphis.detach_schema(st)
    await producer.produce(message=b"not json")
    await producer.destroy()
    await memphis.station(name=st).destroy()


async def test_produce_snippets(memphis, name):
    st = name("st")
    await memphis.station(name=st, partitions_number=2)
    headers = Headers()
    headers.add("key", "value")
    await memphis.produce(
        station_name=st,
        producer_name="prod_py",
        message="bytearray/protobuf class/dict/string/graphql.language.ast.DocumentNode",
        ack_wait_sec=15,
        headers=headers,
        nonblocking=False,
        msg_id="123",
        producer_partition_key="key",
    )
    producer = await memphis.producer(station_name=st, producer_name="p2")
    await producer.produce(message=bytearray(b"payload"), ack_wait_sec=15)
    await producer.produce(message={"a": 1}, headers=headers)
    await producer.produce(message="s", headers={}, nonblocking=True)
    await producer.produce(message="k", producer_partition_key="key")
    await producer.produce(message="t", headers={}, nonblocking=True, limit_concurrent_tasks=500)
    await producer.produce(message={"b": 2}, headers={}, async_produce=True, msg_id="456")
    await producer.flush()
    producer.destroy()  # bare, as in the README
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_max_time_to_wait_ms=200)
    got = []
    for _ in range(50):
        got += await consumer.fetch(batch_size=10)
        if len(got) >= 7:
            break
    assert len(got) == 7
    await consumer.destroy()
    await memphis.station(name=st).destroy()


async def test_consume_snippets(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    for i in range(3):
        await producer.produce(message=f"m{i}", headers={"n": str(i)})
    consumer = await memphis.consumer(
        station_name=st,
        consumer_name="consumer",
        consumer_group="group",
        pull_interval_ms=1000,
        batch_size=10,
        batch_max_time_to_wait_ms=5000,
        max_ack_time_ms=30000,
        max_msg_deliveries=10,
        start_consume_from_sequence=1,
        last_messages=-1,
    )
    context = {"key": "value"}
    consumer.set_context(context)
    seen = []
    errors = []
    contexts = []

    async def msg_handler(msgs, error, context):
        for msg in msgs:
            seen.append(msg.get_data())
            await msg.ack()
        if error:
            errors.append(error)
        contexts.append(context)

    consumer.consume(msg_handler)
    await eventually(lambda: len(seen) == 3 and errors)
    assert seen == [bytearray(b"m0"), bytearray(b"m1"), bytearray(b"m2")]
    assert str(errors[0]) == "memphis: Memphis: TimeoutError"
    assert contexts[0] == {"key": "value"}
    consumer.destroy()  # bare
    await producer.destroy()
    await memphis.station(name=st).destroy()


async def test_consume_with_partition_key_snippet(memphis, name):
    st = name("st")
    await memphis.station(name=st, partitions_number=3)
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(message="keyed", producer_partition_key="key")
    await producer.produce(message="other", producer_partition_number=1 if _index("key", 3) != 0 else 2)
    consumer = await memphis.consumer(
        station_name=st, consumer_name="c", pull_interval_ms=50, batch_max_time_to_wait_ms=200
    )
    seen = []

    async def msg_handler(msgs, error, context):
        for msg in msgs:
            seen.append(bytes(msg.get_data()))
            await msg.ack()

    consumer.consume(msg_handler, consumer_partition_key="key")
    await eventually(lambda: seen == [b"keyed"])
    await asyncio.sleep(0.5)  # give a wrong partition the chance to show up
    assert seen == [b"keyed"]
    await consumer.destroy()
    await memphis.station(name=st).destroy()


def _index(key: str, n: int) -> int:
    # From the protocol document's test vectors (murmur3, seed 31).
    return {"key": 2580712894}[key] % n


async def test_fetch_snippets_and_message_getters(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    h = Headers()
    h.add("key", "value")
    await memphis.produce(station_name=st, producer_name="p", message=b"one", headers=h)
    await memphis.produce(station_name=st, producer_name="p", message=b"two")
    msgs = await memphis.fetch_messages(
        station_name=st,
        consumer_name="consumer",
        consumer_group="group",
        batch_size=10,
        batch_max_time_to_wait_ms=5000,
        max_ack_time_ms=30000,
        max_msg_deliveries=10,
        start_consume_from_sequence=1,
        last_messages=-1,
        consumer_partition_key="key",
    )
    assert [bytes(m.get_data()) for m in msgs] == [b"one", b"two"]
    message = msgs[0]
    headers = message.get_headers()
    assert headers["key"] == "value"
    assert headers["$memphis_producedBy"] == "p"
    sequence_number = message.get_sequence_number()
    assert sequence_number == 1
    assert message.get_timesent().year >= 2024
    await message.ack()
    await msgs[1].delay(0.2)  # delay_in_seconds
    again = []
    for _ in range(20):
        again = await memphis.fetch_messages(station_name=st, consumer_name="consumer", consumer_group="group")
        if again:
            break
    assert [bytes(m.get_data()) for m in again] == [b"two"]  # redelivered after the delay
    await again[0].ack()
    assert memphis.is_connected()
    await memphis.station(name=st).destroy()


async def test_bare_destroy_failure_is_logged(memphis, name, caplog):
    st = await memphis.station(name=name("st"))
    consumer = await memphis.consumer(station_name=st.name, consumer_name="c")
    await memphis.close()
    with caplog.at_level(logging.ERROR, logger="memphis"):
        # The consumer left with its connection, which is what destroy
        # wants: quiet. Deleting the station needs the connection: a bare
        # call must not raise here, and its failure is logged.
        consumer.destroy()
        st.destroy()
        del st
        await eventually(lambda: any("destroying station" in r.getMessage() for r in caplog.records))
    failures = [r.getMessage() for r in caplog.records]
    assert not any("destroying consumer" in m for m in failures), failures
    assert any("closed" in m.lower() for m in failures), failures


pytestmark = pytest.mark.asyncio
