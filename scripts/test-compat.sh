#!/usr/bin/env bash
# Runs the official memphis.go v1.3.2 SDK, unchanged, against
# memphis-devbroker (tests/compat is its own Go module so the product's
# go.mod never depends on that SDK).
set -euo pipefail
cd "$(dirname "$0")/../tests/compat"
if ! command -v go >/dev/null 2>&1; then
	echo "SKIP: compat tests need the go toolchain" >&2
	exit 0
fi
# -mod=mod lets the go command add go.sum lines that a change of the root
# module's dependencies requires, instead of failing on a stale go.sum.
GOFLAGS="${GOFLAGS:-} -mod=mod" exec go test -race -count=1 "$@" ./...
