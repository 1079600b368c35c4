"""Checks of the orchestrator's matrix and the report's arithmetic.

    python3 -m unittest bench/test_bench.py
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
import run


def rec(layer: str, scenario: str, rnd: int, rate: float, size: int = 512, producers: int = 1) -> dict:
    return {"layer": layer, "scenario": scenario, "size": size, "producers": producers, "round": rnd,
            "msg_per_s": rate, "cpu_us_per_msg": 1.0}


class MatrixTest(unittest.TestCase):
    def test_every_scenario_at_every_size_then_producers_at_512(self) -> None:
        cells = run.matrix(["sync", "fetch"], [64, 512], [1, 4], quick=False, scale=1.0)
        self.assertEqual(
            [c.spec for c in cells],
            ["sync:64:1:3000", "sync:512:1:3000", "fetch:64:1:20000", "fetch:512:1:20000", "sync:512:4:3000"],
        )

    def test_fetch_and_consume_counts_are_whole_batches(self) -> None:
        for quick in (False, True):
            for size in (64, 512, 8192):
                for scenario in ("fetch", "consume", "consume-noack"):
                    n = run.cell_count(scenario, size, quick, 1.0)
                    self.assertEqual(n % run.BATCH, 0, (scenario, size, quick, n))
                    self.assertGreater(n, 0)


class ReportTest(unittest.TestCase):
    def test_ratio_is_the_median_of_per_round_ratios(self) -> None:
        # Round 2 runs at half speed for both layers: per-round ratios are
        # 1.0, 1.0, 2.0 (median 1.0), while the ratio of the medians is 1.5.
        res = report.Results([
            rec("go-sdk", "sync", 1, 100), rec("nats.go", "sync", 1, 100),
            rec("go-sdk", "sync", 2, 50), rec("nats.go", "sync", 2, 50),
            rec("go-sdk", "sync", 3, 300), rec("nats.go", "sync", 3, 150),
        ])
        r = res.ratio(("go-sdk", "sync", 512, 1), "nats.go")
        assert r is not None
        self.assertEqual(r, (1.0, 1.0, 2.0, 3))
        self.assertEqual(res.median(("go-sdk", "sync", 512, 1)), 100)
        self.assertEqual(res.span(("go-sdk", "sync", 512, 1)), (50, 300))

    def test_rounds_missing_on_one_side_are_left_out(self) -> None:
        res = report.Results([
            rec("c-api", "async", 1, 90), rec("nats.c", "async", 1, 100),
            rec("c-api", "async", 2, 80),
            {"layer": "nats.c", "scenario": "async", "size": 512, "producers": 1, "round": 2, "error": "boom"},
        ])
        self.assertEqual(res.ratio(("c-api", "async", 512, 1), "nats.c"), (0.9, 0.9, 0.9, 1))
        self.assertEqual(len(res.errors), 1)

    def test_markdown_says_why_a_layer_has_no_figure(self) -> None:
        res = report.Results([
            rec("go-sdk", "batch", 1, 100),
            {"layer": "nats.go", "scenario": "batch", "size": 512, "producers": 1, "round": 1,
             "unsupported": "no batch call"},
        ])
        text = report.markdown(res, {"mode": "full"}, [])
        self.assertIn("**nats.go**, batch produce: no batch call", text)
        self.assertIn("| nats.go | n/a |", text)


if __name__ == "__main__":
    unittest.main()
