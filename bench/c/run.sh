#!/usr/bin/env bash
# Runs the C API benchmark beside the sdk/ benchmark against one local
# memphis-devbroker and prints, per scenario, the median msg/s and the
# median client CPU time per message (user + system of the benchmark
# process, so the broker's CPU is not in it) of C and sdk, with C/sdk
# ratios, then C batch against C async (one call per message) on both.
# The two programs alternate ROUNDS times; medians over the rounds are used.
# Usage: bench/c/run.sh [N_ASYNC] [N_SYNC] [ROUNDS]   (after `make lib broker`)
# BENCH_RESULTS=FILE keeps the raw per-round lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
n=${1:-100000}
nsync=${2:-3000}
rounds=${3:-3}
work=$(mktemp -d)
broker_pid=""
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

broker=${MEMPHIS_DEVBROKER:-$root/build/bin/memphis-devbroker}
"$broker" --port 0 --data-dir "$work/data" --ready-file "$work/ready" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 300); do [ -s "$work/ready" ] && break; sleep 0.1; done
addr=$(cat "$work/ready")
host=${addr%:*} port=${addr##*:}

cc -std=c11 -O2 -Wall -I"$root/include" -o "$work/bench" bench/c/bench.c \
  -L"$root/build/lib" -lmemphis -Wl,-rpath,"$root/build/lib"
go build -o "$work/sdkbench" ./bench/c/sdkbench

scenarios=(async batch sync consume)
for r in $(seq 1 "$rounds"); do
  "$work/bench" "$host" "$port" "$n" "$nsync" "${scenarios[@]}" >>"$work/results"
  "$work/sdkbench" "$host" "$port" "$n" "$nsync" "${scenarios[@]}" >>"$work/results"
done

# median LANG SCENARIO FIELD: the median of one result column over the rounds
# (fields: 5 = msg/s, 6 = client CPU us/msg).
median() {
  awk -v l="$1" -v s="$2" -v f="$3" '$1==l && $2==s {print $f}' "$work/results" |
    sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1/$2}'; }

echo "512-byte messages, file storage, 1 replica, local memphis-devbroker; median of $rounds rounds"
echo "cpu = client process CPU (user+sys) per message, microseconds"
printf '%-8s %10s %10s %6s   %8s %8s %6s\n' scenario "C msg/s" "sdk msg/s" "C/sdk" "C cpu" "sdk cpu" "C/sdk"
for s in "${scenarios[@]}"; do
  c=$(median c "$s" 5) g=$(median go "$s" 5)
  cc=$(median c "$s" 6) gc=$(median go "$s" 6)
  printf '%-8s %10s %10s %6s   %8s %8s %6s\n' "$s" "$c" "$g" "$(ratio "$c" "$g")" "$cc" "$gc" "$(ratio "$cc" "$gc")"
done
printf 'C batch / C async (one call per message): msg/s %s, client cpu/msg %s\n' \
  "$(ratio "$(median c batch 5)" "$(median c async 5)")" "$(ratio "$(median c batch 6)" "$(median c async 6)")"
# The raw per-round lines, for paired ratios, when BENCH_RESULTS names a file.
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$work/results" "$BENCH_RESULTS"; fi
