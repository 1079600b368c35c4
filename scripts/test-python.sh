#!/usr/bin/env bash
# The Python binding's suite: ruff, then pytest against memphis-devbroker
# (the fixture builds the broker and libmemphis.so when they are missing).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -d bindings/python/tests ]; then
  echo "SKIP: python suite (bindings/python/tests missing)"
  exit 0
fi
py=${PYTHON:-python3}

echo "--- ruff"
if ! "$py" -m ruff --version >/dev/null 2>&1; then
  echo "ruff is not installed: run scripts/install-deps.sh" >&2
  exit 1
fi
"$py" -m ruff check --config bindings/python/pyproject.toml bindings/python examples/python bench/python || exit 1

echo "--- mypy"
if "$py" -m mypy --version >/dev/null 2>&1; then
  (cd bindings/python && "$py" -m mypy memphis) || exit 1
else
  echo "mypy is not installed: run scripts/install-deps.sh" >&2
  exit 1
fi

echo "--- pytest"
cd bindings/python
"$py" -m pytest -p no:cacheprovider -q -rs tests "$@"
rc=$?
# 5 = pytest collected no tests: nothing ran, which is a skip, not a failure.
if [ "$rc" -eq 5 ]; then
  echo "SKIP: python suite collected no tests"
  exit 0
fi
exit "$rc"
