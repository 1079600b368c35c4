"""The layers bench/run.py measures and what each is compared with.

Pure data, shared by the orchestrator (bench/run.py) and the report
(bench/report.py). How each layer is built and started is in run.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Scenario names as the harnesses know them, and as the report shows them.
SCENARIOS: Dict[str, str] = {
    "sync": "sync produce",
    "async": "nonblocking → acknowledged",
    "batch": "batch produce",
    "fetch": "fetch + ack",
    "consume": "consume loop",
    "consume-noack": "consume loop, no ack",
}
PRODUCE_SCENARIOS = ("sync", "async", "batch")
RAW_ANCHOR = "nats.go"


@dataclass(frozen=True)
class Layer:
    name: str
    language: str
    ours: bool  # a libmemphis layer (False: an anchor)
    official: Optional[str] = None  # the official SDK of its language, compared with
    below: Optional[str] = None  # the libmemphis layer it is built on
    calls: Dict[str, str] = field(default_factory=dict)  # scenario -> what is timed


LAYERS: List[Layer] = [
    Layer(
        "go-sdk",
        "Go",
        True,
        official="memphis.go",
        calls={
            "sync": "`Producer.Produce`",
            "async": "`Producer.ProduceAsync` (no callback), then `Flush`",
            "batch": "`Producer.ProduceBatch` (500 a call), then `Flush`",
            "fetch": "`Consumer.Fetch(500)`, `AckAll` (confirmed)",
            "consume": "`Consumer.Consume` handler, `AckAll` per batch (confirmed)",
            "consume-noack": "`Consumer.Consume` handler, `Data()` of each, no ack",
        },
    ),
    Layer(
        "nats.go",
        "Go",
        False,
        calls={
            "sync": "`js.PublishMsg` with the two Memphis headers",
            "async": "`js.PublishMsgAsync` (same window and stall wait as the sdk), then `PublishAsyncComplete`",
            "fetch": "`Consumer.Fetch(500)`, `Msg.Ack` each (not confirmed), one `Flush` at the end",
            "consume": "`Consumer.Consume(PullMaxMessages(500))`, `Msg.Ack` each, one `Flush` at the end",
            "consume-noack": "`Consumer.Consume(PullMaxMessages(500))`, `Data()` of each, no ack",
        },
    ),
    Layer(
        "memphis.go",
        "Go",
        False,
        calls={
            "sync": "`Producer.Produce(SyncProduce())`",
            "async": "`Produce(AsyncProduce())`, the last message `SyncProduce()` (no flush call exists; "
            "acks of one stream arrive in order)",
            "fetch": "`Consumer.Fetch(500, false)`, `Msg.Ack` each (not confirmed)",
            "consume": "`Consumer.Consume` (pull interval 1 ms, batch 500), `Msg.Ack` each",
            "consume-noack": "`Consumer.Consume` (pull interval 1 ms, batch 500), `Data()` of each, no ack",
        },
    ),
    Layer(
        "c-api",
        "C",
        True,
        official="nats.c",
        below="go-sdk",
        calls={
            "sync": "`memphis_producer_produce`",
            "async": "`memphis_producer_produce_async` (no callback), then `memphis_producer_flush`",
            "batch": "`memphis_producer_produce_batch` (500 a call), then `memphis_producer_flush`",
            "fetch": "`memphis_consumer_fetch(500)`, `memphis_msgs_ack` (confirmed)",
            "consume": "`memphis_consumer_consume` callback, `memphis_msgs_ack` per batch (confirmed)",
            "consume-noack": "`memphis_consumer_consume` callback, `memphis_msg_data` of each, no ack",
        },
    ),
    Layer(
        "nats.c",
        "C",
        False,
        calls={
            "sync": "`js_PublishMsg` with the two Memphis headers",
            "async": "`js_PublishMsgAsync` (libmemphis's window and ack wait), then `js_PublishAsyncComplete`",
            "fetch": "`natsSubscription_Fetch(500)`, `natsMsg_Ack` each (not confirmed), one flush at the end",
        },
    ),
    Layer(
        "python",
        "Python",
        True,
        official="memphis-py",
        below="c-api",
        calls={
            "sync": "`await producer.produce(...)`",
            "async": "`await producer.produce(..., nonblocking=True)`, then `await producer.flush()`",
            "batch": "`await producer.produce_batch(...)` (500 a call; returns once the batch is acknowledged)",
            "fetch": "`await consumer.fetch(batch_size=500)`, `await msg.ack()` each (not confirmed)",
            "consume": "`consumer.consume(handler)`, `await msg.ack()` each",
            "consume-noack": "`consumer.consume(handler)`, `msg.get_data()` of each, no ack",
        },
    ),
    Layer(
        "memphis-py",
        "Python",
        False,
        calls={
            "sync": "`await producer.produce(...)`",
            "async": "`await producer.produce(..., nonblocking=True)`, then awaiting `producer.background_tasks`",
            "fetch": "`await consumer.fetch(batch_size=500)`, `await msg.ack()` each (not confirmed)",
            "consume": "`consumer.consume(handler)`, `await msg.ack()` each",
            "consume-noack": "`consumer.consume(handler)`, `msg.get_data()` of each, no ack",
        },
    ),
    Layer(
        "ruby",
        "Ruby",
        True,
        below="c-api",
        calls={
            "sync": "`producer.produce(data)`",
            "async": "`producer.produce(data, nonblocking: true)`, then `producer.flush`",
            "batch": "`producer.produce_batch(chunk)` (500 a call), then `producer.flush`",
            "fetch": "`consumer.fetch(batch_size: 500)`, `Memphis.ack_all` (confirmed)",
            "consume": "`consumer.consume` block, `Memphis.ack_all` per batch (confirmed)",
            "consume-noack": "`consumer.consume` block, `data` of each, no ack",
        },
    ),
]

BY_NAME: Dict[str, Layer] = {layer.name: layer for layer in LAYERS}
