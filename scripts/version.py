#!/usr/bin/env python3
"""The release version lives in the file VERSION; this keeps its copies in step.

CMake, `make dist`, the wheel and the gem read VERSION (or a file below) when
they build. Three places must carry the number as source text because their
languages read it without running anything: the C header's compile-time
macros, the Python package's ``__version__`` and the gem's
``Memphis::VERSION``. This script writes those lines from VERSION
(``--write``) or fails when one is stale (``--check``, run by ``make test``).

    python3 scripts/version.py            # print the version
    python3 scripts/version.py --check    # exit 1 and name stale files
    python3 scripts/version.py --write    # rewrite the copies
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "VERSION"

# Plain MAJOR.MINOR.PATCH: the header's hex form has no room for more.
_VERSION_RE = re.compile(r"^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$")


def read_version() -> Tuple[str, Tuple[int, int, int]]:
    text = VERSION_FILE.read_text(encoding="utf-8").strip()
    m = _VERSION_RE.match(text)
    if not m:
        raise SystemExit(f"{VERSION_FILE}: {text!r} is not MAJOR.MINOR.PATCH (each 0..255)")
    major, minor, patch = (int(g) for g in m.groups())
    if max(major, minor, patch) > 255:
        raise SystemExit(f"{VERSION_FILE}: {text}: each part must fit in one byte (MEMPHIS_VERSION is 0xMMmmrrxx)")
    return text, (major, minor, patch)


Rule = Tuple[str, Callable[[str, Tuple[int, int, int]], str]]


def _rules() -> Dict[str, List[Rule]]:
    """File -> (regex of the line, replacement built from the version)."""
    return {
        "include/memphis.h": [
            (r"^#define MEMPHIS_VERSION_MAJOR .*$", lambda s, v: f"#define MEMPHIS_VERSION_MAJOR {v[0]}"),
            (r"^#define MEMPHIS_VERSION_MINOR .*$", lambda s, v: f"#define MEMPHIS_VERSION_MINOR {v[1]}"),
            (r"^#define MEMPHIS_VERSION_PATCH .*$", lambda s, v: f"#define MEMPHIS_VERSION_PATCH {v[2]}"),
            # 0xff in the last byte: a final release (no pre-release id).
            (
                r"^#define MEMPHIS_VERSION 0x[0-9a-fA-F]+$",
                lambda s, v: f"#define MEMPHIS_VERSION 0x{v[0]:02x}{v[1]:02x}{v[2]:02x}ff",
            ),
            (r'^#define MEMPHIS_VERSION_STR ".*"$', lambda s, v: f'#define MEMPHIS_VERSION_STR "{s}"'),
        ],
        "bindings/python/memphis/__init__.py": [
            (r'^__version__ = ".*"$', lambda s, v: f'__version__ = "{s}"'),
        ],
        "bindings/ruby/lib/memphis/version.rb": [
            (r'^  VERSION = ".*"$', lambda s, v: f'  VERSION = "{s}"'),
        ],
    }


def render(path: Path, rules: List[Rule], text: str, parts: Tuple[int, int, int]) -> str:
    content = path.read_text(encoding="utf-8")
    for pattern, make in rules:
        regex = re.compile(pattern, re.MULTILINE)
        if len(regex.findall(content)) != 1:
            raise SystemExit(f"{path}: expected exactly one line matching {pattern}")
        content = regex.sub(make(text, parts), content)
    return content


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail when a copy differs from VERSION")
    mode.add_argument("--write", action="store_true", help="rewrite the copies from VERSION")
    args = ap.parse_args()

    text, parts = read_version()
    if not (args.check or args.write):
        print(text)
        return 0
    stale = []
    for rel, rules in _rules().items():
        path = ROOT / rel
        new = render(path, rules, text, parts)
        if new != path.read_text(encoding="utf-8"):
            if args.write:
                path.write_text(new, encoding="utf-8")
                print(f"version: wrote {rel}")
            else:
                stale.append(rel)
    if stale:
        print(
            f"version: stale: {', '.join(stale)} (VERSION is {text}); run python3 scripts/version.py --write",
            file=sys.stderr,
        )
        return 1
    if args.check:
        print(f"version: {text} everywhere")
    return 0


if __name__ == "__main__":
    sys.exit(main())
