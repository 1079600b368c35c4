#!/usr/bin/env bash
# The C API beside what it is built on (the Go sdk) and beside nats.c, the
# native C JetStream client, in one run: bench/run.py with those layers.
# Takes run.py's flags, e.g. bench/c/run.sh --scenarios sync,async --rounds 7
# or --host/--port/--user/--password for an existing broker.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 bench/run.py --layers go-sdk,c-api,nats.c "$@"
