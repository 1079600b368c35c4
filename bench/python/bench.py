"""Benchmark: this binding beside the official memphis-py, same broker, same run.

Measures 512-byte messages: sync produce, nonblocking produce (until every
message is acknowledged) and consume (consume() handler, batch 1000, with
and without a per-message ack). Prints messages per second and the ratio
binding / memphis-py. The memphis-py column is skipped (with the reason)
when that package cannot be installed.

usage: python3 bench/python/bench.py [--sync N] [--async N] [--consume N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TESTS = REPO / "bindings" / "python" / "tests"
sys.path.insert(0, str(TESTS))

import conftest  # noqa: E402  (broker start/stop shared with the test suite)
import official_sdk  # noqa: E402


def run_workload(python: str, env: dict, broker: conftest.Broker, args: argparse.Namespace) -> dict:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    cmd = [python, str(HERE / "workload.py"), broker.host, str(broker.port), prefix]
    cmd += [str(args.sync), str(args.async_), str(args.consume)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{python} workload failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sync", type=int, default=3000)
    ap.add_argument("--async", dest="async_", type=int, default=30000)
    ap.add_argument("--consume", type=int, default=30000)
    args = ap.parse_args()
    conftest._ensure_built()
    workdir = Path(tempfile.mkdtemp(prefix="memphis-bench-"))
    proc, broker = conftest.start_broker(workdir)
    try:
        ours_env = dict(os.environ, PYTHONPATH=str(REPO / "bindings" / "python"))
        ours = run_workload(sys.executable, ours_env, broker, args)
        official_py, why = official_sdk.ensure()
        theirs = None
        if official_py is not None:
            theirs_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            theirs = run_workload(str(official_py), theirs_env, broker, args)
    finally:
        conftest.stop_broker(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"512-byte messages, memphis-devbroker on {broker.host}, file storage, 1 partition")
    print(f"{'operation':<22}{'libmemphis msg/s':>18}{'memphis-py msg/s':>18}{'ratio':>8}")
    for key in ("sync_produce", "nonblocking_produce", "consume", "consume_ack", "consume_ack_many"):
        a = ours[key]
        b = theirs.get(key) if theirs else None
        ratio = f"{a / b:.1f}x" if b else "-"
        print(f"{key:<22}{a:>18,.0f}{(f'{b:,.0f}' if b else 'skipped'):>18}{ratio:>8}")
    if theirs is None:
        print(f"memphis-py column skipped: {why}")
    print("consume: consume() handler reading every payload, no ack; consume_ack: plus `await msg.ack()`")
    print("per message (send-only in both: the ack is queued, not confirmed);")
    print("consume_ack_many: plus one confirmed `await Message.ack_many(msgs)` per batch (libmemphis only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
