#!/usr/bin/env bash
# Go suite: formatting (gofmt), tidy modules (go mod tidy -diff, for the main
# module and tests/compat), go vet, staticcheck (pinned by
# scripts/install-deps.sh; staticcheck.conf says which checks), then every
# package of the main module under the race detector. All steps run; the
# suite fails if any did. Skipped tests print `SKIP: <package> <test>: <reason>`
# (scripts/gotest_report.py).
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
step() { echo "--- $1"; }
fail() { echo "FAIL go: $*"; status=1; }

step "gofmt -l"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './build/*'))
[ -z "$unformatted" ] || fail "not gofmt-formatted (run gofmt -w): $unformatted"

step "go mod tidy -diff"
go mod tidy -diff || fail "go.mod/go.sum not tidy (run go mod tidy)"
(cd tests/compat && go mod tidy -diff) || fail "tests/compat/go.mod/go.sum not tidy (run go mod tidy there)"

step "go vet"
go vet ./... || fail "go vet"
# The build without statistics counters, which BenchmarkStatsCost compares
# against (docs/statistics.md, "Cost"), must keep compiling.
go vet -tags memphis_nostats ./sdk/ || fail "go vet -tags memphis_nostats ./sdk/"

step "staticcheck"
staticcheck="$(go env GOPATH)/bin/staticcheck"
if [ -x "$staticcheck" ]; then
  "$staticcheck" ./... || fail "staticcheck"
else
  fail "staticcheck is not installed (run scripts/install-deps.sh)"
fi

step "go test -race"
go test -race -count=1 -timeout 25m -json ./... | python3 scripts/gotest_report.py || fail "go test"
exit $status
