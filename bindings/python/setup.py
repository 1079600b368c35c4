"""Builds the ``libmemphis`` distribution: the ``memphis`` package with libmemphis inside.

The wheel always carries the library, as ``memphis/_lib/libmemphis.so.1``:

1. ``MEMPHIS_LIBRARY=/path/to/libmemphis.so.1`` bundles that file (``make dist``
   passes its stripped build);
2. otherwise the library is compiled with CMake and Go from the C library's
   sources: the checkout this directory belongs to, or the copy an sdist
   carries in ``libmemphis-src/``.

When neither works the build stops with a message naming what is missing; it
never produces a package without its library. The library is loaded through
ctypes, so the wheel does not depend on the Python version or ABI: it is
tagged ``py3-none-<platform>``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

try:  # setuptools >= 70.1 has its own; older ones use the wheel package's.
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - depends on the build environment
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
SONAME = "libmemphis.so.1"
# Inside an sdist: the C library's sources, next to setup.py.
SDIST_SOURCES = "libmemphis-src"
# What an sdist needs to compile the library (paths relative to the checkout).
SOURCE_ITEMS = ("VERSION", "go.mod", "go.sum", "CMakeLists.txt", "cmake", "include", "capi", "sdk", "internal")
MIN_GO = "1.26"


def _source_tree() -> Optional[Path]:
    """The C library's sources: an sdist's copy, else the enclosing checkout."""
    for root in (HERE / SDIST_SOURCES, HERE.parent.parent):
        if (root / "CMakeLists.txt").is_file() and (root / "capi").is_dir():
            return root
    return None


def _prebuilt() -> Optional[Path]:
    env = os.environ.get("MEMPHIS_LIBRARY")
    if not env:
        return None
    path = Path(env)
    if not path.is_file():
        raise SystemExit(f"error: MEMPHIS_LIBRARY={env} is not a file")
    return path.resolve()


def _compile(src: Path, work: Path) -> Path:
    """Build the library with the project's CMake recipe; return its path."""
    missing = [tool for tool in ("go", "cmake") if shutil.which(tool) is None]
    if shutil.which(os.environ.get("CC", "cc")) is None:
        missing.append("a C compiler (cc)")
    if missing:
        raise SystemExit(
            "error: libmemphis cannot be compiled here: "
            + ", ".join(missing)
            + " not found on PATH.\n"
            + f"Compiling it from source needs Go {MIN_GO} or newer, CMake 3.17 or newer and a C compiler.\n"
            + "Or set MEMPHIS_LIBRARY=/path/to/libmemphis.so.1 to bundle a prebuilt library "
            + "(the C tarball from `make dist` has one)."
        )
    build = work / "libmemphis-cmake"
    configure = [
        "cmake", "-S", str(src), "-B", str(build),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DMEMPHIS_BUILD_TESTS=OFF", "-DMEMPHIS_BUILD_EXAMPLES=OFF", "-DMEMPHIS_BUILD_DEVBROKER=OFF",
        "-DMEMPHIS_BUILD_CLI=OFF",
    ]  # fmt: skip
    for cmd in (configure, ["cmake", "--build", str(build)]):
        print("libmemphis:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return build / "lib" / SONAME


class BuildWithLibrary(build_py):
    """Copies the Python package, then puts libmemphis into memphis/_lib/."""

    def run(self) -> None:
        super().run()
        lib = _prebuilt()
        if lib is None:
            src = _source_tree()
            if src is None:
                raise SystemExit(
                    "error: no libmemphis sources next to setup.py and MEMPHIS_LIBRARY is unset: "
                    "build from the repository checkout or its sdist, or set MEMPHIS_LIBRARY"
                )
            lib = _compile(src, Path(self.get_finalized_command("build").build_temp).resolve())
        target = Path(self.build_lib) / "memphis" / "_lib"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, target / SONAME)
        print(f"libmemphis: bundled {lib} ({lib.stat().st_size} bytes)")


class SdistWithSources(sdist):
    """An sdist that carries the C library's sources, so it builds without the checkout."""

    def make_release_tree(self, base_dir: str, files: List[str]) -> None:
        super().make_release_tree(base_dir, files)
        src = _source_tree()
        if src is None:
            raise SystemExit("error: the sdist is made from the repository checkout")
        dest = Path(base_dir) / SDIST_SOURCES
        for item in SOURCE_ITEMS:
            path = src / item
            if path.is_dir():
                shutil.copytree(path, dest / item, ignore=shutil.ignore_patterns("*_test.go", "testdata", "*.py*"))
            else:
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest / item)


class PlatformWheel(bdist_wheel):
    """py3-none-<platform>: one wheel serves every Python 3 on that platform."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple:
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class PlatformDistribution(Distribution):
    # The bundled shared object makes the distribution platform specific.
    def has_ext_modules(self) -> bool:
        return True


setup(
    cmdclass={"build_py": BuildWithLibrary, "sdist": SdistWithSources, "bdist_wheel": PlatformWheel},
    distclass=PlatformDistribution,
)
