"""Siamese encoder-decoder for change detection on stacked pairs (2C, H, W) = [A; B]."""
from typing import List, Optional, Sequence

import torch
from mmseg.models.segmentors import EncoderDecoder
from torch import nn

from mmrsfm.registry import MODELS


@MODELS.register_module()
class SiameseEncoderDecoder(EncoderDecoder):
    """mmseg ``EncoderDecoder`` whose encoder sees the two dates separately, with shared weights.

    ``extract_feat`` splits the (B, 2C, H, W) input into the dates, runs backbone (and neck) once on
    the (2B, C, H, W) batch of both, fuses each scale with ``fusion`` (e.g. ``|fA - fB|``) and hands
    the fused maps to any mmseg decode / auxiliary head. Everything else is mmseg's: losses, ``whole``
    and ``slide`` inference (``test_cfg=dict(mode='slide', crop_size=..., stride=...)`` crops A and B
    together since they are one tensor), resizing to the original shape.

    Any backbone returning a tuple of NCHW maps works (``mmseg.ResNetV1c``,
    ``mmrsfm.RSvHeat``, ...), with ``in_channels`` = bands of one date. The decode head's
    ``in_channels`` are the fused channels: per-date channels x 1 (``'diff'``), x 2 (``'concat'``) or
    x 3 (``'both'``), unless the fusion projects them; a mismatch is reported on the first batch.

    Args:
        backbone: Backbone config, applied to each date with shared weights.
        decode_head: Decode head config (``num_classes=2`` for binary change).
        fusion: Fusion config. Defaults to ``dict(type='mmrsfm.BiTemporalFusion', mode='diff')``.
        neck: Neck applied to each date's backbone features before fusion. Defaults to None.
        auxiliary_head: Auxiliary head config(s), on the fused features. Defaults to None.
        train_cfg: mmseg training config. Defaults to None.
        test_cfg: mmseg test config (``mode='whole'`` or ``'slide'``). Defaults to None.
        data_preprocessor: Defaults to ``dict(type='mmrsfm.BiTemporalDataPreprocessor')``.
        init_cfg: Initialisation config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 fusion: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 auxiliary_head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmrsfm.BiTemporalDataPreprocessor')
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck, auxiliary_head=auxiliary_head,
                         train_cfg=train_cfg, test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.fusion = MODELS.build(fusion or dict(type='mmrsfm.BiTemporalFusion', mode='diff'))
        self._heads_checked = False

    def extract_feat(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        """(B, 2C, H, W) stacked pair -> fused multi-scale features for the heads."""
        if inputs.shape[1] % 2:
            raise ValueError(f'SiameseEncoderDecoder expects the two dates stacked on channels (2C), got '
                             f'{inputs.shape[1]} channels')
        bands = inputs.shape[1] // 2
        both = torch.cat([inputs[:, :bands], inputs[:, bands:]], dim=0)  # (2B, C, H, W): one shared pass
        feats = self.backbone(both)
        if self.with_neck:
            feats = self.neck(feats)
        pairs = [f.chunk(2, dim=0) for f in feats]  # per scale: ((B, C_i, h, w) date A, date B)
        fused = self.fusion([a for a, _ in pairs], [b for _, b in pairs])
        if not self._heads_checked:
            self._check_head_channels(fused)
            self._heads_checked = True
        return list(fused)

    def _check_head_channels(self, fused: Sequence[torch.Tensor]) -> None:
        """Name the config field to change when a head's in_channels disagree with the fused maps."""
        heads = [('decode_head', self.decode_head)]
        if self.with_auxiliary_head:
            aux = self.auxiliary_head
            heads += [(f'auxiliary_head[{i}]', h) for i, h in enumerate(aux)] if isinstance(aux, nn.ModuleList) \
                else [('auxiliary_head', aux)]
        have = [f.shape[1] for f in fused]
        for name, head in heads:
            index, expected = getattr(head, 'in_index', None), getattr(head, 'in_channels', None)
            if index is None or expected is None:
                continue  # not an mmseg BaseDecodeHead: nothing declared to compare with
            indices = list(index) if isinstance(index, (list, tuple)) else [index]
            if max(indices) >= len(have) or min(indices) < -len(have):
                raise ValueError(f'model.{name}.in_index={index} but the fused features have {len(have)} scales')
            got = [have[i] for i in indices]
            if getattr(head, 'input_transform', None) == 'resize_concat':
                got = [sum(got)]
            want = list(expected) if isinstance(expected, (list, tuple)) else [expected]
            if got != want:
                shown = got if isinstance(expected, (list, tuple)) else got[0]
                raise ValueError(
                    f'model.{name}.in_channels={expected} but the fused features ({self.fusion!r}) have {shown} '
                    f'channels at in_index={index}. Fix: set model.{name}.in_channels={shown}.')
