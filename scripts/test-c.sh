#!/usr/bin/env bash
# The C API suite: builds the development tree build/ (as `make` does: the
# library, memphis-devbroker, the tests and examples) and runs CTest; then the
# whole suite again built with AddressSanitizer in build/asan (same broker).
# A case that exits 77 is skipped; its `SKIP: reason` line is reported as
# `SKIP: <case>: <reason>` (`SKIP: asan <case>: ...` for the ASan run). Needs cmake, a C compiler and Go
# (scripts/install-deps.sh installs them).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ ! -d capi ] || [ ! -f CMakeLists.txt ]; then
  echo "SKIP: C API suite (capi/ or CMakeLists.txt missing)"
  exit 77
fi
for tool in cmake go cc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test-c: missing $tool (run scripts/install-deps.sh)" >&2; exit 1; }
done

jobs=${MEMPHIS_TEST_JOBS:-2}
# Prints a SKIP line for each case of the last ctest run that printed one.
report_skips() { # build dir, label
  local log="$1/Testing/Temporary/LastTest.log"
  [ -f "$log" ] || return 0
  awk -v label="$2" '/^[0-9]+\/[0-9]+ Testing: /{name=$3} /^SKIP: /{print "SKIP: " label name ": " substr($0, 7)}' "$log"
}
run_suite() { # build dir, label, extra cmake args...
  local dir=$1 label=$2; shift 2
  echo "=== test-c: $dir $* ==="
  mkdir -p "$dir"
  cmake -S . -B "$dir" "$@" >"$dir/test-c.configure.log" 2>&1 || { cat "$dir/test-c.configure.log"; return 1; }
  cmake --build "$dir" -j "$jobs" || return 1
  local rc=0
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 180 || rc=1
  report_skips "$dir" "$label"
  return $rc
}

mkdir -p build
status=0
# build/ is the tree `make` configures (Debug); configure it the same way if
# make has not.
if [ -f build/CMakeCache.txt ]; then
  run_suite build "" || status=1
else
  run_suite build "" -DCMAKE_BUILD_TYPE=Debug || status=1
fi
run_suite build/asan "asan " -DCMAKE_BUILD_TYPE=Debug -DMEMPHIS_SANITIZE=address \
  -DMEMPHIS_BUILD_DEVBROKER=OFF -DMEMPHIS_DEVBROKER="${MEMPHIS_DEVBROKER:-$root/build/bin/memphis-devbroker}" || status=1
exit $status
