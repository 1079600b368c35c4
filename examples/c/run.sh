#!/usr/bin/env bash
# Builds and runs the C producer, consumer and event-loop examples against the broker given by
# MEMPHIS_HOST/MEMPHIS_PORT/MEMPHIS_USERNAME/MEMPHIS_PASSWORD. Expects `make`
# to have built build/lib/libmemphis.so and build/include/memphis.h.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc=${CC:-cc}
for prog in producer consumer event_loop; do
  "$cc" -std=c11 -Wall -Wextra -Werror -O2 -I"$root/build/include" -o "$out/$prog" \
    "examples/c/$prog.c" -L"$root/build/lib" -lmemphis -Wl,-rpath,"$root/build/lib"
done
export MEMPHIS_STATION="c-example-$$"
"$out/producer"
"$out/consumer" 10
MEMPHIS_STATION="$MEMPHIS_STATION-loop" "$out/event_loop" 10
