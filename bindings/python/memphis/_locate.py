"""Finding libmemphis.so.

Order: the ``MEMPHIS_LIBRARY`` environment variable, then a copy bundled in
this package (``pip install`` after ``make`` puts one there), then the
repository's ``build/lib`` when the package is used from a source checkout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

__all__ = ["candidate_paths", "find_library"]

_NAMES = ("libmemphis.so", "libmemphis.so.1", "libmemphis.dylib")


def candidate_paths() -> List[Path]:
    """Every place the library is looked for, in order."""
    paths: List[Path] = []
    env = os.environ.get("MEMPHIS_LIBRARY")
    if env:
        paths.append(Path(env))
    here = Path(__file__).resolve().parent
    paths.extend(here / "_lib" / name for name in _NAMES)
    # bindings/python/memphis -> repository root
    repo = here.parent.parent.parent
    paths.extend(repo / "build" / "lib" / name for name in _NAMES)
    return paths


def find_library() -> Path:
    """Return the first existing candidate or raise ``FileNotFoundError``."""
    env = os.environ.get("MEMPHIS_LIBRARY")
    if env and not Path(env).is_file():
        raise FileNotFoundError(f"MEMPHIS_LIBRARY points to {env}, which is not a file")
    for path in candidate_paths():
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidate_paths())
    raise FileNotFoundError("libmemphis not found; build it with `make` or set MEMPHIS_LIBRARY (tried: " + tried + ")")
