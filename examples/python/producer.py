"""Produce a few messages with the documented memphis-py API (on libmemphis).

Reads MEMPHIS_HOST, MEMPHIS_PORT, MEMPHIS_USERNAME, MEMPHIS_PASSWORD and
optionally MEMPHIS_STATION (default "demo-python").
"""

from __future__ import annotations

import asyncio
import os

from memphis import Headers, Memphis, MemphisError
from memphis.types import Retention, Storage


async def main() -> None:
    station_name = os.environ.get("MEMPHIS_STATION", "demo-python")
    memphis = Memphis()
    try:
        await memphis.connect(
            host=os.environ.get("MEMPHIS_HOST", "localhost"),
            port=int(os.environ.get("MEMPHIS_PORT", "6666")),
            username=os.environ.get("MEMPHIS_USERNAME", "root"),
            password=os.environ.get("MEMPHIS_PASSWORD", "memphis"),
        )
        await memphis.station(
            name=station_name,
            retention_type=Retention.MESSAGES,
            retention_value=1000,
            storage_type=Storage.DISK,
        )
        producer = await memphis.producer(station_name=station_name, producer_name="example-producer")
        headers = Headers()
        headers.add("source", "examples/python")
        for i in range(5):
            await producer.produce(message={"n": i, "text": f"hello {i}"}, headers=headers)
        # Nonblocking produce: queue, then wait for every acknowledgement.
        for i in range(5, 10):
            await producer.produce(message=f"fast {i}", nonblocking=True)
        await producer.flush()
        print(f"produced 10 messages to {station_name}")
        await producer.destroy()
    except MemphisError as e:
        print(e)
        raise SystemExit(1) from e
    finally:
        await memphis.close()


if __name__ == "__main__":
    asyncio.run(main())
