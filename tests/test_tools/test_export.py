"""tools/deployment/export.py and mmrsfm.apis.export: every backbone family (tiny) to ONNX and to an
ExportedProgram with parity against eager PyTorch (max abs error / max |ref| <= 1e-4), dynamic H/W where
the family supports it (and a clear refusal where not), one segmentor, one change detector, the CLI, and
the errors for bad input."""
import importlib.util
import os.path as osp
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / 'test_models'))
from conftest import REPO, SINGLE_THREAD, run_tool, write_child_config  # noqa: E402
from test_backbone_contract import NAMES, TINY  # noqa: E402

from mmrsfm.apis.export import (NO_DYNAMIC, DynamicShapeError, ExportError, export, load_model, parity,  # noqa: E402
                                run_onnx)

TOL = 1e-4


def backbone_config(tmp_path, name: str) -> str:
    """A config whose model is the tiny backbone ``name``."""
    cfg, _, _ = TINY[name]
    path = tmp_path / f'{name}.py'
    path.write_text(f"default_scope = 'mmrsfm'\nmodel = dict(type='mmrsfm.{name}', **{cfg!r})\n")
    return str(path)


def assert_parity(report: dict, sizes: int = 1) -> None:
    assert len(report['parity']) == sizes, report['parity']
    for size, (abs_err, rel_err) in report['parity'].items():
        assert rel_err <= TOL, (report['model'], size, abs_err, rel_err)


@pytest.mark.parametrize('name', NAMES)
def test_backbone_exported_program_and_onnx_match_pytorch(tmp_path, name):
    """One trace per backbone: the saved ExportedProgram round-trips (save, load, run), and its ONNX
    conversion runs in ONNX Runtime; both equal eager PyTorch."""
    _, (bands, h, w), _ = TINY[name]
    out = str(tmp_path / 'm.pt2')
    report = export(backbone_config(tmp_path, name), fmt='exported-program', shape=(h, w), out=out, check=True,
                    log=lambda *_: None)
    assert report['kind'] == 'backbone' and report['bands'] == bands and osp.isfile(out)
    assert_parity(report)
    pytest.importorskip('onnxruntime')  # the ExportedProgram part above runs without it
    pytest.importorskip('onnxscript')
    # ONNX from the same program; the program equals eager PyTorch (checked above), so ORT is compared
    # with the program's outputs.
    program, x = torch.export.load(out), torch.randn(1, bands, h, w)
    torch.onnx.export(program, (x, ), dynamo=True, verbose=False).save(str(tmp_path / 'm.onnx'))
    with torch.no_grad():
        _, rel_err = parity(list(program.module()(x)), run_onnx(str(tmp_path / 'm.onnx'), x))
    assert rel_err <= TOL, rel_err


def test_dynamic_refused_with_the_reason(tmp_path, monkeypatch):
    """A family listed in NO_DYNAMIC (none as of torch 2.10) is refused before tracing, naming the fix."""
    monkeypatch.setitem(NO_DYNAMIC, 'ScalableViT', 'a reason')
    with pytest.raises(DynamicShapeError, match='ScalableViT cannot be exported with a dynamic H/W: a reason.*'
                                                'drop --dynamic'):
        export(backbone_config(tmp_path, 'ScalableViT'), shape=(32, 32), dynamic=True, out=str(tmp_path / 'm.onnx'))


def test_rsmamba_dynamic_export_runs_its_scan_loops_over_any_token_count(tmp_path):
    """RSMamba exported once at 32x32 (4 tokens) with dynamic H/W (the program is checked at a second size
    by export()): the in-graph scan loops (ONNX Scan) run as often as the token count needs, so at 144x160
    (90 tokens: two chunks of 64 and the padding chunk) ONNX Runtime still equals eager PyTorch (whose
    chunked scan picks another chunk length there)."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    cfg, out = backbone_config(tmp_path, 'RSMamba'), str(tmp_path / 'rsmamba.onnx')
    torch.manual_seed(0)  # the same random init in export() and below
    assert_parity(export(cfg, fmt='onnx', shape=(32, 32), dynamic=True, out=out, check=True, log=lambda *_: None),
                  sizes=2)
    torch.manual_seed(0)
    model = load_model(cfg)[0].eval()
    x = torch.randn(1, 3, 144, 160, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = list(model(x))
    assert parity(ref, run_onnx(out, x))[1] <= TOL


def test_spectralgpt_dynamic_onnx_resizes_its_position_embedding_in_the_graph(tmp_path):
    """SpectralGPT exported at its native 16x16 grid with dynamic H/W: the position-embedding resize (skipped
    eagerly at the native grid) is in the graph, so ONNX Runtime equals PyTorch at 16x16 and at another
    size (both checked by the export), and at a third, non-square one."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    cfg, out = backbone_config(tmp_path, 'SpectralGPT'), str(tmp_path / 'sgpt.onnx')
    torch.manual_seed(0)  # the same random init in export() and below
    report = export(cfg, fmt='onnx', shape=(16, 16), dynamic=True, out=out, check=True, log=lambda *_: None)
    assert_parity(report, sizes=2)
    torch.manual_seed(0)
    model = load_model(cfg)[0].eval()
    x = torch.randn(1, 6, 40, 24, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = list(model(x))
    _, rel_err = parity(ref, run_onnx(out, x))
    assert rel_err <= TOL, rel_err


def test_dynamic_shape_must_be_a_multiple_of_the_patch(tmp_path):
    with pytest.raises(ExportError, match=r'multiples of 16.*Fix: --shape 48 32'):
        export(backbone_config(tmp_path, 'ScalableViT'), shape=(40, 32), dynamic=True,
               out=str(tmp_path / 'm.onnx'))


SEG_CHILD = """
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32),
                  img_size=64,
                  window_size=0, drop_path_rate=0., init_cfg=None),
    neck=dict(in_channels=16, out_channels=8),
    decode_head=dict(in_channels=[8, 8, 8, 8], channels=8, pool_scales=(1, )),
    auxiliary_head=dict(in_channels=8, channels=8))
"""

CD_CHILD = """
model = dict(
    backbone=dict(stem_channels=8, base_channels=8, init_cfg=None),
    decode_head=dict(in_channels=[8, 16, 32, 64], channels=8, pool_scales=(1, 2)),
    auxiliary_head=dict(in_channels=32, channels=8))
"""


def test_segmentor_onnx_matches_pytorch(tmp_path):
    """ViT UPerNet (configs/seg, shrunk; global attention with relative-position bias): logits at the input
    resolution, dynamic H/W. PPM scale 1 only: larger scales are frozen at the export size in ONNX."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    cfg = write_child_config(str(tmp_path / 'seg.py'),
                             'configs/seg/scalable_vit/upernet_vit-86m_simple-fpn_4xb4-80k_loveda-512x512.py',
                             SEG_CHILD)
    report = export(cfg, fmt='onnx', shape=(64, 64), dynamic=True, out=str(tmp_path / 'seg.onnx'), check=True,
                    log=lambda *_: None)
    assert report['kind'] == 'segmentor' and report['model'] == 'EncoderDecoder(ScalableViT)'
    assert_parity(report, sizes=2)


def test_change_detector_onnx_matches_pytorch(tmp_path):
    """Siamese UPerNet (ResNet-18, shrunk): a stacked (B, 2 x 3, H, W) pair -> change logits."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    cfg = write_child_config(str(tmp_path / 'cd.py'),
                             'configs/change_det/siamese_upernet/siamese-upernet_r18_4xb8-40k_levir-cd-256.py',
                             CD_CHILD)
    report = export(cfg, fmt='onnx', shape=(32, 32), out=str(tmp_path / 'cd.onnx'), check=True,
                    log=lambda *_: None)
    assert report['model'] == 'SiameseEncoderDecoder(ResNetV1c)' and report['bands'] == 6
    assert_parity(report)


def test_rotated_single_stage_detector_onnx_matches_pytorch(tmp_path):
    """Rotated FCOS (mmrotate, ResNet-18/16 ch): the head's raw per-level outputs through ONNX Runtime; a
    two-stage detector is refused with the way out."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    cfg = 'configs/rotated_det/rotated_fcos/rotated-fcos-hbox-le90_r18-w16_fpn_1xb8-400i_dota-demo-128.py'
    report = export(cfg, fmt='onnx', shape=(64, 64), out=str(tmp_path / 'det.onnx'), check=True,
                    log=lambda *_: None)
    assert report['kind'] == 'detector' and report['model'] == 'FCOS(ResNet)'  # mmrotate's Rotated FCOS is an mmdet FCOS
    assert_parity(report)
    with pytest.raises(ExportError, match='two-stage detectors.*--backbone-only'):
        load_model('configs/rotated_det/oriented_rcnn/oriented-rcnn-le90_r50_fpn_1xb2-1x_dior-800x800.py')


def test_cli_exports_and_checks(tmp_path):
    from mmengine.runner import save_checkpoint
    cfg = backbone_config(tmp_path, 'ScalableViT')
    ckpt = str(tmp_path / 'w.pth')
    save_checkpoint({'state_dict': load_model(cfg)[0].backbone.state_dict()}, ckpt)
    out = str(tmp_path / 'vit.pt2')
    proc = run_tool(['tools/deployment/export.py', cfg, ckpt, '--format', 'exported-program', '--shape', '32', '64',
                     '--dynamic', '--out', out, '--check'], env=SINGLE_THREAD, timeout=300)
    assert osp.isfile(out)
    for size in ('32x64', '48x48'):  # the export size and a second one
        assert f'check torch.export.load vs PyTorch at {size}: max abs err' in proc.stdout, proc.stdout[-2000:]


def test_cli_errors_name_the_fix(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('export_tool', osp.join(REPO, 'tools/deployment/export.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    main = tool.main
    cfg = backbone_config(tmp_path, 'ScalableViT')
    assert main([cfg, str(tmp_path / 'missing.pth')]) == 2
    err = capsys.readouterr().err
    assert "checkpoint = '" in err and 'does not exist. Fix' in err
    no_model = tmp_path / 'no_model.py'
    no_model.write_text('train_cfg = dict(max_iters=1)\n')
    assert main([str(no_model)]) == 2
    assert 'has no `model` dict. Fix' in capsys.readouterr().err
