#!/usr/bin/env bash
# Go example for `make demo`: produce a few messages, then consume and ack
# them. Expects MEMPHIS_HOST, MEMPHIS_PORT, MEMPHIS_USERNAME and
# MEMPHIS_PASSWORD in the environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/producer" ./examples/go/producer
go build -o "$bin/consumer" ./examples/go/consumer
"$bin/producer"
"$bin/consumer" -count 6
