#!/usr/bin/env bash
# Run by `make demo` (scripts/demo.sh) with MEMPHIS_HOST/PORT/USERNAME/PASSWORD
# set and memphis-devbroker running: produce 10 messages, consume them back.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Use this checkout's binding (it finds build/lib/libmemphis.so or MEMPHIS_LIBRARY).
export PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export MEMPHIS_STATION="demo-python-$$"
py=${PYTHON:-python3}
"$py" "$here/producer.py"
MEMPHIS_EXPECT=10 "$py" "$here/consumer.py"
