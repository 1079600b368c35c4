"""report.md and PNG plots from one bench/run.py run.

    build/bench/venv/bin/python bench/report.py bench/results/<date>

Reads results.jsonl (one JSON line per layer, cell and round) and meta.json
from the directory and writes report.md and *.png next to them. Every ratio
is the median of per-round ratios: both sides of a ratio were measured
seconds apart in the same round, so machine drift cancels out, which it
does not in a ratio of two medians.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from layers import BY_NAME, LAYERS, PRODUCE_SCENARIOS, RAW_ANCHOR, SCENARIOS

Key = Tuple[str, str, int, int]  # layer, scenario, size, producers
X = "\u00d7"  # multiplication sign, as in 0.98x
DASH = "\u2013"  # en dash, for ranges
MAIN_SIZE = 512

# A colour family per language (anchors lighter), raw nats.go in grey.
COLORS = {
    "go-sdk": "#1f77b4",
    "nats.go": "#555555",
    "memphis.go": "#9ecae1",
    "c-api": "#d62728",
    "nats.c": "#fc9272",
    "python": "#2ca02c",
    "memphis-py": "#a1d99b",
    "ruby": "#9467bd",
}


class Results:
    def __init__(self, records: Iterable[Dict[str, Any]]) -> None:
        self.rates: Dict[Key, Dict[int, float]] = defaultdict(dict)
        self.cpu: Dict[Key, Dict[int, float]] = defaultdict(dict)
        self.latency: Dict[Key, Dict[int, List[float]]] = defaultdict(dict)
        self.unsupported: Dict[Tuple[str, str], str] = {}
        self.errors: List[Dict[str, Any]] = []
        self.layers: List[str] = []
        self.sizes: set = set()
        self.producers: set = set()
        self.scenarios: set = set()
        for rec in records:
            key = (rec["layer"], rec["scenario"], int(rec["size"]), int(rec["producers"]))
            if rec["layer"] not in self.layers:
                self.layers.append(rec["layer"])
            self.scenarios.add(rec["scenario"])
            self.sizes.add(key[2])
            self.producers.add(key[3])
            if rec.get("unsupported"):
                self.unsupported[(rec["layer"], rec["scenario"])] = rec["unsupported"]
            elif rec.get("error"):
                self.errors.append(rec)
            elif rec.get("msg_per_s"):
                self.rates[key][rec["round"]] = float(rec["msg_per_s"])
                self.cpu[key][rec["round"]] = float(rec.get("cpu_us_per_msg", 0.0))
                if rec.get("latency_us"):
                    self.latency[key][rec["round"]] = rec["latency_us"]
        order = [layer.name for layer in LAYERS]
        self.layers.sort(key=lambda n: order.index(n) if n in order else len(order))

    def median(self, key: Key) -> Optional[float]:
        v = self.rates.get(key)
        return statistics.median(v.values()) if v else None

    def span(self, key: Key) -> Optional[Tuple[float, float]]:
        v = self.rates.get(key)
        return (min(v.values()), max(v.values())) if v else None

    def cpu_median(self, key: Key) -> Optional[float]:
        v = self.cpu.get(key)
        return statistics.median(v.values()) if v else None

    def ratio(self, key: Key, anchor: str) -> Optional[Tuple[float, float, float, int]]:
        """Median, min and max of the per-round ratios key / anchor, and the
        number of rounds in which both were measured."""
        a = self.rates.get(key, {})
        b = self.rates.get((anchor, *key[1:]), {})
        per_round = [a[r] / b[r] for r in a if r in b and b[r] > 0]
        if not per_round:
            return None
        return statistics.median(per_round), min(per_round), max(per_round), len(per_round)


def fmt_rate(v: Optional[float]) -> str:
    return DASH if v is None else f"{v:,.0f}"


def fmt_ratio(r: Optional[Tuple[float, float, float, int]], spread: bool = True) -> str:
    if r is None:
        return DASH
    med, lo, hi, _ = r
    return f"{med:.2f}{X} ({lo:.2f}{DASH}{hi:.2f})" if spread else f"{med:.2f}{X}"


def cell_note(res: Results, layer: str, scenario: str) -> str:
    """What to print where a layer has no figure for a scenario."""
    if (layer, scenario) in res.unsupported:
        return "n/a"
    return DASH


def comparisons(res: Results) -> List[Tuple[str, str, str]]:
    """(layer, anchor, what) for every ratio the report shows."""
    out = []
    for name in res.layers:
        layer = BY_NAME.get(name)
        if layer is None or not layer.ours:
            continue
        if RAW_ANCHOR in res.layers:
            out.append((name, RAW_ANCHOR, "raw nats.go"))
        if layer.official and layer.official in res.layers:
            out.append((name, layer.official, f"official {layer.language} SDK"))
        if layer.below and layer.below in res.layers:
            out.append((name, layer.below, "layer below"))
    return out


# ------------------------------------------------------------------ plots


def plots(res: Results, out: Path) -> List[Tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: List[Tuple[str, str]] = []
    scenarios = [s for s in SCENARIOS if s in res.scenarios]
    sizes = sorted(res.sizes)
    main_size = MAIN_SIZE if MAIN_SIZE in res.sizes else sizes[0]

    def style(layer: str) -> Dict[str, Any]:
        ours = BY_NAME[layer].ours if layer in BY_NAME else True
        return {"color": COLORS.get(layer, "gray"), "linestyle": "-" if ours else "--"}

    # 1. Throughput per layer and anchor per scenario.
    fig, ax = plt.subplots(figsize=(11, 6))
    width = 0.8 / max(1, len(res.layers))
    missing = []
    for i, layer in enumerate(res.layers):
        xs, ys, lo, hi = [], [], [], []
        for j, s in enumerate(scenarios):
            key = (layer, s, main_size, 1)
            m, sp = res.median(key), res.span(key)
            x = j + (i - (len(res.layers) - 1) / 2) * width
            if m is None or sp is None:
                missing.append((x, "n/a" if (layer, s) in res.unsupported else "failed"))
                continue
            xs.append(x)
            ys.append(m)
            lo.append(m - sp[0])
            hi.append(sp[1] - m)
        ours = BY_NAME[layer].ours if layer in BY_NAME else True
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=layer, color=COLORS.get(layer, "gray"),
               hatch=None if ours else "//", edgecolor="black", linewidth=0.5)
    ax.set_xticks(range(len(scenarios)), [SCENARIOS[s] for s in scenarios])
    ax.set_yscale("log")
    bottom = ax.get_ylim()[0]
    for x, text in missing:
        ax.text(x, bottom * 1.05, text, rotation=90, ha="center", va="bottom", fontsize=7, color="dimgray")
    ax.set_ylabel(f"messages / s (median; whiskers: min{DASH}max over rounds)")
    ax.set_title(f"Throughput per layer and anchor, {main_size} B messages, one producer (hatched: anchors)")
    ax.legend(ncol=len(res.layers), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "throughput_by_scenario.png", dpi=110)
    plt.close(fig)
    made.append(("throughput_by_scenario.png", "Throughput per layer and anchor, per scenario"))

    # 2. Throughput vs message size.
    if len(sizes) > 1:
        cols = min(3, len(scenarios))
        rows = (len(scenarios) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False)
        for ax, s in zip(axes.flat, scenarios):
            for layer in res.layers:
                pts = [(size, res.median((layer, s, size, 1))) for size in sizes]
                pts = [(x, y) for x, y in pts if y is not None]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=layer, **style(layer))
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(sizes, [f"{x} B" if x < 1024 else f"{x // 1024} KiB" for x in sizes])
            ax.set_title(SCENARIOS[s])
            ax.set_ylabel("messages / s")
            ax.grid(which="both", alpha=0.3)
        for ax in list(axes.flat)[len(scenarios):]:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower right", ncol=2, fontsize=9)
        fig.suptitle("Throughput vs message size (one producer; dashed: anchors)")
        fig.tight_layout()
        fig.savefig(out / "throughput_vs_size.png", dpi=110)
        plt.close(fig)
        made.append(("throughput_vs_size.png", "Throughput vs message size"))

    # 3. Throughput vs producers on one connection.
    prods = sorted(res.producers)
    produce = [s for s in scenarios if s in PRODUCE_SCENARIOS]
    if len(prods) > 1 and produce:
        fig, axes = plt.subplots(1, len(produce), figsize=(5 * len(produce), 4.4), squeeze=False)
        for ax, s in zip(axes.flat, produce):
            for layer in res.layers:
                pts = [(p, res.median((layer, s, main_size, p))) for p in prods]
                pts = [(x, y) for x, y in pts if y is not None]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=layer, **style(layer))
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(prods, [str(p) for p in prods])
            ax.set_xlabel("producers on one connection")
            ax.set_title(SCENARIOS[s])
            ax.set_ylabel("messages / s")
            ax.grid(which="both", alpha=0.3)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
        fig.suptitle(f"Throughput vs concurrent producers, {main_size} B (dashed: anchors)")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        fig.savefig(out / "throughput_vs_producers.png", dpi=110)
        plt.close(fig)
        made.append(("throughput_vs_producers.png", "Throughput vs concurrent producers"))

    # 4. Sync-produce latency CDF.
    fig, ax = plt.subplots(figsize=(9, 5))
    drawn = False
    for layer in res.layers:
        rounds = res.latency.get((layer, "sync", main_size, 1))
        if not rounds:
            continue
        # Each round's quantiles stand for equal shares of equally many
        # messages, so pooling them approximates the pooled distribution.
        pooled = sorted(v for q in rounds.values() for v in q)
        ys = [(i + 0.5) / len(pooled) for i in range(len(pooled))]
        ax.plot(pooled, ys, label=layer, **style(layer))
        drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.set_xlabel("sync produce latency, µs (call to return, acknowledged)")
        ax.set_ylabel("fraction of messages")
        ax.set_title(f"Sync produce latency CDF, {main_size} B, one producer, all rounds (dashed: anchors)")
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "sync_latency_cdf.png", dpi=110)
        made.append(("sync_latency_cdf.png", "Sync produce latency CDF"))
    plt.close(fig)
    return made


# ------------------------------------------------------------------ markdown


def table(head: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def size_label(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size // 1024} KiB"


def markdown(res: Results, meta: Dict[str, Any], pictures: List[Tuple[str, str]]) -> str:
    scenarios = [s for s in SCENARIOS if s in res.scenarios]
    sizes = sorted(res.sizes)
    main_size = MAIN_SIZE if MAIN_SIZE in res.sizes else sizes[0]
    m = meta.get("machine", {})
    out: List[str] = []
    day = str(meta.get("started", ""))[:10]
    out += [f"# libmemphis benchmark, {day} ({meta.get('mode', '?')} mode)", ""]
    out += [
        f"Every layer and its anchors against one broker in one run: {meta.get('broker', '?')}; "
        f"{meta.get('rounds', '?')} rounds, the layers' order reversed every other round; "
        f"measured in {meta.get('duration_s', '?')} s (`{meta.get('command', '')}`).",
        "",
        "**Only ratios travel.** Absolute messages per second belong to this machine, its load and this broker; "
        "each ratio below is the median of per-round ratios of two layers measured seconds apart in the same "
        "round, so drift of the machine cancels out. Differences under about 20 % are within the noise of a "
        "shared machine.",
        "",
        *(
            [
                "**Quick mode** is a smoke test of the pipeline: its cells are too short and its rounds too few "
                "for the figures to mean much.",
                "",
            ]
            if meta.get("mode") == "quick"
            else []
        ),
        "## Machine",
        "",
        f"- CPU: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, {m.get('logical_cpus', '?')} logical CPUs "
        f"({m.get('arch', '?')})",
        f"- Kernel {m.get('kernel', '?')}; {m.get('os', '?')}; {m.get('memory_gib', '?')} GiB memory",
        f"- Load average (1/5/15 min) at start {fmt_load(meta.get('loadavg_start'))}, "
        f"at end {fmt_load(meta.get('loadavg_end'))}",
        "",
    ]
    out += table(["component", "version"], [[k, f"`{v}`"] for k, v in meta.get("versions", {}).items()])

    # Summary
    out += [f"## Summary: {main_size} B messages, one producer", "", "Median messages per second:", ""]
    rows = []
    for layer in res.layers:
        row = [f"**{layer}**" if BY_NAME.get(layer) and BY_NAME[layer].ours else layer]
        for s in scenarios:
            v = res.median((layer, s, main_size, 1))
            row.append(fmt_rate(v) if v is not None else cell_note(res, layer, s))
        rows.append(row)
    out += table(["layer"] + [SCENARIOS[s] for s in scenarios], rows)
    out += [f"Same-run ratios (median of per-round ratios, min{DASH}max over rounds):", ""]
    rows = []
    for layer, anchor, what in comparisons(res):
        row = [f"{layer} / {anchor} ({what})"]
        for s in scenarios:
            r = res.ratio((layer, s, main_size, 1), anchor)
            unsupported = (anchor, s) in res.unsupported or (layer, s) in res.unsupported
            row.append(fmt_ratio(r) if r else ("n/a" if unsupported else DASH))
        rows.append(row)
    out += table(["ratio"] + [SCENARIOS[s] for s in scenarios], rows)
    for name, title in pictures:
        if name == "throughput_by_scenario.png":
            out += [f"![{title}]({name})", ""]

    # Per scenario
    def vs(key: Key, anchor: str) -> str:
        if (anchor, key[1]) in res.unsupported:
            return "n/a"
        return fmt_ratio(res.ratio(key, anchor))

    out += ["## Per scenario", ""]
    for s in scenarios:
        out += [f"### {SCENARIOS[s]}", ""]
        head = ["layer", "size", "producers", "msg/s median", f"min{DASH}max", "client CPU µs/msg",
                f"{X} nats.go", f"{X} official SDK", f"{X} layer below"]
        rows = []
        for layer in res.layers:
            if (layer, s) in res.unsupported:
                rows.append([layer, "all", "", "n/a", "", "", "", "", ""])
                continue
            info = BY_NAME.get(layer)
            keys = [(layer, s, size, 1) for size in sizes]
            keys += [(layer, s, main_size, p) for p in sorted(res.producers) if p != 1 and s in PRODUCE_SCENARIOS]
            for key in keys:
                if key not in res.rates:
                    continue
                sp = res.span(key)
                official = info.official if info is not None and info.ours else None
                below = info.below if info is not None and info.ours else None
                ours = info is not None and info.ours
                rows.append([
                    layer,
                    size_label(key[2]),
                    str(key[3]),
                    fmt_rate(res.median(key)),
                    f"{sp[0]:,.0f}{DASH}{sp[1]:,.0f}" if sp else "",
                    f"{res.cpu_median(key):.1f}" if res.cpu_median(key) is not None else "",
                    vs(key, RAW_ANCHOR) if ours else "",
                    vs(key, official) if official else "",
                    vs(key, below) if below else "",
                ])
        out += table(head, rows)
    for name, title in pictures:
        if name in ("throughput_vs_size.png", "throughput_vs_producers.png"):
            out += [f"![{title}]({name})", ""]

    # Latency
    out += [f"## Sync produce latency, {main_size} B, one producer", ""]
    rows = []
    for layer in res.layers:
        rounds = res.latency.get((layer, "sync", main_size, 1))
        if not rounds:
            continue

        def q(i: int, rounds: Dict[int, List[float]] = rounds) -> str:
            return f"{statistics.median(v[i] for v in rounds.values()):,.0f}"

        rows.append([layer, q(0), q(100), q(180), q(198), q(200)])
    out += ["Microseconds from the call to its return with the broker's ack, median over rounds of each "
            "round's percentile:", ""]
    out += table(["layer", "min", "p50", "p90", "p99", "max"], rows)
    for name, title in pictures:
        if name == "sync_latency_cdf.png":
            out += [f"![{title}]({name})", ""]

    # Gaps
    out += ["## Not measured", ""]
    gaps = [f"- **{layer}**, {SCENARIOS.get(s, s)}: {why}" for (layer, s), why in sorted(res.unsupported.items())]
    gaps += [f"- **{name}**: layer unavailable: {why}" for name, why in meta.get("unavailable", {}).items()]
    out += (gaps or ["Nothing: every layer ran every scenario."]) + [""]
    if res.errors:
        out += ["Failed cells (not in the figures):", ""]
        for e in res.errors[:50]:
            out.append(f"- round {e.get('round')}, {e['layer']} {e.get('cell', '')}: {e['error']}")
        if len(res.errors) > 50:
            out.append(f"- … and {len(res.errors) - 50} more (results.jsonl)")
        out.append("")

    # Method
    out += ["## What each layer does", ""]
    rows = []
    for layer in res.layers:
        info = BY_NAME.get(layer)
        if info is None:
            continue
        rows.append([layer] + [info.calls.get(s, "n/a") for s in scenarios])
    out += table(["layer"] + [SCENARIOS[s] for s in scenarios], rows)
    out += [
        "How it was measured:",
        "",
        "- One harness process per layer stays connected for the whole run; for every cell the orchestrator "
        "(bench/run.py) asks each layer in turn, so the two sides of a ratio ran seconds apart. "
        "Each harness ran an unrecorded warm-up first.",
        "- Each cell uses a fresh station (1 partition, file storage, the defaults of that layer's SDK, "
        "created through that SDK or, for the raw anchors, through libmemphis), removed afterwards.",
        "- Produce scenarios: the given number of producers on one connection, each sending its share "
        "concurrently (goroutines, threads or asyncio tasks); the clock runs from the first send until "
        "every message is acknowledged. Raw anchors send the two headers every Memphis message carries.",
        "- Fetch and consume: the station is filled first (not timed) through the layer's own nonblocking "
        "path; batches of 500, pull interval 1 ms, every message read and acknowledged.",
        "- Client CPU is the harness process's user + system time (all threads), so the broker's share is "
        "not in it.",
        "- The Go harnesses of memphis.go use nats.go as resolved by Go's minimal version selection "
        "together with libmemphis (see the versions table).",
        "",
        "Files: `results.jsonl` (every measurement), `meta.json` (machine, versions, cells), `logs/` "
        "(each harness's stderr).",
        "",
    ]
    return "\n".join(out)


def fmt_load(v: Any) -> str:
    return "?" if not v else " / ".join(f"{x:.2f}" for x in v)


def write(out: Path) -> Path:
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
    meta_path = out / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    res = Results(records)
    pictures = plots(res, out) if res.rates else []
    report = out / "report.md"
    report.write_text(markdown(res, meta, pictures))
    return report


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: report.py RESULTS_DIR", file=sys.stderr)
        sys.exit(2)
    print(write(Path(sys.argv[1])))
