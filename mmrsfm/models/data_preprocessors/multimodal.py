"""Data preprocessor for multi-modal batches (e.g. paired optical/SAR): per-modality stacking and
normalisation of ``inputs = {modality: images}``, as :class:`~mmrsfm.datasets.transforms.PackMultiModalInputs`
packs them."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmrsfm.registry import MODELS


@MODELS.register_module()
class MultiModalDataPreprocessor(BaseDataPreprocessor):
    """Stack and normalise ``inputs = {modality: [C, H, W] tensors}`` per modality.

    Args:
        mean: ``{modality: per-band means}``; modalities not named are only cast to float.
        std: ``{modality: per-band stds}``.
        bgr_to_rgb: Modalities whose 3-band images are flipped BGR -> RGB (OpenCV loads BGR).
    """

    def __init__(self, mean: Optional[Dict[str, Sequence[float]]] = None,
                 std: Optional[Dict[str, Sequence[float]]] = None, bgr_to_rgb: Sequence[str] = ('opt', )) -> None:
        super().__init__()
        mean, std = mean or {}, std or {}
        if set(mean) != set(std):
            raise ValueError(f'mean and std must name the same modalities, got {sorted(mean)} vs {sorted(std)}')
        for m in mean:
            self.register_buffer(f'mean_{m}', torch.tensor(mean[m], dtype=torch.float32).view(-1, 1, 1), False)
            self.register_buffer(f'std_{m}', torch.tensor(std[m], dtype=torch.float32).view(-1, 1, 1), False)
        self.modalities_with_stats, self.bgr_to_rgb = set(mean), set(bgr_to_rgb)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):  # list of per-sample dicts
            inputs = {m: [d[m] for d in inputs] for m in inputs[0]}
        out = {}
        for m, imgs in inputs.items():
            x = torch.stack(list(imgs)) if isinstance(imgs, (list, tuple)) else imgs
            x = x.float()
            if m in self.bgr_to_rgb and x.shape[1] == 3:
                x = x.flip(1)
            if m in self.modalities_with_stats:
                mean, std = getattr(self, f'mean_{m}'), getattr(self, f'std_{m}')
                if mean.shape[0] != x.shape[1]:
                    raise ValueError(f"modality '{m}' images have {x.shape[1]} bands but "
                                     f'data_preprocessor.mean[{m!r}] has {mean.shape[0]} values')
                x = (x - mean) / std
            out[m] = x
        return dict(inputs=out, data_samples=data.get('data_samples'))
