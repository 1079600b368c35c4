#!/usr/bin/env bash
# Runs the official memphis.go v1.3.2 SDK, unchanged, against
# memphis-devbroker (tests/compat is its own Go module so the product's
# go.mod never depends on that SDK). Skipped tests print `SKIP: <package> <test>: <reason>`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v go >/dev/null 2>&1; then
  echo "SKIP: compat tests need the go toolchain"
  exit 77
fi
cd tests/compat
# -mod=mod lets the go command add go.sum lines that a change of the root
# module's dependencies requires, instead of failing on a stale go.sum
# (scripts/test-go.sh checks that both modules are tidy).
GOFLAGS="${GOFLAGS:-} -mod=mod" go test -race -count=1 -json "$@" ./... | python3 "$root/scripts/gotest_report.py"
