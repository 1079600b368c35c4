#!/usr/bin/env bash
# memphis command-line tool for `make demo`: create a station, produce three
# lines from stdin, consume them as JSON lines, run a short `memphis bench
# both`, destroy the stations. Expects build/bin/memphis (make cli) and
# MEMPHIS_HOST, MEMPHIS_PORT, MEMPHIS_USERNAME, MEMPHIS_PASSWORD.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/bin/memphis
[ -x "$bin" ] || { echo "cli example: $bin missing (run make cli)" >&2; exit 1; }

# memphis prints each command line before running it.
memphis() {
  echo "\$ memphis $*"
  "$bin" "$@"
}

memphis station create demo-cli --partitions-number 2 --retention-type messages --retention-value 1000
printf 'first\nsecond\nthird\n' | memphis produce demo-cli - --header source=demo
memphis consume demo-cli --count 3 --format json --timeout 30s
memphis bench both demo-cli-bench --count 2000 --producers 2 --consumers 2 --batch-size 100 --timeout 60s
memphis station destroy demo-cli
memphis station destroy demo-cli-bench
