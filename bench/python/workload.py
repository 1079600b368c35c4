"""The Python harness: every scenario written once against the documented
memphis-py API, so it runs unchanged on this binding (layer ``python``) and
on the official memphis-py (layer ``memphis-py``); both import as
``memphis``, so each runs in its own interpreter (bench/run.py gives
memphis-py a private venv).

Same protocol as the other harnesses (bench/README.md): ``--host/--port/
--user/--password`` (no host: a fresh memphis-devbroker is started), cells
``scenario:size:producers:count`` as arguments or, with none, one per line
of stdin, and one JSON line per cell on stdout.

    PYTHONPATH=bindings/python python3 bench/python/workload.py sync:512:1:2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import memphis
from memphis import Memphis

# bench/broker.py: standard library only, so memphis-py's venv can import it too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from broker import Devbroker

BATCH = 500  # batch chunk and fetch / consume batch, as in every harness
QUANTILES = 201  # latency points: 0, 0.5, ..., 100 %
CONSUME_TIMEOUT = 300.0
SCENARIOS = ("sync", "async", "batch", "fetch", "consume", "consume-noack")


class Unsupported(Exception):
    """The layer has no API for the scenario."""


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def quantiles(latencies: List[float]) -> List[float]:
    """0, 0.5, ..., 100 % points (nearest rank), in microseconds."""
    s = sorted(latencies)
    return [round(s[(i * (len(s) - 1) + 100) // 200] * 1e6, 2) for i in range(QUANTILES)]


def payload(size: int) -> bytearray:
    return bytearray((ord("a") + i % 26) for i in range(size))


def split(count: int, n: int) -> List[int]:
    return [count // n + (1 if i < count % n else 0) for i in range(n)]


class Clock:
    """Wall clock and this process's CPU time (all threads)."""

    def __init__(self) -> None:
        self.cpu = cpu_seconds()
        self.wall = time.perf_counter()

    def result(self, n: int, latencies: Optional[List[float]] = None) -> Dict[str, Any]:
        wall = time.perf_counter() - self.wall
        out: Dict[str, Any] = {
            "messages": n,
            "seconds": wall,
            "msg_per_s": n / wall,
            "cpu_us_per_msg": (cpu_seconds() - self.cpu) * 1e6 / n,
        }
        if latencies:
            out["latency_us"] = quantiles(latencies)
        return out


class Layer:
    def __init__(self, memphis: Any, official: bool) -> None:
        self.memphis = memphis
        self.official = official

    async def produce_nonblocking(self, producer: Any, data: bytearray, n: int) -> None:
        """n nonblocking produces, returning once every one is acknowledged."""
        for _ in range(n):
            await producer.produce(message=data, nonblocking=True)
        if self.official:
            # memphis-py: each nonblocking publish is a task awaiting its ack.
            while producer.background_tasks:
                await asyncio.gather(*list(producer.background_tasks))
        else:
            await producer.flush()

    async def run(self, cell: Dict[str, Any], station_name: str) -> Dict[str, Any]:
        scenario, size, producers, count = cell["scenario"], cell["size"], cell["producers"], cell["count"]
        if scenario == "batch" and self.official:
            raise Unsupported("memphis-py 1.3.1 has no batch produce call")
        station = await self.memphis.station(name=station_name)
        try:
            data = payload(size)
            if scenario in ("fetch", "consume", "consume-noack"):
                filler = await self.memphis.producer(station_name=station_name, producer_name="filler")
                await self.produce_nonblocking(filler, data, count)
                await filler.destroy()
                if scenario == "fetch":
                    return await self.fetch(station_name, count)
                return await self.consume(station_name, count, ack=scenario == "consume")
            return await self.produce(scenario, station_name, data, producers, count)
        finally:
            await station.destroy()

    async def produce(self, scenario: str, station: str, data: bytearray, producers: int, count: int) -> Dict[str, Any]:
        prods = [await self.memphis.producer(station_name=station, producer_name=f"p{i}") for i in range(producers)]
        shares = split(count, producers)
        latencies: List[float] = []

        async def work(p: Any, n: int) -> None:
            if scenario == "sync":
                for _ in range(n):
                    t = time.perf_counter()
                    await p.produce(message=data)
                    latencies.append(time.perf_counter() - t)
            elif scenario == "async":
                await self.produce_nonblocking(p, data, n)
            else:  # batch: this binding's produce_batch waits for the batch's acks
                for sent in range(0, n, BATCH):
                    await p.produce_batch([data] * min(BATCH, n - sent))

        clock = Clock()
        await asyncio.gather(*(work(p, n) for p, n in zip(prods, shares)))
        result = clock.result(count, latencies)
        for p in prods:
            await p.destroy()
        return result

    async def consumer(self, station: str) -> Any:
        return await self.memphis.consumer(
            station_name=station,
            consumer_name="reader",
            pull_interval_ms=1,
            batch_size=BATCH,
            batch_max_time_to_wait_ms=1000,
        )

    async def fetch(self, station: str, n: int) -> Dict[str, Any]:
        consumer = await self.consumer(station)
        clock = Clock()
        got = 0
        while got < n:
            msgs = await consumer.fetch(batch_size=min(BATCH, n - got))
            if not msgs:
                raise RuntimeError(f"station drained after {got} of {n} messages")
            for msg in msgs:
                msg.get_data()
                await msg.ack()
            got += len(msgs)
        result = clock.result(n)
        await consumer.destroy()
        return result

    async def consume(self, station: str, n: int, ack: bool) -> Dict[str, Any]:
        consumer = await self.consumer(station)
        got = 0
        done = asyncio.Event()

        async def handler(msgs: List[Any], error: Any, context: Any) -> None:
            nonlocal got
            for msg in msgs:
                msg.get_data()
                if ack:
                    await msg.ack()
            got += len(msgs)
            if got >= n:
                done.set()

        clock = Clock()
        consumer.consume(handler)
        try:
            await asyncio.wait_for(done.wait(), timeout=CONSUME_TIMEOUT)
        except asyncio.TimeoutError:
            raise RuntimeError(f"consume loop delivered {got} of {n} messages in {CONSUME_TIMEOUT:.0f} s") from None
        result = clock.result(n)
        await consumer.destroy()
        return result


def parse_cell(spec: str) -> Dict[str, Any]:
    parts = spec.strip().split(":")
    if len(parts) != 4 or parts[0] not in SCENARIOS or not all(p.isdigit() and int(p) > 0 for p in parts[1:]):
        raise ValueError(f"cell {spec!r}: want scenario:size:producers:count with a scenario of {', '.join(SCENARIOS)}")
    return {"scenario": parts[0], "size": int(parts[1]), "producers": int(parts[2]), "count": int(parts[3])}


async def measure_all(args: argparse.Namespace, host: str, port: int) -> None:
    # This binding's Producer has flush(); memphis-py does not export Producer.
    official = not hasattr(getattr(memphis, "Producer", None), "flush")
    name = args.layer or ("memphis-py" if official else "python")
    prefix = args.station_prefix or f"bench-{name.replace('.', '-')}-{os.getpid()}"
    client = Memphis()
    await client.connect(host=host, port=port, username=args.user, password=args.password)
    layer = Layer(client, official)
    loop = asyncio.get_running_loop()
    specs: Sequence[str] = args.cells
    seq = 0
    try:
        while True:
            if args.cells:
                if seq >= len(specs):
                    break
                spec = specs[seq]
            else:
                # Read without blocking the loop (the client keeps its connection alive meanwhile).
                spec = await loop.run_in_executor(None, sys.stdin.readline)
                if not spec:
                    break
                if not spec.strip():
                    continue
            seq += 1
            out: Dict[str, Any] = {"layer": name}
            try:
                cell = parse_cell(spec)
                out.update(scenario=cell["scenario"], size=cell["size"], producers=cell["producers"])
                out.update(await layer.run(cell, f"{prefix}-{seq}"))
            except Unsupported as exc:
                out["unsupported"] = str(exc)
            except Exception as exc:
                out["error"] = f"{type(exc).__name__}: {exc}"
            print(json.dumps(out), flush=True)
    finally:
        await client.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", help="broker host (default: start a fresh memphis-devbroker)")
    ap.add_argument("--port", type=int, default=6666)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="memphis")
    ap.add_argument("--layer", help="name in the results (default: python or memphis-py, by the package found)")
    ap.add_argument("--station-prefix")
    ap.add_argument("cells", nargs="*", help="scenario:size:producers:count (none: read from stdin)")
    args = ap.parse_args()
    if args.host:
        asyncio.run(measure_all(args, args.host, args.port))
        return 0
    with Devbroker() as broker:
        print(f"bench: started memphis-devbroker on {broker.host}:{broker.port}", file=sys.stderr)
        asyncio.run(measure_all(args, broker.host, broker.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
