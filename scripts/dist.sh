#!/usr/bin/env bash
# `make dist`: release artifacts in dist/, all carrying the stripped library
# built by CMake (Release, MEMPHIS_STRIP) in build/dist/:
#   libmemphis-V.tar.gz                              Python sdist (compiles the library with Go)
#   libmemphis-V-py3-none-manylinux_*.whl            Python wheel, library inside, tag checked by auditwheel
#   memphis-V-<platform>.gem                         Ruby gem, library vendored
#   libmemphis-V-linux-<arch>.tar.gz                 C: header, library + symlink, memphis.pc, CMake package
# Then checks that no artifact mentions a path of this machine.
# Needs Go, CMake, a C compiler, Python with setuptools, wheel, build and
# auditwheel, Ruby with gem (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
py=${PYTHON:-python3}

python3 scripts/version.py --check >/dev/null
version=$(python3 scripts/version.py)
arch=$(uname -m)
work=build/dist
rm -rf "$work" dist
mkdir -p "$work" dist

echo "=== dist: libmemphis $version (Release, stripped)"
cmake -S . -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release -DMEMPHIS_STRIP=ON -DCMAKE_INSTALL_LIBDIR=lib \
  -DMEMPHIS_BUILD_TESTS=OFF -DMEMPHIS_BUILD_EXAMPLES=OFF -DMEMPHIS_BUILD_DEVBROKER=OFF \
  -DMEMPHIS_BUILD_CLI=OFF >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake"
lib="$root/$work/cmake/lib/libmemphis.so.1"

echo "=== dist: C tarball"
name="libmemphis-$version"
cmake --install "$work/cmake" --prefix "$work/c/$name" >/dev/null
# Same bytes for the same inputs: fixed owner, order and timestamps.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$work/c" -czf "dist/$name-linux-$arch.tar.gz" "$name"

echo "=== dist: Python sdist and wheel"
# The wheel is built from the sdist, as pip would, so a broken sdist shows here.
"$py" -m build --sdist --no-isolation --outdir "$work/python" bindings/python >"$work/python-sdist.log" 2>&1 ||
  { cat "$work/python-sdist.log"; exit 1; }
sdist="$work/python/$name.tar.gz"
MEMPHIS_LIBRARY="$lib" "$py" -m pip wheel -q --no-deps --no-build-isolation --no-cache-dir \
  -w "$work/python/wheel" "$sdist" >"$work/python-wheel.log" 2>&1 || { cat "$work/python-wheel.log"; exit 1; }
cp "$sdist" dist/
wheel=$(ls "$work"/python/wheel/*.whl)
# auditwheel names the oldest manylinux policy the library's glibc symbols
# allow and retags the wheel with it; no library is grafted in (there are no
# dependencies beyond libc).
"$py" -m auditwheel show "$wheel" >"$work/auditwheel.txt" 2>&1 || { cat "$work/auditwheel.txt"; exit 1; }
policy=$(grep -o '"manylinux_[0-9]*_[0-9]*_[a-z0-9_]*"' "$work/auditwheel.txt" | head -n1 | tr -d '"')
[ -n "$policy" ] || { cat "$work/auditwheel.txt"; echo "dist: auditwheel found no manylinux policy" >&2; exit 1; }
"$py" -m auditwheel repair --plat "$policy" -w dist "$wheel" >"$work/auditwheel-repair.log" 2>&1 ||
  { cat "$work/auditwheel-repair.log"; exit 1; }

echo "=== dist: Ruby gem"
gemsrc="$work/gem"
mkdir -p "$gemsrc/lib/memphis/vendor"
cp -R bindings/ruby/lib bindings/ruby/memphis.gemspec bindings/ruby/README.md "$gemsrc/"
cp "$lib" "$gemsrc/lib/memphis/vendor/libmemphis.so.1"
(cd "$gemsrc" && gem build --silent memphis.gemspec)
mv "$gemsrc"/memphis-*.gem dist/

echo "=== dist: no build-machine paths"
check="$work/unpacked"
mkdir -p "$check/wheel" "$check/sdist" "$check/gem" "$check/c"
"$py" -m zipfile -e dist/*.whl "$check/wheel"
tar -xzf "dist/$name.tar.gz" -C "$check/sdist"
tar -xzf "dist/$name-linux-$arch.tar.gz" -C "$check/c"
tar -xf dist/memphis-*.gem -C "$check/gem" && for t in "$check"/gem/*.tar.gz; do tar -xzf "$t" -C "$check/gem"; done
gz_text() { for f in "$check"/gem/*.gz; do gzip -dc "$f"; done; }
leaks=""
for p in "$root" "$HOME" "$(go env GOROOT)" "$(go env GOMODCACHE)" "$(go env GOCACHE)" "${TMPDIR:-/tmp}"; do
  [ -n "$p" ] || continue
  p="${p%/}/" # a directory, not a word inside a file name ("/root" in "x509/root.go")
  if grep -rlaF "$p" "$check" >/dev/null || grep -qaF "$p" <(gz_text); then # not a pipe: pipefail + grep -q would hide a match
    leaks+=" $p"
    grep -rlaF "$p" "$check" | sed 's/^/  /' >&2 || true
  fi
done
[ -z "$leaks" ] || { echo "dist: artifacts mention build-machine paths:$leaks" >&2; exit 1; }

unstripped=$(stat -c %s "$root/build/lib/libmemphis.so.1" 2>/dev/null || echo "?")
echo "=== dist: done"
echo "libmemphis.so.1: $(stat -c %s "$lib") bytes stripped (development build: $unstripped bytes)"
echo "wheel policy: $policy"
ls -l dist/
