#!/usr/bin/env bash
# Ruby suite: minitest for bindings/ruby against memphis-devbroker instances
# the tests start themselves. MEMPHIS_LIBRARY / MEMPHIS_DEVBROKER override
# the build/ paths. Missing Ruby, ffi or minitest skips the whole suite
# (exit 77, a SKIP line; a failure under MEMPHIS_TEST_STRICT); each skipped
# test prints `SKIP: ruby: ...` (scripts/minitest_skip_lines.rb).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v ruby >/dev/null 2>&1 || ! ruby -e 'require "ffi"; require "minitest"' 2>/dev/null; then
  echo "SKIP: ruby, ruby-ffi or ruby-minitest not installed (scripts/install-deps.sh installs them)"
  exit 77
fi
if [ -z "${MEMPHIS_DEVBROKER:-}" ] && [ ! -x build/bin/memphis-devbroker ]; then
  make -s broker
fi
if [ -z "${MEMPHIS_LIBRARY:-}" ] && [ ! -f build/lib/libmemphis.so ]; then
  make -s lib
fi
export MEMPHIS_LIBRARY="${MEMPHIS_LIBRARY:-$root/build/lib/libmemphis.so}"
cd bindings/ruby
run_suite() {
  # One process runs every test file, so one shared broker serves the suite.
  # A hang anywhere fails the suite after 15 minutes instead of stalling CI.
  timeout --signal=TERM 900 ruby -w -Ilib -Itest -r "$root/scripts/minitest_skip_lines.rb" -e 'Dir["test/**/*_test.rb"].sort.each { |f| require File.expand_path(f) }' -- "$@"
}
run_suite "$@"
