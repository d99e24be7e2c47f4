#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install the pinned OpenMMLab stack.
#
#   tools/setup_env.sh                       # default: the last official OpenMMLab releases
#   MMRSFM_STACK=onedl tools/setup_env.sh    # the maintained onedl-* forks (see README caveats)
#
# Idempotent: a stamp inside the venv records a hash of every requirements file, this script and the
# build flavour; when nothing changed the script returns in about a second. mmcv's compiled ops are
# built from source once per (mmcv version, torch version, cpu/cuda) and cached as a wheel under
# $MMRSFM_CACHE, because pip's own wheel cache is not keyed on the torch version it was built against.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
STACK="${MMRSFM_STACK:-openmmlab}"
PYTHON="${PYTHON:-python3}"
CACHE="${MMRSFM_CACHE:-$HOME/.cache/mmrsfm}"
REQ="$ROOT/requirements"

if [[ ! -f "$REQ/$STACK.txt" ]]; then
    echo "setup_env: unknown MMRSFM_STACK='$STACK'; use one of: openmmlab, onedl" >&2
    exit 2
fi

# CUDA ops only when both a GPU and nvcc are present (a CPU-only build otherwise).
FLAVOUR=cpu
if command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    FLAVOUR=cuda
fi

stamp_of() {
    cat "$REQ"/*.txt "$ROOT/tools/setup_env.sh" "$ROOT/setup.py" | sha256sum | cut -c1-16
}
STAMP="$STACK-$FLAVOUR-$(stamp_of)"
STAMP_FILE="$VENV/.mmrsfm-stamp"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then
    echo "setup_env: $VENV is up to date ($STAMP)"
    exit 0
fi

t0=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
# --no-cache-dir: PyPI's torch pulls ~2.5 GB of nvidia-* wheels; caching them as well as installing
# them doubles the peak disk use (a CI machine with little free space failed here with ENOSPC).
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-cache-dir)

# A cold install needs ~8 GB in the venv (torch's CUDA libraries are most of it) plus pip's unpack
# space under TMPDIR. Say so up front rather than let pip die mid-way with "No space left on device".
need_gb=10
free_gb="$(df -Pk "$VENV" | awk 'NR==2 {print int($4 / 1048576)}')"
if [[ ! -f "$VENV/.mmrsfm-stamp" && "$free_gb" -lt "$need_gb" ]]; then
    echo "setup_env: WARNING: only ${free_gb} GB free on the filesystem of $VENV; a cold install" \
         "needs about ${need_gb} GB (torch + nvidia libs ~6.5 GB). Free space or set VENV=/bigger/disk/.venv." >&2
fi

echo "setup_env: [1/4] torch + torchvision"
"${PIP[@]}" install -r "$REQ/torch.txt"
"${PIP[@]}" install -c "$REQ/torch.txt" -r "$REQ/build.txt"

# [2/4] mmcv with compiled ops, built against the torch just installed.
MMCV_REQ="$(grep -E '^(onedl-)?mmcv==' "$REQ/$STACK.txt")"
MMCV_DIST="${MMCV_REQ%%==*}"
MMCV_VER="${MMCV_REQ##*==}"
TORCH_VER="$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')"
WHEELS="$CACHE/wheels/$MMCV_DIST-$MMCV_VER-torch$TORCH_VER-$FLAVOUR"
have_mmcv="$("$VENV/bin/python" - "$MMCV_DIST" "$MMCV_VER" <<'EOF'
import sys
from importlib import metadata
try:
    print(int(metadata.version(sys.argv[1]) == sys.argv[2]))
except metadata.PackageNotFoundError:
    print(0)
EOF
)"
if [[ "$have_mmcv" != 1 ]]; then
    if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
        echo "setup_env: [2/4] building $MMCV_REQ ops against torch $TORCH_VER ($FLAVOUR); ~7 min on 2 cores"
        mkdir -p "$WHEELS"
        # CFLAGS replaces Python's defaults under setuptools 80, so give the full optimised set;
        # -g0 drops debug info (wheel 1.4 MB instead of 32 MB, and a faster link).
        env MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" FORCE_CUDA=$([[ $FLAVOUR == cuda ]] && echo 1 || echo 0) \
            CFLAGS="-DNDEBUG -fwrapv -O3 -Wall -g0" \
            "${PIP[@]}" wheel --no-build-isolation --no-deps --no-binary "$MMCV_DIST" \
            -c "$REQ/torch.txt" -w "$WHEELS" "$MMCV_REQ"
    fi
    "${PIP[@]}" install --no-deps "$WHEELS"/*.whl
fi

echo "setup_env: [3/4] OpenMMLab stack '$STACK' + runtime + test requirements"
"${PIP[@]}" install -c "$REQ/torch.txt" -r "$REQ/runtime.txt" -r "$REQ/$STACK.txt" -r "$REQ/tests.txt"

echo "setup_env: [4/4] mmrsfm (editable)"
"${PIP[@]}" install --no-deps --no-build-isolation -e "$ROOT"

"$VENV/bin/python" -c 'import mmrsfm, mmcv.ops, mmdet, mmseg, mmrotate, mmpretrain; print("setup_env: versions", mmrsfm.stack_versions())'
echo "$STAMP" > "$STAMP_FILE"
echo "setup_env: done in $(( $(date +%s) - t0 )) s"
