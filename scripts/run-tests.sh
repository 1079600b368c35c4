#!/usr/bin/env bash
# Runs every test suite that exists; a missing suite is skipped with one line.
# Exits non-zero when any suite fails; all suites run either way.
set -uo pipefail
cd "$(dirname "$0")/.."

suites=(go compat c python ruby)
passed=0 failed=0 skipped=0 failures=()
for s in "${suites[@]}"; do
  script="scripts/test-$s.sh"
  if [ ! -f "$script" ]; then
    echo "SKIP: $s suite not present ($script missing)"
    skipped=$((skipped + 1))
    continue
  fi
  echo "=== suite: $s ==="
  start=$(date +%s)
  bash "$script"
  rc=$?
  echo "=== suite: $s exit $rc ($(( $(date +%s) - start ))s) ==="
  if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$s"); fi
done
[ "$failed" -gt 0 ] && echo "failed suites: ${failures[*]}"
echo "suites: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
