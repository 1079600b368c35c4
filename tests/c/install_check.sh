#!/usr/bin/env bash
# Installs the CMake build into a temporary prefix and builds the example
# producer against it through pkg-config: header, library, SONAME symlink
# and memphis.pc must all be in place. Usage: install_check.sh BUILD_DIR SRC_DIR
set -euo pipefail
build=$1 src=$2
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(dirname "$(find "$prefix" -name memphis.pc | head -n1)")
flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs memphis)
libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir memphis)
${CC:-cc} -std=c11 -Wall -Werror -o "$prefix/producer" "$src/examples/c/producer.c" $flags -Wl,-rpath,"$libdir"
# Capture first: `cmd | grep -q` would fail under pipefail when grep exits early.
needed=$(readelf -d "$prefix/producer")
grep -q 'NEEDED.*libmemphis.so.1' <<<"$needed" || { echo "FAIL producer does not need libmemphis.so.1"; exit 1; }
resolved=$(ldd "$prefix/producer")
grep -q "$libdir/libmemphis.so.1" <<<"$resolved" || { echo "FAIL library not resolved: $resolved"; exit 1; }
echo "install ok: $flags"
