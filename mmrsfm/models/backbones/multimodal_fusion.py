"""RS-vHeat on co-registered modalities stacked as one input (e.g. optical 4 + SAR 1 = 5 bands).

The RS-vHeat paper evaluates optical + SAR segmentation (WHU-OPT-SAR) but does not publish how it fuses
the two; this is our choice, documented here. Fusion happens right after the per-modality stems
(stride 4), before the shared heat-conduction stages:

    input (B, 5, H, W) --split by in_channels order--> opt (B, 4, H, W), sar (B, 1, H, W)
    patch_embed_opt(opt), patch_embed_sar(sar)   one ConvStem each (RSvHeat's two-stem layout)
    fusion: 'mean' | 'concat' | 'gated'  ->  (B, C, H/4, W/4)
    layers.* (RSvHeat.forward_stages)            shared stages, unchanged

Why there: the stems are where the modalities differ (band count, speckle vs. reflectance); the paired
pretraining (``configs/pretrain/rs_vheat/freqmask_..._optsar``) already trains one stem per modality in
front of shared stages, so every pretrained weight keeps its role, and the stages run once (fusing
later would run them per modality, doubling the cost). Every fusion starts as the mean of the stem
outputs (what the pretrained stages have seen from either stem alone, at the same scale):

* ``'mean'``: the mean of the stem maps; no parameters.
* ``'concat'``: concatenation + 1x1 conv back to C, initialised to the mean (learns cross-modal mixing
  per channel).
* ``'gated'``: per-pixel softmax weights over modalities from a 1x1 conv on the concatenation, zero
  initialised (= the mean); learns where to trust which modality (e.g. SAR under clouds).

State dict: exactly RSvHeat's with ``in_channels`` = the used modalities (``patch_embed_opt.*``,
``patch_embed_sar.*``, ``layers.*``, ...) plus ``fusion.*`` for the learned fusions, so two-stem
checkpoints load through ``init_cfg`` (``prefix='backbone.'`` for a whole-model checkpoint).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import nn

from mmrsfm.registry import MODELS
from ..utils.layerwise import freeze
from .rs_vheat import RSvHeat

FUSIONS = ('mean', 'concat', 'gated')


class StemFusion(nn.Module):
    """Fuse ``n`` stem maps (B, C, H, W) into one; see the module docstring for the modes."""

    def __init__(self, mode: str, num_inputs: int, dim: int) -> None:
        super().__init__()
        if mode not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {mode!r}")
        self.mode, self.num_inputs = mode, num_inputs
        if mode == 'concat':
            self.proj = nn.Conv2d(num_inputs * dim, dim, 1)
        elif mode == 'gated':
            self.gate = nn.Conv2d(num_inputs * dim, num_inputs, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Start as the mean of the inputs (see the module docstring)."""
        if self.mode == 'concat':
            dim = self.proj.out_channels
            eye = torch.eye(dim).repeat(1, self.num_inputs) / self.num_inputs
            with torch.no_grad():
                self.proj.weight.copy_(eye[..., None, None])
                self.proj.bias.zero_()
        elif self.mode == 'gated':
            nn.init.zeros_(self.gate.weight)
            nn.init.zeros_(self.gate.bias)

    def forward(self, maps: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(maps) == 1:
            return maps[0]
        if self.mode == 'mean':
            return torch.stack(list(maps)).mean(0)
        cat = torch.cat(list(maps), dim=1)
        if self.mode == 'concat':
            return self.proj(cat)
        weights = self.gate(cat).softmax(dim=1)  # (B, n, H, W)
        return sum(weights[:, i:i + 1] * m for i, m in enumerate(maps))


@MODELS.register_module()
class MultiModalRSvHeat(RSvHeat):
    """:class:`RSvHeat` on a stacked multi-modal input: per-modality stems, a fusion, shared stages.

    Args:
        in_channels: ``{modality: bands}`` of the input, in stacking order (the input has
            ``sum(bands)`` channels: the first ``in_channels[m0]`` are ``m0``, ...). Defaults to
            ``dict(opt=4, sar=1)`` (as ``mmrsfm.LoadStackedModalities`` stacks WHU-OPT-SAR).
        modalities: Modalities to use (a subset of ``in_channels``, for single-modality ablations on the
            same data: ``('opt',)``); the others' bands are ignored and get no stem. Defaults to all.
        fusion: ``'mean'``, ``'concat'`` or ``'gated'`` (see the module docstring); unused with one
            modality. Defaults to 'concat'.
        **kwargs: :class:`RSvHeat` arguments (``arch``, ``img_size``, ``out_indices``, ``init_cfg``, ...).
    """

    def __init__(self, in_channels: Optional[Dict[str, int]] = None, modalities: Optional[Sequence[str]] = None,
                 fusion: str = 'concat', **kwargs) -> None:
        if in_channels is None:
            in_channels = dict(opt=4, sar=1)
        if not isinstance(in_channels, dict) or not in_channels:
            raise ValueError(f'MultiModalRSvHeat: in_channels must be a dict {{modality: bands}} in input order, '
                             f'got {in_channels!r}')
        layout = dict(in_channels)
        used = tuple(layout) if modalities is None else tuple(modalities)
        unknown = [m for m in used if m not in layout]
        if unknown or not used or len(set(used)) != len(used):
            raise ValueError(f'MultiModalRSvHeat: modalities {used} must be distinct names from in_channels '
                             f'{list(layout)}')
        if fusion not in FUSIONS:
            raise ValueError(f"MultiModalRSvHeat: fusion must be one of {FUSIONS}, got {fusion!r}")
        self.input_layout = layout
        self.used_modalities = tuple(m for m in layout if m in used)  # input order
        self.fusion_mode = fusion
        super().__init__(in_channels={m: layout[m] for m in self.used_modalities}, **kwargs)
        # Its conv weights are set in the constructor (the mean); RSvHeat.init_weights re-initialises only
        # Linear layers and embeddings, and a checkpoint holding ``fusion.*`` overrides them.
        self.fusion = StemFusion(fusion, len(self.used_modalities), self.embed_dims) \
            if len(self.used_modalities) > 1 and fusion != 'mean' else None
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        super()._freeze_stages()
        if self.frozen_stages >= 0 and getattr(self, 'fusion', None) is not None:
            freeze(self.fusion)  # part of the stem

    @property
    def input_bands(self) -> Tuple[int, ...]:
        """Band count of the stacked input (all of ``in_channels``, used or not)."""
        return (sum(self.input_layout.values()), )

    def split_input(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{modality: (B, bands, H, W)}`` of the used modalities, by the ``in_channels`` layout."""
        total = sum(self.input_layout.values())
        if x.shape[1] != total:
            raise ValueError(f'MultiModalRSvHeat expects {total} input bands ({self.input_layout}, stacked in this '
                             f'order), got {x.shape[1]}. Fix: load with LoadStackedModalities(bands=...) matching '
                             f'in_channels, and one mean/std per band in the data_preprocessor.')
        parts, start = {}, 0
        for name, bands in self.input_layout.items():
            if name in self.used_modalities:
                parts[name] = x[:, start:start + bands]
            start += bands
        return parts

    def forward(self, x: torch.Tensor, modality: Optional[str] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, sum(in_channels), H, W) stacked modalities. Returns the ``out_indices`` stage maps.

        ``modality`` is not used (every used modality runs); it keeps RSvHeat's signature. The stems run
        whole (no row strips: ``low_memory_elems`` applies only to plain RSvHeat).
        """
        maps = [self.stem(name)(part.contiguous(memory_format=torch.channels_last))
                for name, part in self.split_input(x).items()]
        fused = self.fusion(maps) if self.fusion is not None else (
            maps[0] if len(maps) == 1 else torch.stack(maps).mean(0))
        return self.forward_stages(fused.permute(0, 2, 3, 1).contiguous())

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """As :meth:`RSvHeat.get_layer_depth`; the fusion is part of the stem (layer 0)."""
        if param_name.startswith(prefix) and param_name[len(prefix):].startswith('fusion.'):
            return 0, sum(self.depths) + 2
        return super().get_layer_depth(param_name, prefix)
