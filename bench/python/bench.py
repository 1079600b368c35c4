"""Benchmark: this binding beside the official memphis-py, same broker, same run.

Measures 512-byte messages: sync produce, nonblocking produce (until every
message is acknowledged) and consume (consume() handler, batch 1000, with
and without a per-message ack). Prints messages per second and the ratio
binding / memphis-py. The memphis-py column is skipped (with the reason)
when that package cannot be installed.

The machine drifts between runs, so the workloads alternate over --rounds
rounds (which package goes first alternates too) and each ratio is the
median of the per-round ratios; msg/s columns are medians.

usage: python3 bench/python/bench.py [--sync N] [--async N] [--consume N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
    out = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{python} workload failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


KEYS = ("sync_produce", "nonblocking_produce", "consume", "consume_ack", "consume_ack_many")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sync", type=int, default=3000)
    ap.add_argument("--async", dest="async_", type=int, default=30000)
    ap.add_argument("--consume", type=int, default=30000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    conftest._ensure_built()
    workdir = Path(tempfile.mkdtemp(prefix="memphis-bench-"))
    proc, broker = conftest.start_broker(workdir)
    ours_runs: list = []
    theirs_runs: list = []
    why = ""
    try:
        ours_env = dict(os.environ, PYTHONPATH=str(REPO / "bindings" / "python"))
        official_py, why = official_sdk.ensure()
        theirs_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        for r in range(args.rounds):
            order = ["ours", "theirs"] if r % 2 == 0 else ["theirs", "ours"]
            for who in order:
                if who == "ours":
                    ours_runs.append(run_workload(sys.executable, ours_env, broker, args))
                elif official_py is not None:
                    theirs_runs.append(run_workload(str(official_py), theirs_env, broker, args))
    finally:
        conftest.stop_broker(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"512-byte messages, memphis-devbroker on {broker.host}, file storage, 1 partition; {args.rounds} rounds")
    print("msg/s: medians; ratio: median of the per-round ratios")
    print(f"{'operation':<22}{'libmemphis msg/s':>18}{'memphis-py msg/s':>18}{'ratio':>8}{'   per round':<}")
    for key in KEYS:
        a = statistics.median(run[key] for run in ours_runs)
        theirs_vals = [run.get(key) for run in theirs_runs]
        if theirs_vals and all(theirs_vals):
            b = statistics.median(theirs_vals)
            per_round = [o[key] / t[key] for o, t in zip(ours_runs, theirs_runs)]
            ratio = f"{statistics.median(per_round):.2f}x"
            rounds = "   " + " ".join(f"{x:.2f}" for x in per_round)
            print(f"{key:<22}{a:>18,.0f}{b:>18,.0f}{ratio:>8}{rounds}")
        else:
            print(f"{key:<22}{a:>18,.0f}{'skipped':>18}{'-':>8}")
    if not theirs_runs:
        print(f"memphis-py column skipped: {why}")
    print("consume: consume() handler reading every payload, no ack; consume_ack: plus `await msg.ack()`")
    print("per message (send-only in both: the ack is queued, not confirmed);")
    print("consume_ack_many: plus one confirmed `await Message.ack_many(msgs)` per batch (libmemphis only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
