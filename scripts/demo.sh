#!/usr/bin/env bash
# The main job end to end: start memphis-devbroker on a free loopback port with a
# temporary data dir, run every example against it, stop the broker.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workdir=$(mktemp -d)
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

"$root/build/bin/memphis-devbroker" --port 0 --data-dir "$workdir/data" \
  --ready-file "$workdir/ready" >"$workdir/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 300); do
  [ -s "$workdir/ready" ] && break
  kill -0 "$broker_pid" 2>/dev/null || { cat "$workdir/broker.log"; echo "demo: broker exited" >&2; exit 1; }
  sleep 0.1
done
[ -s "$workdir/ready" ] || { cat "$workdir/broker.log"; echo "demo: broker not ready after 30 s" >&2; exit 1; }
addr=$(cat "$workdir/ready")
echo "demo: $(grep -m1 "listening on" "$workdir/broker.log")"

export MEMPHIS_HOST="${addr%:*}" MEMPHIS_PORT="${addr##*:}"
export MEMPHIS_USERNAME=root MEMPHIS_PASSWORD=memphis
export MEMPHIS_LIBRARY="$root/build/lib/libmemphis.so"

status=0
for lang in go c python ruby cli cluster; do
  run="examples/$lang/run.sh"
  if [ ! -f "$run" ]; then echo "demo: SKIP $lang (no $run)"; continue; fi
  echo "=== demo: $lang example ==="
  if bash "$run"; then echo "=== demo: $lang example ok ==="; else echo "=== demo: $lang example FAILED ==="; status=1; fi
done
exit $status
