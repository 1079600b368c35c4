#!/usr/bin/env bash
# The C API suite: configure with CMake into build/cmake, build libmemphis.so,
# memphis-devbroker, the tests and examples, run ctest; then the whole suite
# again built with AddressSanitizer (build/cmake-asan). Needs cmake, a C
# compiler and Go (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d capi ] || [ ! -f CMakeLists.txt ]; then
  echo "SKIP: C API suite (capi/ or CMakeLists.txt missing)"
  exit 0
fi
for tool in cmake go cc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test-c: missing $tool (run scripts/install-deps.sh)" >&2; exit 1; }
done

jobs=${MEMPHIS_TEST_JOBS:-2}
run_suite() { # build dir, extra cmake args...
  local dir=$1; shift
  echo "=== test-c: $dir $* ==="
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DMEMPHIS_DEVBROKER="${MEMPHIS_DEVBROKER:-}" "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 180
}

mkdir -p build
status=0
run_suite build/cmake || status=1
run_suite build/cmake-asan -DMEMPHIS_SANITIZE=address || status=1
exit $status
