"""Bad input raises the documented exception with a clear message."""

from __future__ import annotations

import pytest

from memphis import (
    Memphis,
    MemphisConnectError,
    MemphisError,
    MemphisHeaderError,
    MemphisInvalidArgumentError,
    MemphisSchemaError,
)

from conftest import PASSWORD, USERNAME


async def test_wrong_password(broker, library):
    with pytest.raises(MemphisConnectError) as info:
        await Memphis().connect(host=broker.host, port=broker.port, username=USERNAME, password="wrong")
    assert "memphis:" in str(info.value)


async def test_right_token_and_wrong_token(broker, library):
    m = Memphis()
    await m.connect(host=broker.host, port=broker.port, username=USERNAME, connection_token="memphis")
    assert m.is_connected()
    await m.close()
    with pytest.raises(MemphisConnectError):
        await Memphis().connect(host=broker.host, port=broker.port, username=USERNAME, connection_token="nope")


@pytest.mark.parametrize("creds", [{}, {"password": PASSWORD, "connection_token": "memphis"}])
async def test_exactly_one_credential(broker, library, creds):
    with pytest.raises(MemphisConnectError, match="connection token / password"):
        await Memphis().connect(host=broker.host, port=broker.port, username=USERNAME, **creds)


async def test_tls_needs_all_three_files(broker, library, tmp_path):
    with pytest.raises(MemphisConnectError, match=r"(?i)must provide a TLS key file"):
        await Memphis().connect(
            host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD, cert_file=str(tmp_path / "c")
        )


async def test_unreachable_broker(library):
    with pytest.raises(MemphisConnectError):
        await Memphis().connect(
            host="127.0.0.1", port=1, username=USERNAME, password=PASSWORD, reconnect=False, timeout_ms=500
        )


async def test_calls_without_connection():
    m = Memphis()
    with pytest.raises(MemphisConnectError, match="Connection is dead"):
        await m.producer(station_name="s", producer_name="p")
    assert not m.is_connected()


@pytest.mark.parametrize(
    ("bad", "text"),
    [
        ("", "can not be empty"),
        ("Bad Name!", "Only alphanumeric"),
        ("-edge", "can not start or end"),
        ("x" * 129, "should be under 128"),
    ],
)
async def test_bad_station_names(memphis, bad, text):
    with pytest.raises(MemphisError, match=text):
        await memphis.station(name=bad)


async def test_bad_station_options(memphis, name):
    with pytest.raises(MemphisError, match="retention type can be one of"):
        memphis.station(name=name(), retention_type="forever")
    with pytest.raises(MemphisError, match="storage type can be one of"):
        memphis.station(name=name(), storage_type="tape")
    with pytest.raises(MemphisInvalidArgumentError, match="replicas must be an int, got str"):
        memphis.station(name=name(), replicas="3")


@pytest.mark.parametrize("size", [0, 10**6])
async def test_batch_size_limits(memphis, name, size):
    # The limit is the library's (sdk), with memphis-py's text.
    with pytest.raises(MemphisError, match=r"Batch size can not be greater than .* or less than 1"):
        await memphis.consumer(station_name=name(), consumer_name="c", batch_size=size)
    consumer = await memphis.consumer(station_name=name(), consumer_name="c", batch_max_time_to_wait_ms=100)
    if size:
        with pytest.raises(MemphisError, match="Batch size"):
            await consumer.fetch(batch_size=size)
    else:
        assert await consumer.fetch(batch_size=0) == []  # 0: the consumer's own batch size
    with pytest.raises(MemphisInvalidArgumentError, match="batch_size"):
        await consumer.fetch(batch_size=-1)


async def test_consumer_sequence_options(memphis, name):
    with pytest.raises(MemphisError, match=r"(?i)start_?consume_?from_?sequence has to be a positive number"):
        await memphis.consumer(station_name=name(), consumer_name="c", start_consume_from_sequence=0)
    with pytest.raises(MemphisError, match=r"(?i)min value for last_?messages is -1"):
        await memphis.consumer(station_name=name(), consumer_name="c", last_messages=-2)
    with pytest.raises(MemphisError, match="can't contain both"):
        await memphis.consumer(station_name=name(), consumer_name="c", start_consume_from_sequence=2, last_messages=1)
    for n in (0, 11):
        with pytest.raises(MemphisError, match="max_msg_deliveries must be between 1 and 10"):
            await memphis.consumer(station_name=name(), consumer_name="c", max_msg_deliveries=n)


async def test_reserved_header_and_bad_message(memphis, name):
    producer = await memphis.producer(station_name=name(), producer_name="p")
    with pytest.raises(MemphisHeaderError, match=r"should not start with \$memphis"):
        await producer.produce(message=b"x", headers={"$memphis_producedBy": "me"})
    with pytest.raises(MemphisError, match="Unsupported message type: int"):
        await producer.produce(message=12)
    with pytest.raises(MemphisError, match="Unsupported message type: NoneType"):
        await producer.produce(message=None)
    with pytest.raises(MemphisError, match="both partition number and partition key"):
        await producer.produce(message=b"x", producer_partition_key="k", producer_partition_number=1)
    with pytest.raises(MemphisError, match="ack wait must not be negative"):
        await producer.produce(message=b"x", ack_wait_sec=-1)
    with pytest.raises(MemphisInvalidArgumentError, match="limit_concurrent_tasks"):
        await producer.produce(message=b"x", nonblocking=True, limit_concurrent_tasks=0)


@pytest.mark.parametrize("partitions", [1, 2])
async def test_partition_number_out_of_range(memphis, name, partitions):
    st = name()
    await memphis.station(name=st, partitions_number=partitions)
    producer = await memphis.producer(station_name=st, producer_name="p")
    with pytest.raises(MemphisInvalidArgumentError, match=r"^memphis: produce: Partition number is out of range$"):
        await producer.produce(message=b"x", producer_partition_number=5)
    consumer = await memphis.consumer(station_name=st, consumer_name="c")
    with pytest.raises(MemphisInvalidArgumentError, match="Partition number is out of range"):
        await consumer.fetch(consumer_partition_number=partitions + 1)
    await producer.produce(message=b"x", producer_partition_number=partitions)  # the last one is fine


async def test_schema_errors(memphis, name, tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"type":"object"}')
    with pytest.raises(MemphisError, match="unsupported schema type"):
        await memphis.create_schema(name(), "xml", str(good))
    with pytest.raises(MemphisError, match="reading schema file"):
        await memphis.create_schema(name(), "json", str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MemphisSchemaError):
        await memphis.create_schema(name(), "json", str(bad))
    with pytest.raises(MemphisError, match="name and station name can not be empty"):
        await memphis.enforce_schema("", "st")
    with pytest.raises(MemphisError, match="station name is missing"):
        await memphis.detach_schema("")
    with pytest.raises(MemphisError, match=r"(?i)does not exist"):
        await memphis.enforce_schema(name(), name())  # neither exists


async def test_use_after_destroy(memphis, name):
    producer = await memphis.producer(station_name=name(), producer_name="p")
    await producer.destroy()
    await producer.destroy()  # twice is fine
    with pytest.raises(MemphisError, match="destroyed"):
        await producer.produce(message=b"x")
    consumer = await memphis.consumer(station_name=name(), consumer_name="c")
    await consumer.destroy()
    with pytest.raises(MemphisError, match="destroyed"):
        await consumer.fetch()
    with pytest.raises(MemphisError, match="destroyed"):
        consumer.consume(lambda *a: None)


async def test_consume_needs_a_callable(memphis, name):
    consumer = await memphis.consumer(station_name=name(), consumer_name="c")
    with pytest.raises(MemphisInvalidArgumentError, match="callable"):
        consumer.consume("not a function")  # type: ignore[arg-type]
