"""RS-vHeat self-supervised pretraining: frequency-domain hierarchical masking + multi-domain
reconstruction + cross-modal (optical/SAR) consistency (REFERENCE §2.2).

No official pretraining code exists; the paper's description is implemented as follows (every
choice below is a constructor argument):

* **Masking** (:func:`sector_masks`). The orthonormal 2-D DCT spectrum of each normalised image is
  split at a random radius ``r`` (drawn from ``split_range``, as a fraction of the maximum normalised
  frequency) into a low band (``rho < r``) and a high band. Per image one band is chosen at random
  (the *hierarchy*) and an angular sector of it, starting at a random angle, is zeroed; the sector
  covers exactly ``mask_ratio`` (drawn from ``mask_ratio``, default 20-30%) of the whole spectrum,
  or the whole band if the band is smaller. DC is never masked. The inverse DCT of the
  masked spectrum is the encoder input.
* **Encoder**: the unmodified backbone (e.g. ``HeatConductionNet``, one stem per modality).
* **Spatial reconstruction**: stage-3 and stage-4 features are fused (stage 4 upsampled to the stage-3
  grid, concatenated, 1x1 conv) and decoded per modality to pixels at the input size (1x1 conv +
  pixel shuffle by the stage-3 stride); ``L_spa = L1(recon, image)``.
* **Frequency reconstruction**: ``L_fre = L1(DCT(recon), DCT(image))``.
* **Cross-modal consistency** (paired batches only): ``L_con = 1 - cos(p(f_opt), p(f_sar))`` of the
  projected, pooled stage-4 features of the two masked views of the same scene.
* ``loss = w_spa L_spa + w_fre L_fre + w_con L_con``, equal weights by default.
"""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor, BaseModel
from torch import nn

from mmrsfm.registry import MODELS
from ..layers import dct_2d


def sector_masks(batch: int, h: int, w: int, mask_ratio: Tuple[float, float],
                 split_range: Tuple[float, float], generator: Optional[torch.Generator] = None,
                 device=None) -> torch.Tensor:
    """(B, 1, H, W) binary masks (1 = frequency removed); see the module docstring."""
    fy = torch.arange(h, device=device, dtype=torch.float32)[:, None] / h
    fx = torch.arange(w, device=device, dtype=torch.float32)[None, :] / w
    rho = torch.sqrt(fy**2 + fx**2) / math.sqrt(2)  # 0 at DC, < 1 at the highest frequency
    theta = torch.atan2(fy.expand(h, w), fx.expand(h, w))  # [0, pi/2]

    def uniform(lo, hi):
        return lo + (hi - lo) * torch.rand(batch, 1, 1, generator=generator).to(device)

    ratio, cut = uniform(*mask_ratio), uniform(*split_range)
    low = torch.rand(batch, 1, 1, generator=generator).to(device) < 0.5
    band = torch.where(low, rho < cut, rho >= cut)  # (B, H, W)
    band[:, 0, 0] = False  # keep the mean
    # A sector of the band = a contiguous run of its frequencies ordered by angle. Choosing the run
    # by angular rank (not by angle width) makes its area exactly the requested fraction.
    flat_theta = torch.where(band, theta, torch.full_like(theta, float('inf'))).flatten(1)
    rank = flat_theta.argsort(1).argsort(1).view(batch, h, w)
    n_band = band.flatten(1).sum(1).view(batch, 1, 1)
    n_mask = torch.minimum((ratio * h * w).round().long(), n_band)
    start = (uniform(0, 1) * (n_band - n_mask + 1).float()).floor().long().clamp(max=n_band - n_mask)
    sector = (rank >= start) & (rank < start + n_mask)
    return (band & sector).unsqueeze(1).float()


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


@MODELS.register_module()
class FrequencyMaskPretrainer(BaseModel):
    """RS-vHeat pretraining algorithm wrapping an unmodified multi-stage backbone.

    Args:
        backbone: Backbone config; must return (at least) its last two stages, e.g.
            ``HeatConductionNet`` with ``in_channels=dict(opt=3, sar=1)`` and ``out_indices=(2, 3)``.
        in_channels: ``{modality: bands}`` reconstructed by the decoders.
        mask_ratio: Range of the masked spectrum fraction. Defaults to (0.2, 0.3).
        split_range: Range of the low/high split radius. Defaults to (0.1, 0.5).
        decoder_channels: Channels of the fused stage-3/4 map. Defaults to 256.
        loss_weights: ``dict(spatial=, frequency=, contrastive=)``. Defaults to all 1.
        proj_dim: Projection size for the cross-modal term. Defaults to 256.
    """

    def __init__(self,
                 backbone: dict,
                 in_channels: Dict[str, int],
                 mask_ratio: Tuple[float, float] = (0.2, 0.3),
                 split_range: Tuple[float, float] = (0.1, 0.5),
                 decoder_channels: int = 256,
                 loss_weights: Optional[Dict[str, float]] = None,
                 proj_dim: int = 256,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmrsfm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        dims = [self.backbone.dims[i] for i in self.backbone.out_indices[-2:]]
        self.stride = 4 * 2**self.backbone.out_indices[-2]
        self.in_channels = dict(in_channels)
        self.mask_ratio, self.split_range = tuple(mask_ratio), tuple(split_range)
        self.loss_weights = {**dict(spatial=1.0, frequency=1.0, contrastive=1.0), **(loss_weights or {})}
        self.fuse = nn.Sequential(nn.Conv2d(sum(dims), decoder_channels, 1), nn.GELU())
        self.decoders = nn.ModuleDict(
            {m: nn.Conv2d(decoder_channels, c * self.stride**2, 1) for m, c in self.in_channels.items()})
        self.proj = nn.Linear(dims[-1], proj_dim)

    def mask(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(masked image, its full spectrum) for a normalised (B, C, H, W) batch."""
        spectrum = dct_2d(x.float())
        masks = sector_masks(x.shape[0], x.shape[2], x.shape[3], self.mask_ratio, self.split_range, device=x.device)
        return dct_2d(spectrum * (1 - masks), inverse=True).to(x.dtype), spectrum

    def reconstruct(self, x: torch.Tensor, modality: str) -> Tuple[torch.Tensor, torch.Tensor]:
        """(pixel reconstruction (B, C, H, W), pooled stage-4 features) for one modality's batch."""
        f3, f4 = self.backbone(x, modality=modality)[-2:]
        f4_up = F.interpolate(f4, size=f3.shape[2:], mode='bilinear', align_corners=False)
        fused = self.fuse(torch.cat([f3, f4_up], dim=1))
        recon = F.pixel_shuffle(self.decoders[modality](fused), self.stride)
        return recon[..., :x.shape[2], :x.shape[3]], f4.mean((2, 3))

    def loss(self, inputs: Dict[str, torch.Tensor], data_samples=None) -> Dict[str, torch.Tensor]:
        unknown = set(inputs) - set(self.in_channels)
        if unknown:
            raise KeyError(f'batch has modalities {sorted(unknown)} without a decoder; in_channels '
                           f'names {sorted(self.in_channels)}')
        spa, fre, pooled = [], [], {}
        for m, x in inputs.items():
            masked, spectrum = self.mask(x)
            recon, pooled[m] = self.reconstruct(masked, m)
            spa.append(F.l1_loss(recon, x))
            fre.append(F.l1_loss(dct_2d(recon.float()), spectrum))
        w = self.loss_weights
        losses = dict(loss_spatial=w['spatial'] * torch.stack(spa).mean(),
                      loss_frequency=w['frequency'] * torch.stack(fre).mean())
        if len(pooled) >= 2:
            a, b = (self.proj(pooled[m]) for m in list(pooled)[:2])
            losses['loss_contrastive'] = w['contrastive'] * (1 - F.cosine_similarity(a, b, dim=-1)).mean()
        return losses

    def forward(self, inputs: Dict[str, torch.Tensor], data_samples=None, mode: str = 'loss'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return {m: self.backbone(x, modality=m) for m, x in inputs.items()}
        if mode == 'predict':
            return {m: self.reconstruct(self.mask(x)[0], m)[0] for m, x in inputs.items()}
        raise ValueError(f"mode must be 'loss', 'tensor' or 'predict', got {mode!r}")
