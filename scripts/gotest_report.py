#!/usr/bin/env python3
"""Reads ``go test -json`` on stdin and prints what a person needs.

Printed: build output, each package's result line (``ok``/``FAIL``), the full
output of every failed test (or of a test still running when its package
ended, as on a timeout or panic), and one ``SKIP: <package> <test>:
<reason>`` line per skipped test (the skip convention of scripts/run-tests.sh).
Passing tests print nothing. The exit status is go test's, so callers take it
from the pipeline (``set -o pipefail``); this script only reformats.
"""

from __future__ import annotations

import json
import sys
from typing import Dict, List, Tuple

Key = Tuple[str, str]


def short(package: str) -> str:
    return package.replace("github.com/libmemphis/libmemphis/", "")


def main() -> int:
    buffers: Dict[Key, List[str]] = {}
    out = sys.stdout
    for raw in sys.stdin:
        try:
            ev = json.loads(raw)
        except ValueError:
            out.write(raw)  # not an event (the go command's own messages)
            continue
        action, package, test = ev.get("Action"), ev.get("Package", ""), ev.get("Test", "")
        text = ev.get("Output", "")
        if action in ("build-output", "build-fail"):
            out.write(text)
        elif action == "output":
            if test:
                buffers.setdefault((package, test), []).append(text)
            elif text.strip() not in ("PASS", "FAIL"):
                out.write(text)
        elif test and action == "fail":
            out.writelines(buffers.pop((package, test), []))
        elif test and action == "skip":
            lines = buffers.pop((package, test), [])
            reason = " ".join(
                ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith(("=== ", "--- SKIP"))
            )
            out.write(f"SKIP: {short(package)} {test}: {reason or 'no reason given'}\n")
        elif test and action == "pass":
            buffers.pop((package, test), None)
        elif not test and action in ("pass", "fail", "skip"):
            # The package ended: tests without an end event were cut off.
            for key in [k for k in buffers if k[0] == package]:
                out.writelines(buffers.pop(key))
        out.flush()
    for lines in buffers.values():
        out.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
