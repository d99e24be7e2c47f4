#!/usr/bin/env bash
# Run the test suite in the project venv. pytest exits 5 when it collected no test; that is a
# failure here (an empty or mis-configured suite must not pass as green).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${VENV:-$ROOT/.venv}/bin/python"
cd "$ROOT"
"$PY" -m pytest tests "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
    echo "run_tests: pytest collected no tests (exit 5); failing" >&2
    exit 1
fi
exit $rc
