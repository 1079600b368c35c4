"""A memphis-devbroker process for a benchmark run (standard library only,
so every interpreter of bench/ can import it, memphis-py's venv included).

Started the way every suite starts it: ``--port 0 --data-dir TMP
--ready-file TMP/ready``, then the ready file holds ``HOST:PORT``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def binary() -> Path:
    """$MEMPHIS_DEVBROKER, else build/bin/memphis-devbroker of this checkout."""
    env = os.environ.get("MEMPHIS_DEVBROKER")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "build" / "bin" / "memphis-devbroker"


def _die_with_parent() -> None:
    """In the child: the kernel stops the broker when its parent exits for
    any reason (a crash or SIGKILL included, when no cleanup code runs)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Devbroker:
    """memphis-devbroker on a free loopback port with an empty data dir."""

    def __init__(self) -> None:
        self.host = ""
        self.port = 0
        self.dir = Path(tempfile.mkdtemp(prefix="memphis-bench-broker-"))
        self._proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 60.0) -> Devbroker:
        bin_path = binary()
        if not bin_path.exists():
            raise RuntimeError(f"{bin_path} not found: run `make broker`, set MEMPHIS_DEVBROKER or give --host")
        ready = self.dir / "ready"
        with open(self.dir / "broker.log", "wb") as log:
            self._proc = subprocess.Popen(
                [str(bin_path), "--port", "0", "--data-dir", str(self.dir / "data"), "--ready-file", str(ready)],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = ready.read_text().strip() if ready.exists() else ""
            if text:
                host, _, port = text.rpartition(":")
                self.host, self.port = host, int(port)
                return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        log_text = (self.dir / "broker.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"memphis-devbroker did not become ready:\n{log_text[-2000:]}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Devbroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
