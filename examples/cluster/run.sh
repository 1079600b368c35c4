#!/usr/bin/env bash
# Cluster walk-through for `make demo`: start a 3-node memphis-devbroker
# cluster (scripts/cluster.sh, in a temporary directory), run the Go program
# in this directory against node 1, which is killed halfway, then stop the
# cluster. It ignores MEMPHIS_HOST/MEMPHIS_PORT (the demo's single broker)
# and uses its own nodes; the credentials are the broker defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
export MEMPHIS_CLUSTER_DIR="$work/cluster"
cleanup() { bash scripts/cluster.sh clean >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/walkthrough" ./examples/cluster
echo "\$ scripts/cluster.sh start 3"
bash scripts/cluster.sh start 3
node1=127.0.0.1:$(cat "$MEMPHIS_CLUSTER_DIR/node1/port")

MEMPHIS_HOST=$node1 MEMPHIS_USERNAME=root MEMPHIS_PASSWORD=memphis \
  MEMPHIS_STATION=cluster-demo KILL_COMMAND="bash scripts/cluster.sh kill 1" "$work/walkthrough"

echo "\$ scripts/cluster.sh status"
bash scripts/cluster.sh status
