#!/usr/bin/env bash
# Shared launcher of dist_train.sh / dist_test.sh: torchrun.sh NUM_PROCS SCRIPT [SCRIPT args...]
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh ...
# Without CUDA the processes run on CPU with the gloo backend (mmrsfm/utils/tool_setup.py).
set -euo pipefail
NPROC=$1
SCRIPT=$2
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The project venv (tools/setup_env.sh) unless another interpreter is active or given.
if [[ -z "${PYTHON:-}" && -z "${VIRTUAL_ENV:-}" && -x "$DIR/../.venv/bin/python" ]]; then
    PYTHON="$DIR/../.venv/bin/python"
fi

PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" --master_port="${PORT:-29500}" \
    "$DIR/$SCRIPT" "${@:3}" --launcher pytorch
