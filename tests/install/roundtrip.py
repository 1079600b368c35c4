"""Install test for the wheel: run from a fresh venv outside the source tree.

Checks that ``memphis`` comes from the venv and loads the library it carries
(argv[3] ``bundled``) or, with that copy removed, the one the system loader
finds (``system``); that the distribution's version, ``memphis.__version__`` and the library's
``memphis_version_str()`` all equal argv[1], then produces N messages with a
header to station argv[2] and consumes them back with the documented
memphis-py API. Broker from MEMPHIS_HOST/PORT/USERNAME/PASSWORD.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
from importlib import metadata
from pathlib import Path

import memphis
from memphis import Memphis, _locate

N = 5


def fail(text: str) -> None:
    raise SystemExit(f"FAIL {text}")


def check_install(version: str, source: str) -> Path:
    package = Path(memphis.__file__).resolve().parent
    if not package.is_relative_to(Path(sys.prefix).resolve()):
        fail(f"memphis imported from {package}, not from the venv {sys.prefix}")
    want = package / "_lib" / _locate.SONAME if source == "bundled" else Path(_locate.SONAME)
    found_lib = _locate.find_library()
    if found_lib != want:
        fail(f"library resolved to {found_lib}, expected {want}")
    lib = ctypes.CDLL(str(found_lib))
    lib.memphis_version_str.restype = ctypes.c_char_p
    found = {
        "distribution": metadata.version("libmemphis"),
        "memphis.__version__": memphis.__version__,
        "memphis_version_str()": lib.memphis_version_str().decode(),
    }
    if set(found.values()) != {version}:
        fail(f"versions disagree with VERSION {version}: {found}")
    return found_lib


async def round_trip(station: str) -> None:
    conn = Memphis()
    await conn.connect(
        host=os.environ["MEMPHIS_HOST"],
        port=int(os.environ["MEMPHIS_PORT"]),
        username=os.environ["MEMPHIS_USERNAME"],
        password=os.environ["MEMPHIS_PASSWORD"],
    )
    try:
        await conn.station(name=station)
        producer = await conn.producer(station_name=station, producer_name="install-producer")
        for i in range(N):
            await producer.produce(bytearray(f"py-{i}".encode()), headers={"origin": "install-test"})
        consumer = await conn.consumer(
            station_name=station, consumer_name="install-consumer", batch_max_time_to_wait_ms=500
        )
        got = []
        for _ in range(40):
            if len(got) == N:
                break
            msgs = await consumer.fetch(batch_size=N - len(got))
            for msg in msgs:
                if msg.get_headers().get("origin") != "install-test":
                    fail(f"message {len(got)} has headers {msg.get_headers()}")
                got.append(bytes(msg.get_data()).decode())
                await msg.ack()
        if got != [f"py-{i}" for i in range(N)]:
            fail(f"received {got}")
        await consumer.destroy()
        await producer.destroy()
    finally:
        await conn.close()


def main() -> None:
    version, station, source = sys.argv[1:4]
    lib = check_install(version, source)
    asyncio.run(round_trip(station))
    print(f"python round trip ok: {N} messages, libmemphis {version} ({source}: {lib})")


if __name__ == "__main__":
    main()
