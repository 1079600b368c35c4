"""Runs under the official memphis-py (see official_sdk.py): one scenario per call.

usage: interop_script.py MODE HOST PORT STATION [ARGS...]

Every mode prints one JSON object on stdout:

produce STATION COUNT      produce COUNT messages with headers and msg ids ({})
consume STATION COUNT      {"messages": [{"data", "headers"}]}
dedup STATION              msg_id sent twice (and once more nonblocking): {"data": [...]}
partitions STATION         3 partitions, round robin and key "user-1":
                           {"keyed": [...], "number_2": [...], "drained": [len, ...]}
drained STATION GROUPS ROUNDS
                           ROUNDS rounds of concurrent fetches by GROUPS consumer groups on a
                           drained 3-partition station: {"fetches", "messages", "errors"}
history STATION            start_consume_from_sequence and last_messages: {"from_seq", "last"}
dls STATION                a poison message and a schema failure: {"deliveries", "resent", ...}
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable, Dict, List

from memphis import Headers, Memphis

DEADLINE = 90.0  # seconds; generous, the test machine is shared


def headers_of(msg: Any) -> Dict[str, str]:
    return dict(msg.get_headers() or {})


async def fetch_until(consumer: Any, want: int, **kwargs: Any) -> List[Any]:
    """Fetch (and ack) until ``want`` messages arrived or the deadline passed."""
    out: List[Any] = []
    end = time.monotonic() + DEADLINE
    while len(out) < want and time.monotonic() < end:
        for msg in await consumer.fetch(**kwargs):
            out.append(msg)
            await msg.ack()
    return out


def texts(msgs: List[Any]) -> List[str]:
    return [bytes(m.get_data()).decode() for m in msgs]


async def produce(memphis: Memphis, station: str, count: str) -> Dict[str, Any]:
    producer = await memphis.producer(station_name=station, producer_name="official")
    for i in range(int(count)):
        headers = Headers()
        headers.add("origin", "memphis-py")
        headers.add("i", str(i))
        await producer.produce(message=bytearray(f"official-{i}".encode()), headers=headers, msg_id=f"official-id-{i}")
    return {}


async def consume(memphis: Memphis, station: str, count: str) -> Dict[str, Any]:
    consumer = await memphis.consumer(station_name=station, consumer_name="official", batch_size=10)
    msgs = await fetch_until(consumer, int(count), batch_size=10)
    return {"messages": [{"data": bytes(m.get_data()).decode(), "headers": headers_of(m)} for m in msgs]}


async def dedup(memphis: Memphis, station: str) -> Dict[str, Any]:
    await memphis.station(name=station)
    producer = await memphis.producer(station_name=station, producer_name="official")
    await producer.produce(bytearray(b"order-123"), msg_id="123")
    await producer.produce(bytearray(b"order-123 again"), msg_id="123")
    await producer.produce(bytearray(b"order-123 nonblocking"), msg_id="123", nonblocking=True)
    await producer.produce(bytearray(b"order-124"), msg_id="124")
    consumer = await memphis.consumer(station_name=station, consumer_name="reader", batch_size=100)
    msgs = await fetch_until(consumer, 2, batch_size=100)
    # One more fetch: a duplicate that slipped through would show up here.
    msgs += await consumer.fetch(batch_size=100)
    return {"data": texts(msgs)}


async def partitions(memphis: Memphis, station: str) -> Dict[str, Any]:
    await memphis.station(name=station, partitions_number=3)
    producer = await memphis.producer(station_name=station, producer_name="official")
    for i in range(6):
        await producer.produce(bytearray(f"rr-{i}".encode()))
    for i in range(4):
        await producer.produce(bytearray(f"key-{i}".encode()), producer_partition_key="user-1")
    await producer.produce(bytearray(b"number-2"), producer_partition_number=2)
    consumer = await memphis.consumer(station_name=station, consumer_name="reader", batch_size=100)
    keyed = await fetch_until(consumer, 6, batch_size=100, consumer_partition_key="user-1")
    number_2 = await fetch_until(consumer, 3, batch_size=100, consumer_partition_number=2)
    # The call, repeated on the now drained partition: [] each time.
    drained = [len(await consumer.fetch(batch_size=100, consumer_partition_key="user-1")) for _ in range(5)]
    return {"keyed": sorted(texts(keyed)), "number_2": sorted(texts(number_2)), "drained": drained}


async def drained(memphis: Memphis, station: str, groups: str, rounds: str) -> Dict[str, Any]:
    await memphis.station(name=station, partitions_number=3)
    producer = await memphis.producer(station_name=station, producer_name="official")
    await producer.produce(bytearray(b"only"), producer_partition_key="user-1")
    consumers = [
        await memphis.consumer(station_name=station, consumer_name=f"g{g}", batch_size=100) for g in range(int(groups))
    ]
    result: Dict[str, Any] = {"fetches": 0, "messages": 0, "errors": []}

    async def one(consumer: Any, by_key: bool) -> None:
        try:
            kwargs: Dict[str, Any] = {"consumer_partition_key": "user-1"} if by_key else {}
            msgs = await consumer.fetch(batch_size=100, **kwargs)
            result["messages"] += len(msgs)
            for msg in msgs:
                await msg.ack()
        except Exception as exc:
            result["errors"].append(repr(exc))
        result["fetches"] += 1

    for r in range(int(rounds)):
        await asyncio.gather(*(one(c, (r + i) % 2 == 0) for i, c in enumerate(consumers)))
    return result


async def history(memphis: Memphis, station: str) -> Dict[str, Any]:
    await memphis.station(name=station)
    producer = await memphis.producer(station_name=station, producer_name="official")
    for i in range(1, 11):
        await producer.produce(bytearray(str(i).encode()))
    from_seq = await memphis.consumer(
        station_name=station, consumer_name="from-seq", batch_size=100, start_consume_from_sequence=8
    )
    last = await memphis.consumer(station_name=station, consumer_name="last", batch_size=100, last_messages=2)
    return {
        "from_seq": texts(await fetch_until(from_seq, 3, batch_size=100)),
        "last": texts(await fetch_until(last, 2, batch_size=100)),
    }


async def dls(memphis: Memphis, station: str) -> Dict[str, Any]:
    dls_station = station + "-dls"
    await memphis.station(name=station, dls_station=dls_station)
    producer = await memphis.producer(station_name=station, producer_name="official")
    await producer.produce(bytearray(b"poison pill"), headers=_headers(kind="bad"))
    consumer = await memphis.consumer(
        station_name=station, consumer_name="worker", batch_size=10, max_ack_time_ms=1000, max_msg_deliveries=2
    )
    deliveries, resent = 0, None
    end = time.monotonic() + DEADLINE
    while resent is None and time.monotonic() < end:
        for msg in await consumer.fetch(batch_size=10):
            if "$memphis_pm_id" in headers_of(msg):
                resent = msg
                await msg.ack()  # a resend: acked through $memphis_pm_acks
            else:
                deliveries += 1  # never acked: becomes a poison message
    out: Dict[str, Any] = {"deliveries": deliveries}
    if resent is not None:
        out["resent"] = bytes(resent.get_data()).decode()
        out["resent_headers"] = headers_of(resent)

    # A message the station's schema refuses.
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write('{"type":"object","properties":{"amount":{"type":"number"}},"required":["amount"]}')
    try:
        await memphis.create_schema(station + "-schema", "json", f.name)
    finally:
        os.unlink(f.name)
    await memphis.enforce_schema(station + "-schema", station)
    try:
        await producer.produce(bytearray(b'{"amount":"not a number"}'))
        out["schema_error"] = ""
    except Exception as exc:
        out["schema_error"] = str(exc)

    reader = await memphis.consumer(station_name=dls_station, consumer_name="dls-reader", batch_size=10)
    forwarded = await fetch_until(reader, 2, batch_size=10)
    out["forwarded"] = sorted(
        [{"data": bytes(m.get_data()).decode(), "headers": headers_of(m)} for m in forwarded], key=lambda m: m["data"]
    )
    return out


def _headers(**values: str) -> Headers:
    headers = Headers()
    for k, v in values.items():
        headers.add(k, v)
    return headers


MODES: Dict[str, Callable[..., Awaitable[Dict[str, Any]]]] = {
    "produce": produce,
    "consume": consume,
    "dedup": dedup,
    "partitions": partitions,
    "drained": drained,
    "history": history,
    "dls": dls,
}


async def main() -> None:
    mode, host, port, station, *args = sys.argv[1:]
    memphis = Memphis()
    await memphis.connect(host=host, port=int(port), username="root", password="memphis")
    try:
        print(json.dumps(await MODES[mode](memphis, station, *args)))
    finally:
        await memphis.close()


asyncio.run(main())
