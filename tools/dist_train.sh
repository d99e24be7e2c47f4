#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]  (see torchrun.sh)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "$2" train.py "$1" "${@:3}"
