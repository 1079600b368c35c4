#!/usr/bin/env bash
# The Python binding's suite: ruff, mypy, then pytest against memphis-devbroker
# (the fixture builds the broker and libmemphis.so when they are missing).
# Each pytest skip is reported as `SKIP: <file>:<line>: <reason>`; pytest
# collecting nothing (exit 5) is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -d bindings/python/tests ]; then
  echo "SKIP: python suite (bindings/python/tests missing)"
  exit 77
fi
py=${PYTHON:-python3}

echo "--- ruff"
if ! "$py" -m ruff --version >/dev/null 2>&1; then
  echo "ruff is not installed: run scripts/install-deps.sh" >&2
  exit 1
fi
"$py" -m ruff check --config bindings/python/pyproject.toml bindings/python examples/python bench/python tests/install scripts || exit 1

echo "--- mypy"
if "$py" -m mypy --version >/dev/null 2>&1; then
  (cd bindings/python && "$py" -m mypy memphis) || exit 1
else
  echo "mypy is not installed: run scripts/install-deps.sh" >&2
  exit 1
fi

echo "--- pytest"
cd bindings/python
# -rs prints one "SKIPPED [n] file:line: reason" line per skip in the summary.
"$py" -m pytest -p no:cacheprovider -q -rs tests "$@" |
  awk '{ print; fflush() } match($0, /^SKIPPED \[[0-9]+\] /) { print "SKIP: " substr($0, RLENGTH + 1); fflush() }'
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 5 ]; then
  echo "FAIL python: pytest collected no tests"
  exit 1
fi
exit "$rc"
