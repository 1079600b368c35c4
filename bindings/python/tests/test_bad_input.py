"""One table walks every public call with wrong types, strings holding NUL
bytes, empty and overlong names and out-of-range numbers.

Each case must raise exactly the documented class with a message naming the
argument (or the library's rule) — never an AttributeError, a ctypes error,
a crash or a silently altered value — and afterwards the connection still
produces and fetches.
"""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, List, Tuple

import pytest

from memphis import (
    Headers,
    Memphis,
    MemphisConnectError,
    MemphisError,
    MemphisHeaderError,
    MemphisInvalidArgumentError,
    Message,
)

from conftest import FAST, PASSWORD, USERNAME, collect

Invalid = MemphisInvalidArgumentError
LONG = "a" * 129

Case = Tuple[str, type, str, Callable[[Any], Any]]


def _connect(broker: Any, **kw: Any) -> Any:
    args = {"host": broker.host, "port": broker.port, "username": USERNAME, "password": PASSWORD, **kw}
    return Memphis().connect(**args)


def _cases(broker: Any) -> List[Case]:
    """(what, exception class, message regex, call(ctx)); ctx has memphis,
    station, producer, consumer, message and a tmp path."""
    return [
        # connect
        ("connect host NUL", Invalid, "host must not contain NUL", lambda c: _connect(broker, host="local\x00host")),
        ("connect host type", Invalid, "host must be a str, got int", lambda c: _connect(broker, host=1)),
        (
            "connect password NUL",
            Invalid,
            "password must not contain NUL",
            lambda c: _connect(broker, password="m\x00"),
        ),
        (
            "connect token NUL",
            Invalid,
            "connection_token must not contain NUL",
            lambda c: _connect(broker, password="", connection_token="a\x00b"),
        ),
        (
            "connect username NUL",
            Invalid,
            "username must not contain NUL",
            lambda c: _connect(broker, username="r\x00"),
        ),
        ("connect port type", Invalid, "port must be an int, got str", lambda c: _connect(broker, port="6666")),
        ("connect port bool", Invalid, "port must be an int, got bool", lambda c: _connect(broker, port=True)),
        ("connect port too big for C", Invalid, "port is out of range", lambda c: _connect(broker, port=2**40)),
        (
            "connect port range",
            MemphisConnectError,
            "port must be between 1 and 65535",
            lambda c: _connect(broker, port=0),
        ),
        (
            "connect account id",
            MemphisConnectError,
            "account id must not be negative",
            lambda c: _connect(broker, account_id=-1),
        ),
        (
            "connect reconnect type",
            Invalid,
            "reconnect must be a bool, got int",
            lambda c: _connect(broker, reconnect=1),
        ),
        ("connect unknown option", Invalid, "unknown conn option 'prot'", lambda c: _connect(broker, prot=1)),
        (
            "connect tls path NUL",
            Invalid,
            "cert_file must not contain NUL",
            lambda c: _connect(broker, cert_file="a\x00"),
        ),
        # stations and schemas
        ("station name NUL", Invalid, "name must not contain NUL", lambda c: c.memphis.station(name="null\x00byte")),
        ("station name type", Invalid, "name must be a str, got int", lambda c: c.memphis.station(name=5)),
        ("station name empty", Invalid, "Station name can not be empty", lambda c: c.memphis.station(name="")),
        ("station name overlong", Invalid, "should be under 128 characters", lambda c: c.memphis.station(name=LONG)),
        (
            "station replicas type",
            Invalid,
            "replicas must be an int",
            lambda c: c.memphis.station(name="s1", replicas="1"),
        ),
        (
            "station partitions range",
            Invalid,
            "partitions number must be between 1 and 10000",
            lambda c: c.memphis.station(name="s1", partitions_number=10001),
        ),
        (
            "station retention value",
            Invalid,
            "retention value must not be negative",
            lambda c: c.memphis.station(name="s1", retention_value=-1),
        ),
        (
            "station retention type",
            Invalid,
            "retention type can be one of",
            lambda c: c.memphis.station(name="s1", retention_type="forever"),
        ),
        (
            "station schema name NUL",
            Invalid,
            "schema_name must not contain NUL",
            lambda c: c.memphis.station(name="s1", schema_name="a\x00"),
        ),
        (
            "station dls NUL",
            Invalid,
            "dls_station must not contain NUL",
            lambda c: c.memphis.station(name="s1", dls_station="\x00"),
        ),
        (
            "station unknown option",
            Invalid,
            "unknown station option 'nope'",
            lambda c: c.memphis.station(name="s1", nope=1),
        ),
        (
            "schema name type",
            Invalid,
            "schema_name must be a str, got int",
            lambda c: c.memphis.create_schema(123, "json", c.schema),
        ),
        (
            "schema name NUL",
            Invalid,
            "schema_name must not contain NUL",
            lambda c: c.memphis.create_schema("a\x00", "json", c.schema),
        ),
        ("schema type", Invalid, "unsupported schema type", lambda c: c.memphis.create_schema("s", "xml", c.schema)),
        (
            "schema path NUL",
            Invalid,
            "schema_path must not contain NUL",
            lambda c: c.memphis.create_schema("s", "json", "/\x00"),
        ),
        (
            "schema name overlong",
            Invalid,
            "should be under 128 characters",
            lambda c: c.memphis.create_schema(LONG, "json", c.schema),
        ),
        (
            "enforce schema NUL",
            Invalid,
            "station_name must not contain NUL",
            lambda c: c.memphis.enforce_schema("s", "a\x00"),
        ),
        (
            "enforce schema empty",
            Invalid,
            "name and station name can not be empty",
            lambda c: c.memphis.enforce_schema("", c.st),
        ),
        (
            "attach schema type",
            Invalid,
            "name must be a str, got NoneType",
            lambda c: c.memphis.attach_schema(None, c.st),
        ),
        ("detach schema empty", Invalid, "station name is missing", lambda c: c.memphis.detach_schema("")),
        # producers and produce
        (
            "producer station NUL",
            Invalid,
            "station_name must not contain NUL",
            lambda c: c.memphis.producer("a\x00", "p"),
        ),
        (
            "producer station type",
            Invalid,
            "station_name should be either string or list",
            lambda c: c.memphis.producer(3, "p"),
        ),
        (
            "producer name NUL",
            Invalid,
            "producer_name must not contain NUL",
            lambda c: c.memphis.producer(c.st, "p\x00q"),
        ),
        ("producer name empty", Invalid, "Producer name can not be empty", lambda c: c.memphis.producer(c.st, "")),
        ("producer name overlong", Invalid, "should be under 128 characters", lambda c: c.memphis.producer(c.st, LONG)),
        ("producer window", Invalid, "(?i)in.?flight", lambda c: c.memphis.producer(c.st, "w", max_in_flight=-1)),
        (
            "producer unknown option",
            Invalid,
            "unknown producer option 'nope'",
            lambda c: c.memphis.producer(c.st, "w", nope=1),
        ),
        ("msg id NUL", Invalid, "msg_id must not contain NUL", lambda c: c.producer.produce(b"x", msg_id="order\x00A")),
        ("msg id type", Invalid, "msg_id must be a str, got int", lambda c: c.producer.produce(b"x", msg_id=123)),
        (
            "msg id line break",
            MemphisHeaderError,
            "line break or NUL",
            lambda c: c.producer.produce(b"x", msg_id="a\r\nb: c"),
        ),
        (
            "partition key NUL",
            Invalid,
            "producer_partition_key must not contain NUL",
            lambda c: c.producer.produce(b"x", producer_partition_key="k\x00"),
        ),
        (
            "partition key type",
            Invalid,
            "producer_partition_key must be a str, got int",
            lambda c: c.producer.produce(b"x", producer_partition_key=123),
        ),
        (
            "partition number range",
            Invalid,
            "^memphis: produce: Partition number is out of range$",
            lambda c: c.producer.produce(b"x", producer_partition_number=5),
        ),
        (
            "partition number type",
            Invalid,
            "producer_partition_number must be an int, got float",
            lambda c: c.producer.produce(b"x", producer_partition_number=1.5),
        ),
        (
            "ack wait type",
            Invalid,
            "ack_wait_sec must be a number",
            lambda c: c.producer.produce(b"x", ack_wait_sec="1"),
        ),
        (
            "ack wait nan",
            Invalid,
            "ack_wait_sec must be a finite",
            lambda c: c.producer.produce(b"x", ack_wait_sec=float("nan")),
        ),
        (
            "ack wait negative",
            Invalid,
            "ack wait must not be negative",
            lambda c: c.producer.produce(b"x", ack_wait_sec=-1),
        ),
        ("message type", Invalid, "Unsupported message type: int", lambda c: c.producer.produce(12)),
        (
            "limit type",
            Invalid,
            "limit_concurrent_tasks must be a positive int",
            lambda c: c.producer.produce(b"x", nonblocking=True, limit_concurrent_tasks="5"),
        ),
        (
            "batch item type",
            Invalid,
            "Unsupported message type: int",
            lambda c: c.producer.produce_batch([b"a", 1]),
        ),
        (
            "batch partition number",
            Invalid,
            "Partition number is out of range",
            lambda c: c.producer.produce_batch([b"a"], producer_partition_number=9),
        ),
        ("flush timeout type", Invalid, "timeout_ms must be an int", lambda c: c.producer.flush(timeout_ms="1")),
        (
            "one-shot station NUL",
            Invalid,
            "station_name must not contain NUL",
            lambda c: c.memphis.produce(station_name="a\x00", producer_name="p", message=b"x"),
        ),
        # headers: refused at Headers.add, and in a dict at produce
        ("header key space", MemphisHeaderError, "printable ASCII without spaces", lambda c: Headers().add("a b", "v")),
        ("header key colon", MemphisHeaderError, "printable ASCII without spaces", lambda c: Headers().add("a:b", "v")),
        (
            "header key control",
            MemphisHeaderError,
            "printable ASCII without spaces",
            lambda c: Headers().add("a\tb", "v"),
        ),
        (
            "header key reserved",
            MemphisHeaderError,
            r"should not start with \$memphis",
            lambda c: Headers().add("$memphis_x", "v"),
        ),
        (
            "header key NUL",
            MemphisHeaderError,
            "header key must not contain NUL",
            lambda c: Headers().add("k\x00", "v"),
        ),
        ("header value NUL", MemphisHeaderError, "must not contain NUL", lambda c: Headers().add("k", "a\x00b")),
        ("header value line break", MemphisHeaderError, "line break or NUL", lambda c: Headers().add("k", "a\nb")),
        ("header key type", MemphisHeaderError, "header key must be a str, got int", lambda c: Headers().add(1, "v")),
        ("header value type", MemphisHeaderError, "must be a str, got int", lambda c: Headers().add("k", 1)),
        (
            "header dict key space",
            MemphisHeaderError,
            "printable ASCII",
            lambda c: c.producer.produce(b"x", headers={"a b": "v"}),
        ),
        (
            "headers type",
            MemphisHeaderError,
            "Headers or a dict",
            lambda c: c.producer.produce(b"x", headers=[("k", "v")]),
        ),
        # consumers and fetch
        (
            "consumer station NUL",
            Invalid,
            "station_name must not contain NUL",
            lambda c: c.memphis.consumer("a\x00", "c"),
        ),
        (
            "consumer name NUL",
            Invalid,
            "consumer_name must not contain NUL",
            lambda c: c.memphis.consumer(c.st, "c\x00"),
        ),
        (
            "consumer name type",
            Invalid,
            "consumer_name must be a str, got list",
            lambda c: c.memphis.consumer(c.st, ["c"]),
        ),
        ("consumer name overlong", Invalid, "should be under 128 characters", lambda c: c.memphis.consumer(c.st, LONG)),
        (
            "consumer group NUL",
            Invalid,
            "consumer_group must not contain NUL",
            lambda c: c.memphis.consumer(c.st, "c", consumer_group="g\x00"),
        ),
        (
            "consumer batch size",
            Invalid,
            "Batch size can not be greater than",
            lambda c: c.memphis.consumer(c.st, "c", batch_size=0),
        ),
        (
            "consumer batch size type",
            Invalid,
            "batch_size must be an int, got str",
            lambda c: c.memphis.consumer(c.st, "c", batch_size="10"),
        ),
        (
            "consumer max deliveries",
            Invalid,
            "max_msg_deliveries must be between 1 and 10",
            lambda c: c.memphis.consumer(c.st, "c", max_msg_deliveries=11),
        ),
        (
            "consumer start sequence",
            Invalid,
            "has to be a positive number",
            lambda c: c.memphis.consumer(c.st, "c", start_consume_from_sequence=0),
        ),
        (
            "consumer last messages",
            Invalid,
            "(?i)min value for last_?messages is -1",
            lambda c: c.memphis.consumer(c.st, "c", last_messages=-2),
        ),
        (
            "consumer unknown option",
            Invalid,
            "unknown consumer option 'nope'",
            lambda c: c.memphis.consumer(c.st, "c", nope=1),
        ),
        (
            "fetch batch size range",
            Invalid,
            "Batch size can not be greater than",
            lambda c: c.consumer.fetch(batch_size=10**6),
        ),
        ("fetch batch size negative", Invalid, "batch_size is out of range", lambda c: c.consumer.fetch(batch_size=-1)),
        (
            "fetch batch size type",
            Invalid,
            "batch_size must be an int, got str",
            lambda c: c.consumer.fetch(batch_size="1"),
        ),
        (
            "fetch partition key NUL",
            Invalid,
            "consumer_partition_key must not contain NUL",
            lambda c: c.consumer.fetch(consumer_partition_key="\x00"),
        ),
        (
            "fetch partition number",
            Invalid,
            "Partition number is out of range",
            lambda c: c.consumer.fetch(consumer_partition_number=2),
        ),
        (
            "fetch_messages name NUL",
            Invalid,
            "consumer_name must not contain NUL",
            lambda c: c.memphis.fetch_messages(station_name=c.st, consumer_name="c\x00"),
        ),
        (
            "fetch_messages partition type",
            Invalid,
            "consumer_partition_number must be an int",
            lambda c: c.memphis.fetch_messages(station_name=c.st, consumer_name="fm", consumer_partition_number="1"),
        ),
        ("consume handler", Invalid, "callback must be callable", lambda c: c.consumer.consume("not a function")),
        (
            "consume partition key type",
            Invalid,
            "consumer_partition_key must be a str",
            lambda c: c.consumer.consume(lambda *a: None, consumer_partition_key=1),
        ),
        # messages
        ("delay type", Invalid, "delay must be a number of seconds", lambda c: c.message.delay("1")),
        ("delay nan", Invalid, "delay must be a finite", lambda c: c.message.delay(float("nan"))),
        ("delay negative", Invalid, "delay must not be negative", lambda c: c.message.delay(-1)),
        ("dead letter reason NUL", Invalid, "reason must not contain NUL", lambda c: c.message.dead_letter("a\x00b")),
        (
            "dead letter reason type",
            Invalid,
            "reason must be a str, got NoneType",
            lambda c: c.message.dead_letter(None),
        ),
        (
            "ack_many type",
            Invalid,
            "messages must be a list of memphis.Message",
            lambda c: Message.ack_many([c.message, 1]),
        ),
        # statistics of what is gone
        ("stats never connected", MemphisConnectError, "Connection is dead", lambda c: Memphis().stats()),
        (
            "producer stats after destroy",
            MemphisError,
            "producer gone-p was destroyed",
            lambda c: _after(
                _destroyed(c.memphis.producer(station_name=c.st, producer_name="gone-p")), lambda p: p.stats()
            ),
        ),
        (
            "consumer stats after destroy",
            MemphisError,
            "consumer gone-c was destroyed",
            lambda c: _after(
                _destroyed(c.memphis.consumer(station_name=c.st, consumer_name="gone-c")), lambda k: k.stats()
            ),
        ),
    ]


async def _destroyed(made: Awaitable[Any]) -> Any:
    """A producer or consumer, made and destroyed."""
    obj = await made
    await obj.destroy()
    return obj


async def _after(made: Awaitable[Any], call: Callable[[Any], Any]) -> Any:
    return call(await made)


class _Ctx:
    pass


@pytest.fixture
async def ctx(memphis, name, tmp_path):
    c = _Ctx()
    c.memphis = memphis
    c.st = name("bad")
    c.schema = str(tmp_path / "schema.json")
    (tmp_path / "schema.json").write_text('{"type":"object"}')
    c.producer = await memphis.producer(station_name=c.st, producer_name="p")
    # The seed stays unacked for the message cases: a long ack wait keeps it
    # from coming back while ~100 cases run on a loaded machine.
    c.consumer = await memphis.consumer(station_name=c.st, consumer_name="c", max_ack_time_ms=600_000, **FAST)
    await c.producer.produce(b"seed")
    (c.message,) = await collect(c.consumer, 1, ack=False)
    return c


def test_every_public_method_has_cases():
    # The table covers the public API: each public method of these classes
    # is called by at least one case (a new method needs its cases).
    import memphis as pkg

    covered = inspect.getsource(_cases) + inspect.getsource(_connect)
    for cls, skip in (
        (pkg.Memphis, {"close", "is_connected"}),
        (pkg.Producer, {"destroy"}),
        (pkg.Consumer, {"destroy", "stop_consume", "set_context"}),
        (
            pkg.Message,
            {
                "ack",
                "nack",
                "is_dls",
                "get_data",
                "get_headers",
                "get_sequence_number",
                "get_timesent",
                "get_partition",
                "get_data_deserialized",
            },
        ),
        (pkg.Headers, set()),
    ):
        for meth in (m for m in vars(cls) if not m.startswith("_") and callable(getattr(cls, m))):
            if meth not in skip:
                assert f".{meth}(" in covered, f"{cls.__name__}.{meth} has no bad-input case"


async def test_every_public_call_refuses_bad_input_and_keeps_working(ctx, broker):
    sent = 0
    for what, cls, pattern, call in _cases(broker):
        with pytest.raises(MemphisError, match=pattern) as info:
            result = call(ctx)
            if inspect.isawaitable(result):
                await result
        assert type(info.value) is cls, f"{what}: {type(info.value).__name__}: {info.value}"
        # The connection still produces and fetches.
        sent += 1
        body = f"after-{sent}".encode()
        await ctx.producer.produce(body)
        got = await collect(ctx.consumer, 1)
        assert [bytes(m.get_data()) for m in got] == [body], what


async def test_payload_with_nul_bytes_round_trips(memphis, name):
    st = name("nul")
    payload = b"a\x00b\x00\x00c\x00"
    producer = await memphis.producer(station_name=st, producer_name="p")
    await producer.produce(payload)
    await producer.produce(bytearray(payload), nonblocking=True)
    await producer.produce(payload, nonblocking=True, limit_concurrent_tasks=2)
    await producer.produce_batch([payload, payload[1:]])
    await producer.flush()
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    got = await collect(consumer, 5)
    assert sorted(bytes(m.get_data()) for m in got) == sorted([payload] * 4 + [payload[1:]])


async def test_distinct_msg_ids_stay_distinct(memphis, name):
    # Ids that differ only after a NUL used to be cut to one id, so two of
    # three messages were dropped as duplicates: now they are refused, and
    # ids that really differ are all stored.
    st = name("ids")
    producer = await memphis.producer(station_name=st, producer_name="p")
    for suffix in "ABC":
        with pytest.raises(Invalid, match="msg_id must not contain NUL"):
            await producer.produce(b"x", msg_id=f"order\x00{suffix}")
        await producer.produce(suffix.encode(), msg_id=f"order-{suffix}")
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    got = await collect(consumer, 3)
    assert [bytes(m.get_data()) for m in got] == [b"A", b"B", b"C"]
    assert [m.get_headers()["msg-id"] for m in got] == ["order-A", "order-B", "order-C"]
