"""User code (logging handlers, consume handlers) never runs under one of
the binding's locks: a slow handler that takes its own lock, with the broker
paused mid-produce, slows the producer down but never freezes it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from memphis import Memphis, MemphisError

from conftest import PASSWORD, USERNAME, eventually, pause_broker, start_broker, stop_broker


class SlowLockedHandler(logging.Handler):
    """An application handler guarding the application's state with the
    application's lock, slow while holding it."""

    def __init__(self, app_lock: threading.RLock) -> None:
        super().__init__()
        self.app_lock = app_lock
        self.messages: list = []

    def emit(self, record: logging.LogRecord) -> None:
        with self.app_lock:
            time.sleep(0.02)
            self.messages.append(record.getMessage())


@pytest.fixture
def own_broker(library):
    workdir = Path(tempfile.mkdtemp(prefix="memphis-py-usercode-"))
    proc, info = start_broker(workdir)
    try:
        yield proc, info
    finally:
        proc.send_signal(signal.SIGCONT)
        stop_broker(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def test_slow_locked_logging_handler_with_a_paused_broker(own_broker, name):
    """The application holds its lock while it produces and its handler
    takes the same lock. Failure reports logged on a library thread under
    an internal lock (issue 11) deadlock here: the producer waits for that
    internal lock, whose holder waits in the handler for the application's
    lock. The scenario runs on a thread of its own so a deadlock fails the
    test instead of hanging it."""
    proc, broker = own_broker
    app_lock = threading.RLock()
    handler = SlowLockedHandler(app_lock)
    log = logging.getLogger("memphis")
    log.addHandler(handler)
    outcome: dict = {}

    async def scenario() -> None:
        m = Memphis()
        await m.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
        try:
            producer = await m.producer(station_name=name("st"), producer_name="p")
            await producer.produce(b"before")
            pause_broker(proc)  # mid-produce: no ack comes any more
            with app_lock:
                for i in range(30):
                    await producer.produce(
                        f"m{i}".encode(), nonblocking=True, limit_concurrent_tasks=5, ack_wait_sec=0.5
                    )
            try:
                await producer.flush()
            except MemphisError as exc:
                outcome["flush"] = str(exc)
            proc.send_signal(signal.SIGCONT)
            await producer.produce(b"after")
            outcome["after"] = True
        finally:
            await m.close()

    worker = threading.Thread(target=lambda: asyncio.run(scenario()), daemon=True)
    try:
        worker.start()
        worker.join(timeout=120)  # generous: 30 messages, 5 at a time, 0.5 s ack wait
        assert not worker.is_alive(), "the producer froze"
    finally:
        proc.send_signal(signal.SIGCONT)
        log.removeHandler(handler)
    assert "nonblocking produce call(s) of producer p failed" in outcome.get("flush", ""), outcome
    assert outcome.get("after"), outcome
    assert any("nonblocking produce by p failed" in msg for msg in handler.messages)


async def test_slow_locked_consume_handler_with_a_paused_broker(own_broker, name):
    proc, broker = own_broker
    app_lock = threading.Lock()
    m = Memphis()
    try:
        await m.connect(host=broker.host, port=broker.port, username=USERNAME, password=PASSWORD)
        st = name("st")
        producer = await m.producer(station_name=st, producer_name="p")
        for i in range(20):
            await producer.produce(f"m{i}".encode())
        consumer = await m.consumer(
            station_name=st, consumer_name="c", pull_interval_ms=10, batch_size=5, batch_max_time_to_wait_ms=200
        )
        seen: list = []
        errors: list = []

        def handler(msgs, error, context):
            with app_lock:
                time.sleep(0.05)
                seen.extend(bytes(x.get_data()) for x in msgs)
                if error is not None:
                    errors.append(error)

        consumer.consume(handler)
        await eventually(lambda: len(seen) >= 5, timeout=60)
        pause_broker(proc)
        # The loop keeps serving other work while the broker is away.
        await asyncio.wait_for(producer.produce(b"x", nonblocking=True), timeout=30)
        await asyncio.sleep(1)
        proc.send_signal(signal.SIGCONT)
        await eventually(lambda: len(set(seen)) >= 20, timeout=120)
        await asyncio.wait_for(consumer.stop_consume(), timeout=60)
    finally:
        await m.close()
