#!/usr/bin/env bash
# Ruby suite: minitest for bindings/ruby against a memphis-devbroker the tests start.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v ruby >/dev/null 2>&1; then
  echo "SKIP: ruby not installed (scripts/install-deps.sh installs ruby ruby-ffi ruby-minitest)"
  exit 0
fi
[ -x build/bin/memphis-devbroker ] || go build -o build/bin/memphis-devbroker ./cmd/memphis-devbroker
[ -f build/lib/libmemphis.so ] || make -s lib
export MEMPHIS_LIBRARY="${MEMPHIS_LIBRARY:-$root/build/lib/libmemphis.so}"
cd bindings/ruby
# One process runs every test file, so one broker serves the whole suite.
exec ruby -w -Ilib -Itest -e 'Dir["test/**/*_test.rb"].sort.each { |f| require File.expand_path(f) }' -- "$@"
