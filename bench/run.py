"""Every layer of libmemphis and its anchors against one broker, in one run.

Builds the harnesses (bench/go, bench/c, bench/python, bench/ruby), starts a
fresh memphis-devbroker (or uses --host/--port/--user/--password), starts
one harness process per layer and then, round after round, sends each cell
(scenario, message size, producers) to every layer in turn, alternating the
order of the layers from round to round. Every result goes to
results.jsonl; report.md and the plots are made from it (bench/report.py).

    make bench                                   # the full matrix
    make bench BENCH_FLAGS=--quick               # smoke test: fewer sizes, rounds, messages
    python3 bench/run.py --layers c-api,nats.c --scenarios sync,async --rounds 7

Standard library only: it creates build/bench/venv with matplotlib (from
PyPI) for the report and re-runs itself there, and build/bench/memphis-py-venv
with memphis-py 1.3.1 for that layer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import queue
import shutil
import subprocess
import sys
import threading
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from broker import Devbroker  # noqa: E402
from layers import LAYERS, PRODUCE_SCENARIOS, SCENARIOS  # noqa: E402

WORK = REPO / "build" / "bench"
BIN = WORK / "bin"
REPORT_VENV = WORK / "venv"
MEMPHIS_PY_VENV = WORK / "memphis-py-venv"
MEMPHIS_PY_VERSION = "1.3.1"
RESULTS = HERE / "results"

# Messages per cell (all producers together) in the full matrix; 8 KiB
# cells move a third of that (they are bound by bytes), quick mode a sixth.
COUNTS = {"sync": 3000, "async": 30000, "batch": 30000, "fetch": 20000, "consume": 20000, "consume-noack": 20000}
FULL = {"sizes": [64, 512, 8192], "producers": [1, 4, 16], "rounds": 5}
QUICK = {"sizes": [512, 8192], "producers": [1, 4], "rounds": 2}
BATCH = 500  # the harnesses' batch chunk and fetch / consume batch
CELL_TIMEOUT = 900.0  # seconds one cell may take before its harness is killed


class Unavailable(Exception):
    """A layer that cannot be built or started here (the report says why)."""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd: List[str], cwd: Path = REPO, env: Optional[Dict[str, str]] = None) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise Unavailable(f"`{' '.join(cmd)}` failed: {(out.stderr or out.stdout).strip()[-800:]}")
    return out.stdout


# ---------------------------------------------------------------- preparation


def ensure_report_venv() -> None:
    """Re-run this script in build/bench/venv, with matplotlib from PyPI."""
    if Path(sys.prefix).resolve() == REPORT_VENV.resolve():
        return
    py = REPORT_VENV / "bin" / "python"
    if not py.exists():
        log(f"creating {REPORT_VENV.relative_to(REPO)}")
        venv.EnvBuilder(with_pip=True, clear=True).create(REPORT_VENV)
    if subprocess.run([str(py), "-c", "import matplotlib"], capture_output=True).returncode != 0:
        log("installing matplotlib from PyPI into the bench venv")
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "matplotlib"], check=True)
    env = dict(os.environ, MEMPHIS_BENCH_BASE_PYTHON=os.environ.get("MEMPHIS_BENCH_BASE_PYTHON", sys.executable))
    os.execve(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]], env)


def ensure_libnats() -> None:
    """Debian's libnats-dev (nats.c), installed with apt-get when missing."""
    if Path("/usr/include/nats/nats.h").exists():
        return
    if shutil.which("apt-get") is None:
        raise Unavailable("nats.c not installed and no apt-get to install libnats-dev")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    log("installing libnats-dev with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, capture_output=True)
    run([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "libnats-dev"], env=env)


def ensure_memphis_py() -> Path:
    py = MEMPHIS_PY_VENV / "bin" / "python"
    check = [str(py), "-c", f"import importlib.metadata as m; assert m.version('memphis-py') == '{MEMPHIS_PY_VERSION}'"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    log(f"creating {MEMPHIS_PY_VENV.relative_to(REPO)} with memphis-py {MEMPHIS_PY_VERSION} from PyPI")
    base = os.environ.get("MEMPHIS_BENCH_BASE_PYTHON", sys.executable)
    run([base, "-m", "venv", "--clear", str(MEMPHIS_PY_VENV)])
    run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", f"memphis-py=={MEMPHIS_PY_VERSION}"])
    return py


def cc(out: Path, sources: List[str], libs: List[str]) -> None:
    lib = REPO / "build" / "lib"
    run(
        ["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", f"-I{REPO / 'include'}", "-o", str(out)]
        + [str(HERE / "c" / s) for s in sources]
        + [f"-L{lib}", *libs, f"-Wl,-rpath,{lib}"]
    )


def prepare(name: str) -> Tuple[List[str], Dict[str, str]]:
    """Builds what the layer needs; returns its harness command and environment."""
    BIN.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if name in ("go-sdk", "nats.go"):
        exe = BIN / "libmemphis-bench"
        if not exe.exists():
            run(["go", "build", "-o", str(exe), "./bench/go/libmemphis"])
        return [str(exe), "--layer", name], env
    if name == "memphis.go":
        exe = BIN / "memphisgo-bench"
        run(["go", "build", "-o", str(exe), "."], cwd=HERE / "go" / "official")
        return [str(exe)], env
    if not (REPO / "build" / "lib" / "libmemphis.so").exists():
        raise Unavailable("build/lib/libmemphis.so missing (run `make`)")
    if name == "c-api":
        exe = BIN / "capi-bench"
        cc(exe, ["bench.c", "harness.c"], ["-lmemphis"])
        return [str(exe)], env
    if name == "nats.c":
        ensure_libnats()
        exe = BIN / "natsc-bench"
        cc(exe, ["natsc_bench.c", "harness.c"], ["-lmemphis", "-lnats"])
        return [str(exe)], env
    workload = str(HERE / "python" / "workload.py")
    if name == "python":
        env["PYTHONPATH"] = str(REPO / "bindings" / "python")
        return [sys.executable, workload, "--layer", "python"], env
    if name == "memphis-py":
        return [str(ensure_memphis_py()), workload, "--layer", "memphis-py"], env
    if name == "ruby":
        if shutil.which("ruby") is None:
            raise Unavailable("ruby not installed")
        run(["ruby", "-rffi", "-e", "1"])
        return ["ruby", str(HERE / "ruby" / "bench.rb")], env
    raise Unavailable(f"unknown layer {name}")


# ---------------------------------------------------------------- harnesses


class Harness:
    """One harness process: a cell per stdin line, a JSON line back."""

    def __init__(self, name: str, argv: List[str], env: Dict[str, str], logfile: Path) -> None:
        self.name, self.argv, self.env, self.logfile = name, argv, env, logfile
        self.proc: Optional[subprocess.Popen] = None
        self.lines: queue.Queue[Optional[str]] = queue.Queue()
        self.starts = 0
        self._log: Optional[IO[str]] = None

    def start(self, broker: List[str]) -> None:
        self.starts += 1
        self._log = open(self.logfile, "a")
        self._log.write(f"--- start {self.starts}: {' '.join(self.argv + broker)}\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv + broker,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()

    @staticmethod
    def _read(stream: IO[str], lines: queue.Queue[Optional[str]]) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def measure(self, spec: str, timeout: float) -> Dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self._log is not None
        try:
            self.proc.stdin.write(spec + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            return {"error": f"harness not accepting cells: {exc}"}
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.stop(kill=True)
                return {"error": f"no result within {timeout:.0f} s; harness killed"}
            if line is None:
                code = self.proc.wait()
                return {"error": f"harness exited with status {code}; see logs/{self.logfile.name}"}
            try:
                out = json.loads(line)
            except ValueError:
                out = None
            if isinstance(out, dict) and "layer" in out:
                return out
            self._log.write(line)  # something else the client printed
            self._log.flush()

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        elif self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self._log:
            self._log.close()
        self.proc = None


# ---------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Cell:
    scenario: str
    size: int
    producers: int
    count: int

    @property
    def spec(self) -> str:
        return f"{self.scenario}:{self.size}:{self.producers}:{self.count}"


def cell_count(scenario: str, size: int, quick: bool, scale: float) -> int:
    n = COUNTS[scenario]
    if size >= 8192 and scenario != "sync":
        n //= 3
    if quick:
        n //= 6
    n = max(1, int(n * scale))
    if scenario not in PRODUCE_SCENARIOS:
        # Whole batches: a pull for more than the station holds waits out
        # the batch max wait, which would be measured as throughput.
        n = max(BATCH, round(n / BATCH) * BATCH)
    return n


def matrix(scenarios: List[str], sizes: List[int], producers: List[int], quick: bool, scale: float) -> List[Cell]:
    """Every scenario at every size with one producer, then the produce
    scenarios with more producers at 512 B (or the first size given)."""
    cells = [Cell(s, size, 1, cell_count(s, size, quick, scale)) for s in scenarios for size in sizes]
    base = 512 if 512 in sizes else sizes[0]
    for s in scenarios:
        if s in PRODUCE_SCENARIOS:
            cells += [Cell(s, base, p, cell_count(s, base, quick, scale)) for p in producers if p != 1]
    return cells


def machine() -> Dict[str, Any]:
    info: Dict[str, Any] = {"kernel": platform.release(), "logical_cpus": os.cpu_count(), "arch": platform.machine()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")]
        info["cpu_model"] = models[0] if models else "unknown"
        # Physical cores: distinct (physical id, core id) pairs, one per processor block.
        cores = set()
        for block in cpuinfo.split("\n\n"):
            fields = {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in block.splitlines() if ":" in ln)}
            ids = (fields.get("physical id", ""), fields.get("core id", ""))
            if all(ids):
                cores.add(ids)
        if cores:
            info["cores"] = len(cores)
    except OSError:
        info["cpu_model"] = "unknown"
    try:
        mem = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
        info["memory_gib"] = round(int(mem.split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        pass
    try:
        rel = dict(
            ln.split("=", 1) for ln in Path("/etc/os-release").read_text().splitlines() if "=" in ln
        )
        info["os"] = rel.get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    return info


def versions() -> Dict[str, str]:
    def first_line(cmd: List[str], cwd: Path = REPO) -> str:
        try:
            out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    commit = first_line(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=REPO).returncode != 0
    return {
        "libmemphis": commit + (" (with uncommitted changes)" if dirty else ""),
        "go": first_line(["go", "version"]),
        "nats.go": first_line(["go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats.go"]),
        "memphis.go": first_line(
            ["go", "list", "-m", "-f", "{{.Version}}", "github.com/memphisdev/memphis.go"], HERE / "go" / "official"
        ),
        "nats.c": first_line(["dpkg-query", "-W", "-f", "${Version}", "libnats-dev"]),
        "cc": first_line(["cc", "--version"]),
        "python": platform.python_version(),
        "memphis-py": MEMPHIS_PY_VERSION,
        "ruby": first_line(["ruby", "--version"]),
    }


def output_dir(arg: Optional[str], quick: bool) -> Path:
    if arg:
        return Path(arg).resolve()
    name = dt.date.today().isoformat() + ("-quick" if quick else "")
    out = RESULTS / name
    if out.exists():
        out = RESULTS / f"{name}-{dt.datetime.now().strftime('%H%M%S')}"
    return out


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    names = [layer.name for layer in LAYERS]
    ap.add_argument(
        "--quick", action="store_true", help="smoke test: sizes 512/8192, producers 1/4, 2 rounds, 1/6 the messages"
    )
    ap.add_argument("--rounds", type=int, help=f"rounds (default {FULL['rounds']}, quick {QUICK['rounds']})")
    ap.add_argument("--layers", default=",".join(names), help=f"comma-separated subset of {','.join(names)}")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of " + ",".join(SCENARIOS))
    ap.add_argument("--sizes", help="message sizes in bytes (default 64,512,8192; quick 512,8192)")
    ap.add_argument("--producers", help="producer counts (default 1,4,16; quick 1,4)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every cell's message count")
    ap.add_argument("--host", help="an existing broker (default: start a fresh memphis-devbroker)")
    ap.add_argument("--port", type=int, default=6666)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="memphis")
    ap.add_argument("--out", help="results directory (default bench/results/<date>[-quick])")
    ap.add_argument("--no-report", action="store_true", help="results.jsonl only (no matplotlib needed)")
    args = ap.parse_args()
    mode = QUICK if args.quick else FULL
    args.rounds = args.rounds or mode["rounds"]
    args.layers = [x for x in args.layers.split(",") if x]
    args.scenarios = [x for x in args.scenarios.split(",") if x]
    args.sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else mode["sizes"]
    args.producers = [int(x) for x in args.producers.split(",")] if args.producers else mode["producers"]
    bad = [x for x in args.layers if x not in names] + [x for x in args.scenarios if x not in SCENARIOS]
    if bad:
        ap.error(f"unknown layer or scenario: {', '.join(bad)}")
    return args


def main() -> int:
    args = parse_args()
    if not args.no_report:
        ensure_report_venv()
    out = output_dir(args.out, args.quick)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    log(f"results in {out}")
    built = [REPO / "build" / "bin" / "memphis-devbroker", REPO / "build" / "lib" / "libmemphis.so"]
    if not all(p.exists() for p in built):
        log("building memphis-devbroker and libmemphis.so (make all)")
        run(["make", "-s", "all"])
    shutil.rmtree(BIN, ignore_errors=True)  # harnesses are rebuilt against this checkout every run

    harnesses: List[Harness] = []
    unavailable: Dict[str, str] = {}
    for name in args.layers:
        try:
            argv, env = prepare(name)
            harnesses.append(Harness(name, argv, env, out / "logs" / f"{name}.log"))
        except Unavailable as exc:
            unavailable[name] = str(exc)
            log(f"{name}: unavailable: {exc}")

    cells = matrix(args.scenarios, args.sizes, args.producers, args.quick, args.scale)
    meta: Dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "rounds": args.rounds,
        "layers": [h.name for h in harnesses],
        "unavailable": unavailable,
        "cells": [c.spec for c in cells],
        "machine": machine(),
        "versions": versions(),
        "loadavg_start": os.getloadavg(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    broker: Optional[Devbroker] = None
    if args.host:
        host, port = args.host, args.port
        meta["broker"] = f"external broker at {host}:{port}"
    else:
        broker = Devbroker().start()
        host, port = broker.host, broker.port
        meta["broker"] = "memphis-devbroker (fresh, file storage, on this machine)"
    log(f"broker {host}:{port}; {len(harnesses)} layers, {len(cells)} cells, {args.rounds} rounds")
    run_id = dt.datetime.now().strftime("%H%M%S")
    started = time.monotonic()
    try:
        with open(out / "results.jsonl", "w") as results:

            def conn_args(h: Harness) -> List[str]:
                prefix = f"b{run_id}-{h.name.replace('.', '')}-{h.starts + 1}"
                return ["--host", host, "--port", str(port), "--user", args.user, "--password", args.password,
                        "--station-prefix", prefix]

            for h in harnesses:
                h.start(conn_args(h))
                # Warm-up (not recorded): first station, connections, thread pools, caches.
                for spec in ("sync:512:1:200", "async:512:1:2000"):
                    h.measure(spec, CELL_TIMEOUT)
            for r in range(1, args.rounds + 1):
                order = harnesses if r % 2 else list(reversed(harnesses))
                for cell in cells:
                    shown = []
                    for slot, h in enumerate(order):
                        if not h.alive() and h.starts < 3:
                            h.start(conn_args(h))
                        if h.alive():
                            res = h.measure(cell.spec, CELL_TIMEOUT)
                        else:
                            res = {"error": f"harness gave up after {h.starts} starts; see logs/{h.logfile.name}"}
                        res.setdefault("layer", h.name)
                        res.update(round=r, slot=slot, cell=cell.spec, scenario=cell.scenario, size=cell.size,
                                   producers=cell.producers, time=round(time.time(), 3))
                        results.write(json.dumps(res) + "\n")
                        results.flush()
                        if "msg_per_s" in res and not res.get("unsupported") and not res.get("error"):
                            shown.append(f"{h.name} {res['msg_per_s']:,.0f}")
                        elif res.get("error"):
                            shown.append(f"{h.name} ERROR")
                            log(f"{h.name} {cell.spec}: {res['error']}")
                    log(f"round {r}/{args.rounds} {cell.spec}: " + ", ".join(shown))
    finally:
        for h in harnesses:
            h.stop()
        if broker is not None:
            broker.stop()
        meta["finished"] = dt.datetime.now().isoformat(timespec="seconds")
        meta["duration_s"] = round(time.monotonic() - started)
        meta["loadavg_end"] = os.getloadavg()
        (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    log(f"measured in {meta['duration_s']} s")
    if not args.no_report:
        import report

        report.write(out)
        log(f"report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
