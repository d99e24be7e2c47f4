"""FAIR1M-2.0 end to end: release layout (tif + labelXml) -> ``fair1m.py to-dota`` -> ``dota_split.py
--classes fair1m-2.0`` -> tools/train.py (the shipped ResNet FAIR1M config, shrunk) -> tools/test.py with
merged full-image scoring (must beat the untrained model) -> result xml with the official names."""
import os
import os.path as osp
import runpy

import pytest
from test_rotated_det_e2e import NO_VAL, PIPELINES_128, RCNN_DIR, SMALL_HEADS, short_run

from conftest import REPO, SINGLE_THREAD, finish_tool, start_tool, write_child_config
from mmrsfm.utils.tool_setup import parse_test_metrics

pytestmark = pytest.mark.e2e

R50_FAIR1M = 'oriented-rcnn-le90_r50_fpn_1xb2-1x_fair1mv2-ss-1024x1024.py'


def _cli(name: str, argv: list) -> None:
    """Run ``main(argv)`` of ``tools/dataset_converters/{name}.py``."""
    runpy.run_path(osp.join(REPO, 'tools', 'dataset_converters', name + '.py'))['main'](argv)


def test_fair1m_release_to_merged_map_and_result_xml(tmp_path, capsys):
    from mmrsfm.datasets.dota_split import split_dota
    from mmrsfm.datasets.fair1m import FAIR1M_CLASSES, convert_fair1m, parse_fair1m_xml, write_fair1m_results
    from mmrsfm.datasets.synthetic import make_fair1m
    from mmrsfm.utils.preflight import load_config
    from mmrsfm.utils.tool_setup import save_untrained_checkpoint
    raw, split = str(tmp_path / 'FAIR1M2_0'), str(tmp_path / 'split')
    make_fair1m(raw, num_train=12, num_val=3, num_test=0, size=384, max_objects=12, object_size=(24., 40.), seed=3)
    # The validation data first, so the untrained model is scored while the training data is written.
    convert_fair1m(f'{raw}/validation/labelXml', f'{raw}/validation/images', f'{raw}/validation/labelTxt')
    assert split_dota(f'{raw}/validation/images', f'{split}/val', patch_size=128, gap=32)['patches'] == 36  # 4 x 3
    iters, task1 = 80, str(tmp_path / 'Task1')
    cfg = write_child_config(str(tmp_path / 'fair1m.py'), RCNN_DIR + R50_FAIR1M, f"""
data_root = '{split}/'
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),{SMALL_HEADS})
{PIPELINES_128}
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_evaluator = dict(ann_dir='{raw}/validation/labelTxt/', outfile_prefix='{task1}')
{short_run(iters)}
# From scratch, AdamW converges far faster than the SGD schedule tuned for ImageNet-initialised R50.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.05))
""")
    untrained = str(tmp_path / 'untrained.pth')
    save_untrained_checkpoint(load_config(cfg), untrained)
    untrained_test = start_tool(['tools/test.py', cfg, untrained, '--work-dir', str(tmp_path / 'test0')], SINGLE_THREAD)
    # the converters' command lines, in this process (their start-up would cost more than their work)
    _cli('fair1m', ['to-dota', '--xml-dir', f'{raw}/train/part1/labelXml', '--img-dir', f'{raw}/train/part1/images',
                    '--out-dir', f'{raw}/train/part1/labelTxt'])
    _cli('dota_split', ['--classes', 'fair1m-2.0', '--patch-size', '128', '--gap', '32', '--img-dirs',
                        f'{raw}/train/part1/images', '--ann-dirs', f'{raw}/train/part1/labelTxt', '--out-dir',
                        f'{split}/train'])
    printed = capsys.readouterr().out
    assert 'fair1m-to-dota images=12 ' in printed and 'dota-split images=12 ' in printed
    train = start_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work'), '--cfg-options'] + NO_VAL,
                       SINGLE_THREAD)
    before = parse_test_metrics(finish_tool(untrained_test))['dota_full/AP50']
    train_out = finish_tool(train)
    assert f'Iter(train) [{iters}/{iters}]' in train_out and 'FAIR1MDataset' in train_out
    out = finish_tool(start_tool(['tools/test.py', cfg, str(tmp_path / 'work' / f'iter_{iters}.pth'), '--work-dir',
                                  str(tmp_path / 'test')]))
    after = parse_test_metrics(out)['dota_full/AP50']
    print(f'FAIR1M validation, merged full images: AP50 untrained {before:.3f} -> {iters} iterations {after:.3f}')
    assert 'DOTA Task1 files of 3 full images (36 patches)' in out
    assert after > before + 0.1

    # the merged Task1 files go back to FAIR1M xml with the official (spaced) names
    assert write_fair1m_results(task1, str(tmp_path / 'xml')) == 3
    names = {n for f in os.listdir(tmp_path / 'xml') for n in parse_fair1m_xml(str(tmp_path / 'xml' / f)).names}
    assert 'Dry Cargo Ship' in names and names <= set(FAIR1M_CLASSES)
