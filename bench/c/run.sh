#!/usr/bin/env bash
# Runs the C API benchmark beside the sdk/ benchmark and prints, per
# scenario, msg/s and the client CPU time per message (user + system of the
# benchmark process, so the broker's CPU is not in it) of C and sdk, with
# C/sdk ratios, then batch against one call per message on both measures.
#
# These machines drift (other tenants, disk write-back), so every ratio is
# the median of per-round ratios of runs made back to back, never a ratio
# of separate medians. Each round starts a fresh broker with an empty data
# directory (a growing file store slows later runs), and alternates which
# program runs first and whether async or batch goes first, so neither side
# always gets the warmer or the colder slot.
#
# Usage: bench/c/run.sh [N_ASYNC] [N_SYNC] [ROUNDS]   (after `make lib broker`)
# BENCH_RESULTS=FILE keeps the raw per-round lines
#   ("<round> <c|go> <scenario> <messages> <seconds> <msg/s> <cpu us/msg>").
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
n=${1:-100000}
nsync=${2:-3000}
rounds=${3:-5}
work=$(mktemp -d)
broker_pid=""
stop_broker() {
  if [ -n "$broker_pid" ]; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
  fi
  rm -rf "$work/data" "$work/ready"
}
trap 'stop_broker; rm -rf "$work"' EXIT

broker=${MEMPHIS_DEVBROKER:-$root/build/bin/memphis-devbroker}
start_broker() {
  "$broker" --port 0 --data-dir "$work/data" --ready-file "$work/ready" >"$work/broker.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 300); do [ -s "$work/ready" ] && break; sleep 0.1; done
  [ -s "$work/ready" ] || { cat "$work/broker.log" >&2; exit 1; }
  addr=$(cat "$work/ready")
  host=${addr%:*} port=${addr##*:}
}

cc -std=c11 -O2 -Wall -I"$root/include" -o "$work/c" bench/c/bench.c \
  -L"$root/build/lib" -lmemphis -Wl,-rpath,"$root/build/lib"
go build -o "$work/go" ./bench/c/sdkbench

for r in $(seq 1 "$rounds"); do
  start_broker
  if ((r % 2)); then progs=(c go) order=(async batch sync consume); else progs=(go c) order=(batch async sync consume); fi
  for prog in "${progs[@]}"; do
    "$work/$prog" "$host" "$port" "$n" "$nsync" "${order[@]}" | sed "s/^/$r /" >>"$work/results"
  done
  stop_broker
done

# paired A_PROG A_SCEN B_PROG B_SCEN FIELD: median over the rounds of A/B
# for one column (6 = msg/s, 7 = client CPU us/msg).
paired() {
  awk -v ap="$1" -v as="$2" -v bp="$3" -v bs="$4" -v f="$5" '
    $2==ap && $3==as {a[$1]=$f}
    $2==bp && $3==bs {b[$1]=$f}
    END {for (r in a) if (r in b && b[r] > 0) print a[r]/b[r]}' "$work/results" |
    sort -g | awk '{v[NR]=$1} END {if (NR) printf "%.2f", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else printf "-"}'
}
# median PROG SCENARIO FIELD: the median of one column over the rounds.
median() {
  awk -v p="$1" -v s="$2" -v f="$3" '$2==p && $3==s {print $f}' "$work/results" |
    sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

echo "512-byte messages, file storage, 1 replica, local memphis-devbroker; $rounds rounds"
echo "msg/s and cpu (client CPU us/msg): medians; ratios: medians of per-round ratios"
printf '%-8s %10s %10s %6s   %8s %8s %6s\n' scenario "C msg/s" "sdk msg/s" "C/sdk" "C cpu" "sdk cpu" "C/sdk"
for s in async batch sync consume; do
  printf '%-8s %10s %10s %6s   %8s %8s %6s\n' "$s" "$(median c "$s" 6)" "$(median go "$s" 6)" \
    "$(paired c "$s" go "$s" 6)" "$(median c "$s" 7)" "$(median go "$s" 7)" "$(paired c "$s" go "$s" 7)"
done
printf 'batch / one call per message (async):  C msg/s %s, cpu/msg %s;  sdk msg/s %s, cpu/msg %s\n' \
  "$(paired c batch c async 6)" "$(paired c batch c async 7)" "$(paired go batch go async 6)" "$(paired go batch go async 7)"
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$work/results" "$BENCH_RESULTS"; fi
