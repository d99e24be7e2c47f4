#!/usr/bin/env bash
# Run the test suite in the project venv. pytest exits 5 when it collected no test; that is a
# failure here (an empty or mis-configured suite must not pass as green).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${VENV:-$ROOT/.venv}/bin/python"
cd "$ROOT"
# Two pytest workers by default (PYTEST_WORKERS=0 runs in one process): most end-to-end tests are
# single-threaded tools/*.py subprocesses, so on CI's 2 cores a second worker uses the core they leave
# idle. --dist loadfile keeps a file's tests, and so its module fixtures, on one worker;
# --no-loadscope-reorder keeps the collection order of tests/conftest.py (longest files first) instead of
# xdist's default of files with the most tests first, which left the one-test e2e files for the end.
WORKERS="${PYTEST_WORKERS:-2}"
DIST=()
if [[ "$WORKERS" != 0 ]]; then
    DIST=(-n "$WORKERS" --dist loadfile --no-loadscope-reorder)
fi
"$PY" -m pytest tests "${DIST[@]}" "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
    echo "run_tests: pytest collected no tests (exit 5); failing" >&2
    exit 1
fi
exit $rc
