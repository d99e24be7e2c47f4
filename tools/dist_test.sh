#!/usr/bin/env bash
# Distributed testing: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]  (see torchrun.sh)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "$3" test.py "$1" "$2" "${@:4}"
