#!/usr/bin/env bash
# Ruby suite: minitest for bindings/ruby against memphis-devbroker instances
# the tests start themselves. MEMPHIS_LIBRARY / MEMPHIS_DEVBROKER override
# the build/ paths.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v ruby >/dev/null 2>&1 || ! ruby -e 'require "ffi"; require "minitest"' 2>/dev/null; then
  echo "SKIP: ruby, ruby-ffi or ruby-minitest not installed (scripts/install-deps.sh installs them)"
  exit 0
fi
if [ -z "${MEMPHIS_DEVBROKER:-}" ] && [ ! -x build/bin/memphis-devbroker ]; then
  go build -o build/bin/memphis-devbroker ./cmd/memphis-devbroker
fi
if [ -z "${MEMPHIS_LIBRARY:-}" ] && [ ! -f build/lib/libmemphis.so ]; then
  make -s lib
fi
export MEMPHIS_LIBRARY="${MEMPHIS_LIBRARY:-$root/build/lib/libmemphis.so}"
cd bindings/ruby
run_suite() {
  # One process runs every test file, so one shared broker serves the suite.
  # A hang anywhere fails the suite after 15 minutes instead of stalling CI.
  timeout --signal=TERM 900 ruby -w -Ilib -Itest -e 'Dir["test/**/*_test.rb"].sort.each { |f| require File.expand_path(f) }' -- "$@"
}
run_suite "$@"
