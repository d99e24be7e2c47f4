"""iSAID end to end (CPU): release zips -> tools/dataset_converters/isaid.py (as a user runs it) -> the
shipped UPerNet / RS-vHeat config on mmseg's iSAIDDataset (shrunk), trained through tools/train.py and
scored by tools/test.py against the same model untrained."""
import pytest

from conftest import TINY_UPERNET_RS_VHEAT, run_tool, score_untrained_and_trained, write_child_config
from mmrsfm.datasets.synthetic import make_isaid

pytestmark = pytest.mark.e2e

CONFIG = 'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_isaid-896x896.py'
ITERS = 60
MARGIN = 10.0  # mIoU points

# 64 px patches without mmseg's 896 px rescaling.
CHILD = TINY_UPERNET_RS_VHEAT + """
data_root = '{data_root}'
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
"""


def test_converted_release_trains_beyond_untrained(tmp_path):
    make_isaid(str(tmp_path / 'iSAID'), num_train=6, num_val=1, size=96, seed=0)
    out = run_tool(['tools/dataset_converters/isaid.py', str(tmp_path / 'iSAID'), str(tmp_path / 'data'),
                    '--crop-size', '64', '--overlap', '16']).stdout
    assert 'wrote train: 36, val: 6, test: 1' in out
    config = write_child_config(str(tmp_path / 'isaid.py'), CONFIG,
                                CHILD.format(data_root=tmp_path / 'data', iters=ITERS))
    before, after, _ = score_untrained_and_trained(config, str(tmp_path), ITERS)
    print(f"iSAID (synthetic) mIoU: untrained {before['mIoU']:.2f} -> trained {after['mIoU']:.2f}")
    assert after['mIoU'] > before['mIoU'] + MARGIN, (before, after)
