#!/usr/bin/env bash
# Runs every suite (scripts/test-<suite>.sh) and sums up what passed, failed and
# was skipped, with the reason for every skip. All suites run either way.
#
# The skip convention, for every suite script:
#   * a line `SKIP: <reason>` on its output names something it did not run
#     (a test, a check, or the whole suite) and why;
#   * exit 0: the suite passed (its SKIP lines are skips inside it);
#     exit 77: the whole suite was skipped (its SKIP lines say why);
#     any other exit: the suite failed.
# pytest, minitest, CTest and go test skips are turned into such lines by the
# suite scripts.
#
# MEMPHIS_TEST_STRICT=1 (.ci/run sets it): every suite must run here, so any
# skip, of a suite or inside one, fails the run.
#
# Each suite's output is also kept in build/test-logs/<suite>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

suites=(go compat c python ruby install)
logs=build/test-logs
mkdir -p "$logs"
passed=() failed=() skipped=() inner_skips=()

for s in "${suites[@]}"; do
  script="scripts/test-$s.sh"
  if [ ! -f "$script" ]; then
    echo "SKIP: $s: $script missing"
    skipped+=("$s")
    inner_skips+=("$s: $script missing")
    continue
  fi
  echo "=== suite: $s ==="
  start=$(date +%s)
  bash "$script" 2>&1 | tee "$logs/$s.log"
  rc=${PIPESTATUS[0]}
  took=$(($(date +%s) - start))
  echo "=== suite: $s exit $rc (${took}s) ==="
  while IFS= read -r reason; do
    inner_skips+=("$s: $reason")
  done < <(sed -n 's/^SKIP: //p' "$logs/$s.log")
  case $rc in
    0) passed+=("$s (${took}s)") ;;
    77) skipped+=("$s") ;;
    *) failed+=("$s (exit $rc)") ;;
  esac
done

list() { if [ "$#" -gt 0 ]; then printf '%s, ' "$@" | sed 's/, $//'; else echo "none"; fi; }
echo "=== summary ==="
echo "passed:  $(list "${passed[@]}")"
echo "failed:  $(list "${failed[@]}")"
echo "skipped: $(list "${skipped[@]}")"
if [ "${#inner_skips[@]}" -gt 0 ]; then
  echo "skip reasons:"
  printf '  %s\n' "${inner_skips[@]}"
fi
status=0
[ "${#failed[@]}" -eq 0 ] || status=1
if [ "${MEMPHIS_TEST_STRICT:-0}" = 1 ] && [ "${#inner_skips[@]}" -gt 0 ]; then
  echo "strict: everything must run on this machine, but ${#inner_skips[@]} thing(s) were skipped (listed above)"
  status=1
fi
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
exit $status
