#!/usr/bin/env bash
# Ruby gem vs C API throughput (see bench.rb). Needs `make` to have built
# build/lib/libmemphis.so and build/bin/memphis-devbroker.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec ruby bench/ruby/bench.rb "$@"
