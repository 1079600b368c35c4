"""Statistics (``Memphis.stats``, ``Producer.stats``, ``Consumer.stats``)
and the library's log events on the ``memphis`` logger."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from memphis import Memphis, MemphisConnectError, MemphisError, MemphisSchemaError, _capi, _logging

from conftest import BINDING, FAST, PASSWORD, USERNAME, collect, eventually

ORDER_SCHEMA = '{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}'
BAD_ORDER = '{"no":"id"}'


def good_order(i: int) -> str:
    return f'{{"id":"order-{i}"}}'


async def test_stats_count_known_work_exactly(memphis, name, tmp_path):
    """1000 produced (sync and nonblocking), 10 refused on purpose by the
    station's schema, 990 acknowledged, fetched and acked: the numbers match."""
    st, schema = name("st"), name("sc")
    path = tmp_path / "schema.json"
    path.write_text(ORDER_SCHEMA)
    await memphis.create_schema(schema, "json", str(path))
    await memphis.station(name=st, schema_name=schema)
    producer = await memphis.producer(station_name=st, producer_name="p")
    n, bad = 1000, 10
    refused = 0
    sent_bytes = 0
    for i in range(n):
        data = BAD_ORDER if i % (n // bad) == 7 else good_order(i)
        sent_bytes += len(data)
        try:
            await producer.produce(message=data.encode(), nonblocking=i % 2 == 1)
        except MemphisSchemaError:
            refused += 1
    await producer.flush()
    assert refused == bad

    ps = producer.stats()
    assert ps["name"] == "p"
    assert ps["stations"] == [st]
    assert ps["produced"] == n
    assert ps["produced_bytes"] == sent_bytes
    assert ps["acked"] == n - bad
    assert ps["failed"] == bad
    assert ps["failed_by_cause"] == {"schema_validation": bad}
    assert ps["in_flight"] == 0
    assert ps["ack_latency_us"]["count"] == n - bad
    lat = ps["ack_latency_us"]
    assert 0 < lat["max"] and lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]

    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_size=100, **FAST)
    got = await collect(consumer, n - bad)
    assert len(got) == n - bad
    cs = consumer.stats()
    assert (cs["name"], cs["group"], cs["station"]) == ("c", "c", st)
    assert cs["fetched"] == cs["delivered"] == cs["acked"] == n - bad
    assert cs["nacked"] == cs["delayed"] == cs["dead_lettered"] == cs["redelivered"] == 0
    assert cs["ack_failures"] == 0
    assert cs["pulls"] >= cs["pull_latency_us"]["count"] > 0

    doc = memphis.stats()
    assert doc["version"] == 1
    assert doc["connected"] is True and doc["closed"] is False
    assert doc["connection_id"]
    assert [p["produced"] for p in doc["producers"]] == [n]
    assert [c["acked"] for c in doc["consumers"]] == [n - bad]
    assert doc["msgs_out"] >= n and doc["msgs_in"] >= n


async def test_consumer_actions_are_counted(memphis, name):
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    for i in range(3):
        await producer.produce(message=str(i))
    consumer = await memphis.consumer(station_name=st, consumer_name="c", batch_size=3, **FAST)
    msgs = await collect(consumer, 3, ack=False)
    await msgs[0].nack()
    await msgs[1].delay(3600)
    await msgs[2].dead_letter("on purpose")
    cs = consumer.stats()
    assert (cs["fetched"], cs["delivered"], cs["acked"]) == (3, 3, 0)
    assert (cs["nacked"], cs["delayed"], cs["dead_lettered"]) == (1, 1, 1)


async def test_stats_of_released_objects_raise(broker, library, name):
    memphis = Memphis()
    await memphis.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
    st = name("st")
    await memphis.station(name=st)
    producer = await memphis.producer(station_name=st, producer_name="p")
    consumer = await memphis.consumer(station_name=st, consumer_name="c", **FAST)
    await producer.destroy()
    await consumer.destroy()
    with pytest.raises(MemphisError, match="destroyed"):
        producer.stats()
    with pytest.raises(MemphisError, match="destroyed"):
        consumer.stats()
    assert memphis.stats()["producers"] == []
    await memphis.close()
    with pytest.raises(MemphisConnectError):
        memphis.stats()


async def test_library_events_reach_the_memphis_logger(broker, library, caplog):
    """The library's own events (here: connected, connection closed) are
    records of the logger "memphis", at the matching level."""
    with caplog.at_level(logging.INFO, logger="memphis"):
        memphis = Memphis()
        await memphis.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
        conn_id = memphis.stats()["connection_id"]

        def events(text: str) -> list:
            return [r for r in caplog.records if r.name == "memphis" and r.getMessage().startswith(text)]

        await eventually(lambda: any(f"connection_id={conn_id}" in r.getMessage() for r in events("connected")))
        assert {r.levelno for r in events("connected")} == {logging.INFO}
        await memphis.close()
        await eventually(lambda: any(f"connection_id={conn_id}" in r.getMessage() for r in events("connection closed")))


def test_library_levels_map_onto_logging_levels(caplog):
    """Each library level becomes its logging level; the library is asked
    only for records the logger would keep."""
    with caplog.at_level(logging.DEBUG, logger="memphis"):
        for c_level, py_level in [
            (_capi.LOG_ERROR, logging.ERROR),
            (_capi.LOG_WARN, logging.WARNING),
            (_capi.LOG_INFO, logging.INFO),
            (_capi.LOG_DEBUG, logging.DEBUG),
        ]:
            caplog.clear()
            _logging._on_log(c_level, f"event {c_level} connection_id=x".encode(), None)
            assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
                ("memphis", py_level, f"event {c_level} connection_id=x")
            ]
    assert _logging._c_level(logging.DEBUG) == _capi.LOG_DEBUG
    assert _logging._c_level(logging.INFO) == _capi.LOG_INFO
    assert _logging._c_level(logging.WARNING) == _capi.LOG_WARN
    assert _logging._c_level(logging.ERROR) == _capi.LOG_ERROR
    assert _logging._c_level(logging.CRITICAL) == _capi.LOG_ERROR


def test_a_failing_handler_does_not_reach_the_library():
    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("broken handler")

        def handleError(self, record: logging.LogRecord) -> None:
            raise RuntimeError("broken error handling")

    handler = Broken()
    _logging.logger.addHandler(handler)
    try:
        _logging._on_log(_capi.LOG_ERROR, b"event connection_id=x", None)  # must not raise
    finally:
        _logging.logger.removeHandler(handler)


def test_nothing_printed_unless_logging_is_configured(broker, library):
    """Warnings of the library and of the binding (a nonblocking produce to
    a destroyed station fails) print nothing without a logging setup."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from memphis import Memphis, MemphisError

        async def main():
            m = Memphis()
            await m.connect(host={broker.host!r}, port={broker.port}, username={USERNAME!r}, password={PASSWORD!r})
            st = await m.station(name="quiet-station")
            p = await m.producer(station_name="quiet-station", producer_name="p")
            await st.destroy()
            try:
                await p.produce(message=b"x", nonblocking=True, ack_wait_sec=1)
                await p.flush()
            except MemphisError:
                pass
            assert p.stats()["failed"] == 1, p.stats()
            await m.close()

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(BINDING)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""
