"""The official memphis-py SDK, installed apart from this binding.

Both packages are imported as ``memphis``, so the official one lives in its
own virtual environment (build/memphis-py-venv) and runs in a subprocess.
Used by the interop test and by bench/python.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path
from typing import Optional, Tuple

REPO = Path(__file__).resolve().parents[3]
VENV = REPO / "build" / "memphis-py-venv"
VERSION = "1.3.1"


def python() -> Path:
    return VENV / "bin" / "python"


def ensure() -> Tuple[Optional[Path], str]:
    """Return (interpreter, "") with memphis-py importable, or (None, why not)."""
    py = python()
    if py.exists() and _importable(py):
        return py, ""
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        # Short network timeouts: an unreachable PyPI should become a skip
        # within a minute, not stall the suite.
        out = subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--timeout",
                "20",
                "--retries",
                "2",
                f"memphis-py=={VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"cannot create a venv for memphis-py: {exc}"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"pip could not install memphis-py=={VERSION} from PyPI (unreachable?): {last[-300:]}"
    if not _importable(py):
        return None, "memphis-py installed but cannot be imported"
    return py, ""


def _importable(py: Path) -> bool:
    code = "import memphis, nats; from memphis import Memphis, Headers"
    return subprocess.run([str(py), "-c", code], capture_output=True, timeout=120).returncode == 0


if __name__ == "__main__":
    interp, why = ensure()
    print(interp or why)
    sys.exit(0 if interp else 1)
