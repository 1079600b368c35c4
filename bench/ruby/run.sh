#!/usr/bin/env bash
# The Ruby gem beside the C API it wraps, in one run: bench/run.py with
# those layers. Takes run.py's flags (--quick, --rounds, --host, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 bench/run.py --layers c-api,ruby "$@"
