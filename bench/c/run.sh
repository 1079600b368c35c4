#!/usr/bin/env bash
# Runs the C API benchmark beside the sdk/ benchmark against one local
# memphis-devbroker and prints each scenario's msg/s and the C/Go ratio.
# The two programs alternate ROUNDS times; the median of each is used.
# Usage: bench/c/run.sh [N_ASYNC] [N_SYNC] [ROUNDS]   (after `make`)
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

echo "512-byte messages, file storage, 1 replica, local memphis-devbroker; median of $rounds rounds"
printf '%-8s %12s %12s %8s\n' scenario "C msg/s" "sdk msg/s" "C/sdk"
for s in "${scenarios[@]}"; do
  c=$(awk -v s="$s" '$1=="c" && $2==s {print $5}' "$work/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  g=$(awk -v s="$s" '$1=="go" && $2==s {print $5}' "$work/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s %12s %12s %8.2f\n' "$s" "$c" "$g" "$(echo "$c $g" | awk '{print $1/$2}')"
done
a=$(awk '$1=="c" && $2=="async" {print $5}' "$work/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
b=$(awk '$1=="c" && $2=="batch" {print $5}' "$work/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'C batch / C one-call-per-message async: %.2f\n' "$(echo "$b $a" | awk '{print $1/$2}')"
