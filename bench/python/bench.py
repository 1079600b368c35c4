"""The Python binding beside the official memphis-py (and the C API it
wraps), same broker, same run: bench/run.py with those layers.

    python3 bench/python/bench.py [--quick] [--host H --port P --user U --password W] [run.py flags]

No pytest needed: the broker, memphis-py's private venv and the report
come from bench/ (see bench/README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "run.py"

if __name__ == "__main__":
    args = sys.argv[1:]
    if not any(a == "--layers" or a.startswith("--layers=") for a in args):
        args = ["--layers", "c-api,python,memphis-py", *args]
    os.execv(sys.executable, [sys.executable, str(RUN), *args])
