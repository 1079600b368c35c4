"""Consume messages with the documented memphis-py API (on libmemphis).

Stops after MEMPHIS_EXPECT messages (default 10) or when the station is
drained ("Memphis: TimeoutError"), whichever comes first.
"""

from __future__ import annotations

import asyncio
import os

from memphis import Memphis, MemphisError


async def main() -> None:
    station_name = os.environ.get("MEMPHIS_STATION", "demo-python")
    expect = int(os.environ.get("MEMPHIS_EXPECT", "10"))
    memphis = Memphis()
    done = asyncio.Event()
    received = []
    try:
        await memphis.connect(
            host=os.environ.get("MEMPHIS_HOST", "localhost"),
            port=int(os.environ.get("MEMPHIS_PORT", "6666")),
            username=os.environ.get("MEMPHIS_USERNAME", "root"),
            password=os.environ.get("MEMPHIS_PASSWORD", "memphis"),
        )
        consumer = await memphis.consumer(
            station_name=station_name,
            consumer_name="example-consumer",
            pull_interval_ms=100,
            batch_max_time_to_wait_ms=1000,
        )
        consumer.set_context({"station": station_name})

        async def msg_handler(msgs, error, context):
            for msg in msgs:
                received.append(msg)
                source = msg.get_headers().get("source", "")
                print(f"message {msg.get_sequence_number()}: {msg.get_data().decode()} {source}")
                await msg.ack()
            if error:
                print(f"{context['station']}: {error}")
                done.set()
            if len(received) >= expect:
                done.set()

        consumer.consume(msg_handler)
        await asyncio.wait_for(done.wait(), timeout=60)
        await consumer.destroy()
        print(f"consumed {len(received)} messages from {station_name}")
        if len(received) < expect:
            raise SystemExit(f"expected {expect} messages")
    except MemphisError as e:
        print(e)
        raise SystemExit(1) from e
    finally:
        await memphis.close()


if __name__ == "__main__":
    asyncio.run(main())
