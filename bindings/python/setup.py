"""Bundles libmemphis.so into the package at build time.

`pip install ./bindings/python` after `make` copies build/lib/libmemphis.so
(or the file MEMPHIS_LIBRARY names) into memphis/_lib/, so the installed
package works without the source tree. Without a built library the package
still installs and finds the library at run time (see memphis/_locate.py).
"""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent


def _built_library():
    env = os.environ.get("MEMPHIS_LIBRARY")
    candidates = [Path(env)] if env else []
    candidates.append(HERE.parent.parent / "build" / "lib" / "libmemphis.so")
    for path in candidates:
        if path.is_file():
            return path.resolve()
    return None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = _built_library()
        if lib is None:
            print("libmemphis.so not found; installing without a bundled library")
            return
        target = Path(self.build_lib) / "memphis" / "_lib"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, target / "libmemphis.so")
        print(f"bundled {lib} into the package")


class PlatformDistribution(Distribution):
    # A bundled shared object makes the wheel platform specific.
    def has_ext_modules(self):
        return _built_library() is not None


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=PlatformDistribution)
