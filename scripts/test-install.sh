#!/usr/bin/env bash
# Packaging suite: the version copies agree with VERSION, `make dist` builds
# every artifact (and checks them for build-machine paths), then
# tests/install/run.sh installs and uses them outside the source tree,
# without Go. Needs the development build's memphis-devbroker (make).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/version.py --check
[ -x build/bin/memphis-devbroker ] || make -s broker
bash scripts/dist.sh
bash tests/install/run.sh
