#!/usr/bin/env bash
# Run by `make demo` (scripts/demo.sh) with MEMPHIS_HOST/PORT/USERNAME/PASSWORD
# set and memphis-devbroker running: produce 10 messages, consume them back.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v ruby >/dev/null 2>&1; then
  echo "SKIP: ruby not installed"
  exit 0
fi
# This checkout's gem; it finds MEMPHIS_LIBRARY or build/lib/libmemphis.so.
export RUBYLIB="$root/bindings/ruby/lib${RUBYLIB:+:$RUBYLIB}"
export MEMPHIS_STATION="demo-ruby-$$"
ruby "$here/producer.rb"
MEMPHIS_EXPECT=10 ruby "$here/consumer.rb"
