"""Finding libmemphis.

Order: the ``MEMPHIS_LIBRARY`` environment variable; the copy bundled in this
package (every wheel has one); the repository's ``build/lib`` when the package
is used from a source checkout; the system loader (``LD_LIBRARY_PATH``, the
ldconfig cache, ``/lib``, ``/usr/lib``); ``/usr/local/lib``, where
``cmake --install`` puts it by default. When nothing is found the error lists
every place looked at.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import List

__all__ = ["candidate_paths", "find_library"]

SONAME = "libmemphis.so.1"
_CHECKOUT_NAMES = (SONAME, "libmemphis.so")
_LOCAL_DIRS = (Path("/usr/local/lib"), Path("/usr/local/lib64"))


def _checkout() -> Path:
    # bindings/python/memphis -> repository root
    return Path(__file__).resolve().parent.parent.parent.parent


def candidate_paths() -> List[Path]:
    """The files looked at before the system loader, in order."""
    paths: List[Path] = []
    env = os.environ.get("MEMPHIS_LIBRARY")
    if env:
        paths.append(Path(env))
    paths.append(Path(__file__).resolve().parent / "_lib" / SONAME)
    repo = _checkout()
    if (repo / "go.mod").is_file() and (repo / "capi").is_dir():
        paths.extend(repo / "build" / "lib" / name for name in _CHECKOUT_NAMES)
    return paths


def _loader_finds(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def find_library() -> Path:
    """Return the library to load or raise ``FileNotFoundError`` naming every place tried.

    A bare ``Path("libmemphis.so.1")`` (no directory) means the system loader
    found it; ``ctypes.CDLL`` resolves that name the same way.
    """
    env = os.environ.get("MEMPHIS_LIBRARY")
    if env and not Path(env).is_file():
        raise FileNotFoundError(f"MEMPHIS_LIBRARY points to {env}, which is not a file")
    for path in candidate_paths():
        if path.is_file():
            return path
    if _loader_finds(SONAME):
        return Path(SONAME)
    local = [d / SONAME for d in _LOCAL_DIRS]
    for path in local:
        if path.is_file():
            return path
    ld_path = os.environ.get("LD_LIBRARY_PATH") or "unset"
    tried = [str(p) for p in candidate_paths()]
    if not env:
        tried.insert(0, "MEMPHIS_LIBRARY (unset)")
    tried.append(f"the system loader for {SONAME} (LD_LIBRARY_PATH: {ld_path}; the ldconfig cache; /lib, /usr/lib)")
    tried.extend(str(p) for p in local)
    raise FileNotFoundError(
        "libmemphis not found. Looked at: "
        + "; ".join(tried)
        + ". Install the libmemphis wheel (it carries the library), set MEMPHIS_LIBRARY=/path/to/"
        + SONAME
        + ", or install the C package and run ldconfig."
    )
