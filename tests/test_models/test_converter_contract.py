"""The one converter contract, swept over every public ``convert_*`` of :mod:`mmrsfm.models.converters`
(a new converter is picked up here and fails until it has a minimal official checkpoint in ``OFFICIAL``):
``convert_<family>(ckpt, **options) -> (state_dict, dropped)`` with ``dropped`` the sorted source keys
left out on purpose, and a checkpoint of another layout raising KeyError / ValueError that names the
layout expected. Then the CLIs (``tools/model_converters/<family>2mmrsfm.py``): they list what was
dropped, and turn the library's errors into a non-zero exit with the message."""
import glob
import inspect
import os.path as osp
import re
import runpy
import sys
from typing import Callable, Dict, List, Tuple

import pytest
import torch

import mmrsfm.models.converters as converters
from conftest import REPO
from mmrsfm.models.backbones.scalable_vit import ScalableViT
from mmrsfm.models.converters import summarize_keys, unwrap_state_dict
from mmrsfm.models.heads import SamMaskDecoder
from test_rs_vheat_convert import official_state as vheat_state
from test_rsmamba import TINY as RSMAMBA_TINY
from test_rsmamba import official_state_dict as rs4d_state
from test_scalable_vit_convert import mae_state_dict
from test_spectralgpt_convert import official_state as spectralgpt_state

CONVERTERS = sorted(name for name, obj in vars(converters).items()
                    if name.startswith('convert_') and inspect.isfunction(obj))
CLIS = sorted(glob.glob(osp.join(REPO, 'tools/model_converters/*2mmrsfm.py')))


def vheat_release() -> dict:
    return {'model': vheat_state(torch.Generator().manual_seed(0))}  # with its classifier


def rs_vheat_pretraining() -> dict:
    sd = vheat_state(torch.Generator().manual_seed(0), rs=True, stems=('_opt', '_sar'))
    sd = {'encoder.' + k: v for k, v in sd.items()}
    sd.update({'encoder.fuse_frequency.0.weight': torch.zeros(3), 'decoder_spa.0.weight': torch.zeros(3)})
    return {'model': sd}


def rs4d_detector() -> dict:
    sd = {'backbone.' + k: v for k, v in rs4d_state(dict(RSMAMBA_TINY), num_tokens=16).items()}
    return {'state_dict': {**sd, 'neck.fusion_conv.0.weight': torch.zeros(1)}, 'meta': {}}


def sam_official() -> dict:
    """A SAM-like ViT in the official ``sam_vit_*.pth`` layout, with bits of the neck, prompt encoder
    and decoder."""
    vit = ScalableViT(dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64), img_size=32,
                      patch_size=8, window_size=2, use_rel_pos=True, final_norm=False)
    sd = {'image_encoder.' + k.replace('.mlp.fc', '.mlp.lin'): v for k, v in vit.state_dict().items()}
    sd.update({'image_encoder.neck.0.weight': torch.zeros(8, 32, 1, 1),
               'mask_decoder.iou_token.weight': torch.zeros(1, 8),
               'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix': torch.zeros(2, 4)})
    return sd


def sam_hf() -> dict:
    """A Hugging Face ``SamModel`` state dict: a tiny decoder, its encodings, and a vision encoder key."""
    sd = {f'mask_decoder.{k}': v for k, v in SamMaskDecoder(dim=32, num_heads=4, mlp_dim=64).state_dict().items()}
    sd.update({'shared_image_embedding.positional_embedding': torch.randn(2, 16),
               'prompt_encoder.no_mask_embed.weight': torch.randn(1, 32),
               **{f'prompt_encoder.point_embed.{i}.weight': torch.randn(1, 32) for i in range(4)},
               'vision_encoder.neck.conv1.weight': torch.zeros(1)})
    return sd


#: converter -> (a word its error must name after 'expected', minimal official checkpoints of each layout)
OFFICIAL: Dict[str, Tuple[str, List[Callable[[], dict]]]] = {
    'convert_rs_vheat': ('vHeat', [vheat_release, rs_vheat_pretraining]),
    'convert_scalable_vit': ('ViT', [lambda: {'model': mae_state_dict()}]),
    'convert_spectralgpt': ('SpectralGPT', [lambda: {'model': spectralgpt_state(torch.Generator().manual_seed(0))}]),
    'convert_rs4d': ('RS4D', [rs4d_detector]),
    'convert_sam_image_encoder': ('SAM', [sam_official]),
    'convert_sam_decoder': ('SAM', [sam_hf]),
}


def family(name: str) -> str:
    """The module a converter lives in (its family): checkpoints of the same family are not foreign."""
    return getattr(converters, name).__module__.rsplit('.', 1)[-1]


def official(name: str) -> Tuple[str, List[Callable[[], dict]]]:
    assert name in OFFICIAL, f'{name}: add a minimal official checkpoint (and its layout word) to OFFICIAL'
    return OFFICIAL[name]


def cli_family(cli: str) -> str:
    return osp.basename(cli)[:-len('2mmrsfm.py')]


def test_converters_are_found_by_family_name():
    assert CONVERTERS and CLIS
    for name in CONVERTERS:  # mmrsfm/models/converters/<family>.py holds convert_<family>[_<part>]
        assert name.startswith(f'convert_{family(name)}'), name
    for cli in CLIS:  # tools/model_converters/<family>2mmrsfm.py wraps convert_<family>
        assert f'convert_{cli_family(cli)}' in CONVERTERS, cli


@pytest.mark.parametrize('name', CONVERTERS)
def test_converter_returns_state_dict_and_dropped_source_keys(name):
    convert = getattr(converters, name)
    params = list(inspect.signature(convert).parameters.values())
    assert params[0].name == 'ckpt' and all(p.default is not p.empty for p in params[1:]), 'convert_x(ckpt, **opts)'
    for make in official(name)[1]:
        ckpt = make()
        result = convert(ckpt)
        assert isinstance(result, tuple) and len(result) == 2
        state_dict, dropped = result
        assert state_dict and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items())
        assert isinstance(dropped, list) and dropped == sorted(set(dropped))
        assert dropped, f'{make.__name__}: the minimal checkpoint should hold something to drop'
        assert set(dropped) <= set(unwrap_state_dict(ckpt)), 'dropped keys are named as in the source'
        assert not set(dropped) & set(state_dict)


@pytest.mark.parametrize('name', CONVERTERS)
def test_converter_rejects_a_foreign_checkpoint_naming_the_layout_it_expects(name):
    convert, (word, _) = getattr(converters, name), official(name)
    foreign = {'empty': {}, 'random': {'model': {'conv.weight': torch.zeros(1), 'fc.bias': torch.zeros(1)}}}
    foreign.update({f'{other}/{make.__name__}': make() for other in CONVERTERS if family(other) != family(name)
                    for make in official(other)[1]})
    for label, ckpt in foreign.items():
        with pytest.raises((KeyError, ValueError)) as info:
            convert(ckpt)
        message = str(info.value.args[0])
        assert re.search(rf'expected .*{word}', message), f'{name} on {label}: {message}'


def test_summarize_keys_groups_long_lists_by_module():
    assert summarize_keys(['b.weight', 'a']) == ['a', 'b.weight']
    keys = ['cls_token'] + [f'decoder.layers.{i}.{p}' for i in range(13) for p in ('weight', 'bias', 'w', 'b')]
    assert summarize_keys(keys) == ['cls_token', 'decoder.layers.* (52 keys)']
    keys += ['decoder.norm.weight', 'decoder.norm.bias', 'neck.0.weight']
    assert summarize_keys(keys) == ['cls_token', 'decoder.layers.* (52 keys)', 'decoder.norm.* (2 keys)',
                                    'neck.0.weight']
    # leaves beside a submodule are named, as 'encoder.* (2 keys)' would also cover encoder.blocks
    keys = ['encoder.pos_embed', 'encoder.cls_token'] + [f'encoder.blocks.{i}.weight' for i in range(30)]
    assert summarize_keys(keys) == ['encoder.blocks.* (30 keys)', 'encoder.cls_token', 'encoder.pos_embed']


@pytest.mark.parametrize('cli', CLIS, ids=osp.basename)
def test_cli_lists_dropped_keys_and_exits_with_the_message(cli, tmp_path, monkeypatch, capsys):
    name = f'convert_{cli_family(cli)}'
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'out.pth')
    ckpt = official(name)[1][0]()
    torch.save(ckpt, src)
    monkeypatch.setattr(sys, 'argv', [cli, src, dst])
    runpy.run_path(cli, run_name='__main__')
    dropped = getattr(converters, name)(ckpt)[1]
    out = capsys.readouterr().out
    assert f'dropped {len(dropped)} source keys' in out and all(line in out for line in summarize_keys(dropped))
    assert torch.load(dst, weights_only=True)['meta']['dropped'] == dropped

    torch.save({'model': {'conv.weight': torch.zeros(1)}}, src)  # another layout: no traceback, the fix
    with pytest.raises(SystemExit) as info:
        runpy.run_path(cli, run_name='__main__')
    assert str(info.value.code).startswith('error: ') and 'expected ' in str(info.value.code)
    monkeypatch.setattr(sys, 'argv', [cli, str(tmp_path / 'missing.pth'), dst])
    with pytest.raises(SystemExit, match='missing.pth: no such file'):
        runpy.run_path(cli, run_name='__main__')
