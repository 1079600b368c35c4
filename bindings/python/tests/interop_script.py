"""Runs under the official memphis-py (see official_sdk.py): produce or consume.

usage: interop_script.py produce|consume HOST PORT STATION COUNT
consume prints a JSON list of {"data", "headers"} on stdout.
"""

import asyncio
import json
import sys
import time

from memphis import Headers, Memphis


async def main() -> None:
    mode, host, port, station, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    memphis = Memphis()
    await memphis.connect(host=host, port=port, username="root", password="memphis")
    try:
        if mode == "produce":
            producer = await memphis.producer(station_name=station, producer_name="official")
            for i in range(count):
                headers = Headers()
                headers.add("origin", "memphis-py")
                headers.add("i", str(i))
                await producer.produce(
                    message=bytearray(f"official-{i}".encode()), headers=headers, msg_id=f"official-id-{i}"
                )
        else:
            consumer = await memphis.consumer(station_name=station, consumer_name="official", batch_size=10)
            out = []
            deadline = time.monotonic() + 60
            while len(out) < count and time.monotonic() < deadline:
                for msg in await consumer.fetch(batch_size=10):
                    out.append({"data": bytes(msg.get_data()).decode(), "headers": dict(msg.get_headers())})
                    await msg.ack()
            print(json.dumps(out))
    finally:
        await memphis.close()


asyncio.run(main())
