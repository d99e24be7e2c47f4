"""The README's demo: a model trained by tools/train.py must clearly beat its untrained self."""
import json
import os.path as osp

import pytest

from conftest import run_tool

pytestmark = pytest.mark.e2e


def test_quickstart_training_beats_untrained(tmp_path):
    data, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    out = run_tool(['tools/quickstart.py', '--data-root', data, '--work-dir', work]).stdout
    with open(osp.join(work, 'quickstart_result.json')) as f:
        result = json.load(f)
    # Both numbers come from tools/test.py on the same 50 validation images.
    assert result['untrained_mAP'] < 0.05
    assert result['trained_mAP'] > result['untrained_mAP'] + 0.3, result
    assert f"trained {result['trained_mAP']:.3f}" in out
