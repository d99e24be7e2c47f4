"""AIR-PolSAR-Seg end to end (CPU): release-layout patches (``train_set/``, ``test_set/``, four
``<patch>_<POL>.tiff`` + ``<patch>_gt.png`` each) -> the shipped UPerNet / RS-vHeat config with its 4-band
SAR stem (shrunk) trained through tools/train.py and scored by tools/test.py against the same model
untrained. The synthetic classes (:mod:`mmrsfm.datasets.synthetic.air_polsar_seg`) are told apart only
by combining polarisations, so the gain needs the stacked HH, HV, VH, VV input.
"""
import pytest

from conftest import TINY_UPERNET_RS_VHEAT, score_untrained_and_trained, write_child_config
from mmrsfm.datasets.synthetic import make_air_polsar_seg

pytestmark = pytest.mark.e2e

CONFIG = 'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_air-polsar-seg-512x512.py'
ITERS = 40
MARGIN = 15.0  # mIoU points

# 64 px patches, used whole (as the release's 512 px ones), in dB as the shipped pipeline.
CHILD = TINY_UPERNET_RS_VHEAT + """
data_root = '{data_root}'
train_pipeline = [
    dict(type='mmrsfm.LoadStackedModalities', bands=dict(HH=1, HV=1, VH=1, VV=1)),
    dict(type='mmrsfm.LoadColourCodedAnnotations'),
    dict(type='mmrsfm.SARToDecibels', amplitude=True, clip=(0.0, 80.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
"""


def test_training_beats_untrained(tmp_path):
    make_air_polsar_seg(str(tmp_path / 'AIR-PolSAR-Seg'), num_train=12, num_val=3, size=64, seed=0)
    config = write_child_config(str(tmp_path / 'air.py'), CONFIG,
                                CHILD.format(data_root=tmp_path / 'AIR-PolSAR-Seg', iters=ITERS))
    before, after, out = score_untrained_and_trained(config, str(tmp_path), ITERS)
    assert 'AIR-PolSAR-Seg' in out and '12 samples' in out  # the dataset logs its count
    print(f"AIR-PolSAR-Seg (synthetic) mIoU: untrained {before['mIoU']:.2f} -> trained {after['mIoU']:.2f}")
    assert after['mIoU'] > before['mIoU'] + MARGIN, (before, after)
