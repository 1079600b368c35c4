#!/usr/bin/env bash
# A memphis-devbroker cluster on this machine, for trying clustering out.
#
#   scripts/cluster.sh start N [BROKER FLAGS...]  start N nodes (default 3) on free
#                                                 loopback ports, each with its own
#                                                 data dir; prints the client URLs
#   scripts/cluster.sh stop [N]                   stop every node (SIGTERM); data kept
#   scripts/cluster.sh kill I                     SIGKILL node I (1-based), as a crash
#   scripts/cluster.sh status                     which nodes run, and the client URLs
#   scripts/cluster.sh clean                      stop, then delete the cluster's data
#
# State lives in $MEMPHIS_CLUSTER_DIR (default .memphis-cluster/ in the
# checkout): per node its ports, data dir, log and pid. `start` again after
# `stop` or `kill` restarts the missing nodes on the same ports and data, as a
# node must come back under the same name. Extra BROKER FLAGS (e.g. --sync
# always, --password-file F) go to every node on first start. The broker is
# build/bin/memphis-devbroker (built with `make broker` if missing) or
# $MEMPHIS_DEVBROKER.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${MEMPHIS_CLUSTER_DIR:-$root/.memphis-cluster}
bin=${MEMPHIS_DEVBROKER:-$root/build/bin/memphis-devbroker}

die() { echo "cluster.sh: $*" >&2; exit 1; }

# free_ports N: N distinct TCP ports free on 127.0.0.1 now.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

nodes() { [ -f "$dir/nodes" ] && cat "$dir/nodes" || echo 0; }
# running I: node I's process exists and is not a zombie waiting to be reaped.
running() {
  local pid stat
  pid=$(cat "$dir/node$1/pid" 2>/dev/null) || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
client_urls() {
  local n urls=() i
  n=$(nodes)
  for ((i = 1; i <= n; i++)); do urls+=("127.0.0.1:$(cat "$dir/node$i/port")"); done
  (IFS=,; echo "${urls[*]}")
}

start() {
  local n=${1:-3}; shift || true
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "start: N must be a positive number, got '$n'"
  if [ "$(nodes)" != 0 ] && [ "$(nodes)" != "$n" ]; then
    die "a $(nodes)-node cluster exists in $dir; 'clean' it first to start $n nodes"
  fi
  if [ ! -x "$bin" ]; then
    [ -z "${MEMPHIS_DEVBROKER:-}" ] || die "MEMPHIS_DEVBROKER=$bin is not executable"
    make -s -C "$root" broker >/dev/null
  fi
  mkdir -p "$dir"
  if [ "$(nodes)" = 0 ]; then
    local ports routes=() i
    read -r -a ports <<<"$(free_ports $((2 * n)))"
    for ((i = 1; i <= n; i++)); do routes+=("nats-route://127.0.0.1:${ports[n + i - 1]}"); done
    for ((i = 1; i <= n; i++)); do
      mkdir -p "$dir/node$i"
      echo "${ports[i - 1]}" >"$dir/node$i/port"
      echo "${ports[n + i - 1]}" >"$dir/node$i/cluster_port"
    done
    (IFS=,; echo "${routes[*]}") >"$dir/routes"
    printf '%s\n' "$@" >"$dir/flags"
    echo "$n" >"$dir/nodes"
  fi
  local flags=() i
  mapfile -t flags <"$dir/flags"
  [ "${#flags[@]}" -eq 1 ] && [ -z "${flags[0]}" ] && flags=()
  for ((i = 1; i <= n; i++)); do
    running "$i" && continue
    rm -f "$dir/node$i/ready"
    # setsid: the nodes outlive this script and its terminal.
    setsid "$bin" --port "$(cat "$dir/node$i/port")" --cluster-port "$(cat "$dir/node$i/cluster_port")" \
      --routes "$(cat "$dir/routes")" --data-dir "$dir/node$i/data" --ready-file "$dir/node$i/ready" \
      "${flags[@]}" >>"$dir/node$i/broker.log" 2>&1 </dev/null &
    echo $! >"$dir/node$i/pid"
  done
  # Each node is ready once a majority of the nodes is up.
  for ((i = 1; i <= n; i++)); do
    for _ in $(seq 1 600); do
      [ -s "$dir/node$i/ready" ] && break
      running "$i" || { tail -n 20 "$dir/node$i/broker.log" >&2; die "node $i exited; log: $dir/node$i/broker.log"; }
      sleep 0.1
    done
    [ -s "$dir/node$i/ready" ] || die "node $i not ready after 60 s; log: $dir/node$i/broker.log"
  done
  status
}

status() {
  local n i
  n=$(nodes)
  [ "$n" != 0 ] || { echo "no cluster in $dir"; return 0; }
  for ((i = 1; i <= n; i++)); do
    if running "$i"; then state="running (pid $(cat "$dir/node$i/pid"))"; else state=stopped; fi
    echo "node $i: 127.0.0.1:$(cat "$dir/node$i/port"), routes on $(cat "$dir/node$i/cluster_port"): $state"
  done
  echo "client URLs: $(client_urls)"
  echo "export MEMPHIS_HOST=$(client_urls)"
}

stop() {
  local n i pid
  n=$(nodes)
  [ -z "${1:-}" ] || [ "$1" = "$n" ] || die "stop: the cluster in $dir has $n nodes, not $1"
  for ((i = 1; i <= n; i++)); do
    running "$i" || continue
    pid=$(cat "$dir/node$i/pid")
    kill -TERM "$pid"
    for _ in $(seq 1 300); do running "$i" || break; sleep 0.1; done
    running "$i" && kill -KILL "$pid"
    echo "node $i stopped"
  done
  return 0
}

kill_node() {
  local i=${1:-}
  [[ "$i" =~ ^[0-9]+$ ]] && [ "$i" -ge 1 ] && [ "$i" -le "$(nodes)" ] || die "kill: I must be a node number 1..$(nodes)"
  running "$i" || die "node $i is not running"
  kill -KILL "$(cat "$dir/node$i/pid")"
  echo "node $i killed (SIGKILL)"
}

cmd=${1:-}; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  kill) kill_node "$@" ;;
  status) status ;;
  clean) stop; rm -rf "$dir"; echo "removed $dir" ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
