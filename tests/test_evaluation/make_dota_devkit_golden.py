"""Regenerate ``tests/data/dota_devkit_golden.json``: the official DOTA devkit's scores of the cases in
``dota_devkit_cases.py`` (no devkit code is in this repository; this script imports a checkout of it).

    git clone https://github.com/CAPTAIN-WHU/DOTA_devkit /tmp/DOTA_devkit
    pip install swig                       # the devkit's polyiou is a SWIG extension
    python tests/test_evaluation/make_dota_devkit_golden.py --devkit /tmp/DOTA_devkit

Builds ``polyiou`` in the checkout when it is not built yet (``swig -c++ -python polyiou.i`` and
``python setup.py build_ext --inplace``, the devkit's readme), then for every (IoU threshold, AP kind)
in ``SETTINGS`` and every category calls the devkit's ``dota_evaluation_task1.voc_eval`` on the
generated ``labelTxt``/``Task1`` files, and ``polyiou.iou_poly`` on the generated polygon pairs. The
devkit needs ``numpy.bool`` (numpy < 1.24 or >= 2) and matplotlib (imported, unused).
"""
import argparse
import contextlib
import glob
import hashlib
import importlib.util
import io
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from dota_devkit_cases import CLASSES, SEED, SETTINGS, case_digest, make_case, write_case  # noqa: E402

DEFAULT_OUT = osp.join(osp.dirname(HERE), 'data', 'dota_devkit_golden.json')


def build_polyiou(devkit: str) -> None:
    if glob.glob(osp.join(devkit, '_polyiou*.so')) or glob.glob(osp.join(devkit, '_polyiou*.pyd')):
        return
    swig = shutil.which('swig') or osp.join(osp.dirname(sys.executable), 'swig')
    if not osp.exists(swig):
        sys.exit('swig not found: pip install swig')
    subprocess.run([swig, '-c++', '-python', 'polyiou.i'], cwd=devkit, check=True)
    subprocess.run([sys.executable, 'setup.py', 'build_ext', '--inplace'], cwd=devkit, check=True)


def sha256(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--devkit', required=True, help='checkout of CAPTAIN-WHU/DOTA_devkit')
    parser.add_argument('--devkit-commit', help='its commit (default: git rev-parse HEAD in the checkout)')
    parser.add_argument('--out', default=DEFAULT_OUT)
    args = parser.parse_args()
    devkit = osp.abspath(args.devkit)
    build_polyiou(devkit)
    sys.path.insert(0, devkit)
    import polyiou
    spec = importlib.util.spec_from_file_location('dota_evaluation_task1', osp.join(devkit, 'dota_evaluation_task1.py'))
    task1 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(task1)
    commit = args.devkit_commit
    if commit is None:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=devkit, capture_output=True, text=True,
                                check=True).stdout.strip()

    case = make_case()
    aps = {}
    with tempfile.TemporaryDirectory() as tmp:
        ann_dir, det_dir, imageset = write_case(case, tmp)
        for thr, use_07 in SETTINGS:
            key = f'{thr:g}/{"11points" if use_07 else "area"}'
            aps[key] = {}
            for cls in CLASSES:
                with contextlib.redirect_stdout(io.StringIO()):  # voc_eval prints its tp/fp arrays
                    _, _, ap = task1.voc_eval(osp.join(det_dir, 'Task1_{:s}.txt'), osp.join(ann_dir, '{:s}.txt'),
                                              imageset, cls, ovthresh=thr, use_07_metric=use_07)
                aps[key][cls] = None if math.isnan(ap) else float(ap)
    p, q = case['iou_pairs']
    ious = [polyiou.iou_poly(polyiou.VectorDouble(a.tolist()), polyiou.VectorDouble(b.tolist())) for a, b in zip(p, q)]
    golden = dict(
        note=('Per-category AP of the official DOTA devkit (dota_evaluation_task1.voc_eval) and its polyiou.iou_poly '
              'on the cases of tests/test_evaluation/dota_devkit_cases.py; regenerate with '
              'tests/test_evaluation/make_dota_devkit_golden.py --devkit <checkout>. null: NaN.'),
        devkit=dict(repository='https://github.com/CAPTAIN-WHU/DOTA_devkit', commit=commit,
                    sha256={f: sha256(osp.join(devkit, f)) for f in ('dota_evaluation_task1.py', 'polyiou.cpp')}),
        cases=dict(seed=SEED, sha256=case_digest(case), classes=list(CLASSES)),
        ap=aps,
        iou_pairs=[None if math.isnan(v) else v for v in ious],
    )
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(golden, f, indent=1)
        f.write('\n')
    print(f'wrote {args.out}: {len(CLASSES)} categories x {len(SETTINGS)} settings, {len(ious)} IoU pairs')


if __name__ == '__main__':
    main()
