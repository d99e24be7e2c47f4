"""RS-vHeat self-supervised pretraining: frequency-domain hierarchical masking + multi-domain
reconstruction + cross-modal (optical/SAR) consistency, as described in "RS-vHeat: Heat Conduction Guided
Efficient Remote Sensing Foundation Model" (arXiv 2411.17984, pretraining section).

No official pretraining code exists; the paper's description is implemented as follows (every
choice below is a constructor argument):

* **Masking** (:func:`sector_masks`). The orthonormal 2-D DCT spectrum of each normalised image is
  split at a random radius ``r`` (drawn from ``split_range``, as a fraction of the maximum normalised
  frequency) into a low band (``rho < r``) and a high band. Per image one band is chosen at random
  (the *hierarchy*) and an angular sector of it, starting at a random angle, is zeroed; the sector
  covers exactly ``mask_ratio`` (drawn from ``mask_ratio``, default 20-30%) of the whole spectrum,
  or the whole band if the band is smaller. DC is never masked. The inverse DCT of the
  masked spectrum is the encoder input.
* **Encoder**: the unmodified backbone; any backbone whose ``forward`` returns a sequence of at least
  two (B, C, H', W') maps works (RS-vHeat: ``RSvHeat`` with one stem per modality and
  ``out_indices=(2, 3)``). Their channels and strides are read once at build time from a forward of
  a zero image; ``modality=`` is passed only to backbones whose ``forward`` takes it.
* **Spatial reconstruction**: the last two outputs (RS-vHeat's stages 3 and 4) are fused (the last
  upsampled to the grid of the other, concatenated, 1x1 conv to ``decoder_embed_dims``) and decoded
  per modality to pixels at the input size (1x1 conv + pixel shuffle by the stride of the finer
  map); ``L_spa = L1(recon, image)``.
* **Frequency reconstruction**: ``L_fre = L1(DCT(recon), DCT(image))``.
* **Cross-modal consistency** (paired batches only): ``L_con = 1 - cos(p(f_opt), p(f_sar))`` of the
  projected, pooled last-output features of the two masked views of the same scene.
* ``loss = w_spa L_spa + w_fre L_fre + w_con L_con``, equal weights by default.
"""
import inspect
import math
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement
from torch import nn

from mmrsfm.registry import MODELS
from ..layers import dct_2d
from .base_pretrainer import BasePretrainer


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
class FrequencyMaskPretrainer(BasePretrainer):
    """RS-vHeat pretraining algorithm wrapping an unmodified multi-scale backbone (see module docs).

    Args:
        backbone: Backbone config. Its ``forward`` must return a sequence of at least two NCHW maps,
            of which the last two are decoded: e.g. ``RSvHeat`` with ``in_channels=dict(opt=3, sar=1)``
            and ``out_indices=(2, 3)``, or ``mmdet.ResNet`` with ``out_indices=(2, 3)``. It gets
            ``modality=`` when its ``forward`` takes that argument (per-modality stems); otherwise
            it has a single stem and every modality must have the same band count.
        in_channels: ``{modality: bands}`` reconstructed by the decoders.
        mask_ratio: Range of the masked spectrum fraction. Defaults to (0.2, 0.3).
        split_range: Range of the low/high split radius. Defaults to (0.1, 0.5).
        decoder_embed_dims: Channels of the fused map of the last two outputs. Defaults to 256.
        loss_weights: ``dict(spatial=, frequency=, contrastive=)``. Defaults to all 1.
        proj_dim: Projection size for the cross-modal term. Defaults to 256.
        data_preprocessor: Defaults to ``mmrsfm.MultiModalDataPreprocessor`` (no normalisation).
        init_cfg: mmengine init config. Defaults to None.
        decoder_channels: Deprecated (v0.1) name of ``decoder_embed_dims``; removed in v0.3.
    """

    def __init__(self,
                 backbone: dict,
                 in_channels: Dict[str, int],
                 mask_ratio: Tuple[float, float] = (0.2, 0.3),
                 split_range: Tuple[float, float] = (0.1, 0.5),
                 decoder_embed_dims: int = 256,
                 loss_weights: Optional[Dict[str, float]] = None,
                 proj_dim: int = 256,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None,
                 decoder_channels: Optional[int] = None) -> None:
        if decoder_channels is not None:
            warnings.warn('FrequencyMaskPretrainer(decoder_channels=...) is deprecated; use decoder_embed_dims '
                          '(the decoder width of every pretrainer; removed in v0.3)', FutureWarning, stacklevel=2)
            decoder_embed_dims = decoder_channels
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmrsfm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not in_channels:
            raise ValueError('in_channels must name at least one modality, e.g. dict(opt=3)')
        self.backbone = MODELS.build(backbone)
        self.in_channels = dict(in_channels)
        self.takes_modality = self._forward_takes_modality(self.backbone)
        if not self.takes_modality and len(set(self.in_channels.values())) > 1:
            raise ValueError(f'{type(self.backbone).__name__} has a single stem (its forward takes no modality=) '
                             f'but in_channels={self.in_channels} has different band counts; use a backbone '
                             f'with one stem per modality, e.g. RSvHeat(in_channels={self.in_channels})')
        channels, self.stride = self._probe_backbone()
        self.mask_ratio, self.split_range = tuple(mask_ratio), tuple(split_range)
        self.loss_weights = {**dict(spatial=1.0, frequency=1.0, contrastive=1.0), **(loss_weights or {})}
        # Module names are those of v0.1 checkpoints, which load unchanged.
        self.fuse = nn.Sequential(nn.Conv2d(sum(channels), decoder_embed_dims, 1), nn.GELU())
        self.decoders = nn.ModuleDict(
            {m: nn.Conv2d(decoder_embed_dims, c * self.stride**2, 1) for m, c in self.in_channels.items()})
        self.proj = nn.Linear(channels[-1], proj_dim)

    @staticmethod
    def _forward_takes_modality(backbone: nn.Module) -> bool:
        try:
            return 'modality' in inspect.signature(backbone.forward).parameters
        except (TypeError, ValueError):  # no introspectable signature (e.g. a builtin)
            return False

    def _backbone(self, x: torch.Tensor, modality: str) -> Sequence[torch.Tensor]:
        return self.backbone(x, modality=modality) if self.takes_modality else self.backbone(x)

    @torch.no_grad()
    def _probe_backbone(self, size: int = 64) -> Tuple[Tuple[int, int], int]:
        """Channels of the backbone's last two outputs and the stride of the first, from one forward of
        a zero image. Reading them off the outputs (not off attributes such as ``out_channels``) is
        what lets any backbone work; eval mode, so that no running statistics or random state change."""
        modality, bands = next(iter(self.in_channels.items()))
        param = next(self.backbone.parameters(), None)
        x = torch.zeros(1, bands, size, size, device=param.device if param is not None else None)
        training = self.backbone.training
        self.backbone.eval()
        try:
            outs = self._backbone(x, modality)
        finally:
            self.backbone.train(training)
        name = type(self.backbone).__name__
        if (not isinstance(outs, (list, tuple)) or len(outs) < 2
                or any(not isinstance(o, torch.Tensor) or o.ndim != 4 for o in outs[-2:])):
            raise TypeError(f'FrequencyMaskPretrainer needs a backbone returning at least two (B, C, H, W) maps '
                            f'(e.g. out_indices=(2, 3)); {name} returned '
                            f'{type(outs).__name__} of {len(outs) if isinstance(outs, (list, tuple)) else 1}')
        finer, coarser = outs[-2:]
        grid = tuple(finer.shape[2:])
        if grid[0] != grid[1] or size % grid[0]:
            raise ValueError(f'cannot read an integer output stride off {name}: a {size}x{size} input gave '
                             f'{tuple(finer.shape)} and {tuple(coarser.shape)} as its last two outputs')
        return (finer.shape[1], coarser.shape[1]), size // grid[0]

    def _modality(self, modality: Optional[str]) -> str:
        if modality is None and len(self.in_channels) == 1:
            return next(iter(self.in_channels))
        if modality not in self.in_channels:
            raise KeyError(f'modality {modality!r} has no decoder; in_channels names {sorted(self.in_channels)}')
        return modality

    def _inputs(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
        """``{modality: (B, C, H, W)}``; a plain tensor is the single modality's batch."""
        if isinstance(inputs, torch.Tensor):
            if len(self.in_channels) != 1:
                raise TypeError(f'FrequencyMaskPretrainer with modalities {sorted(self.in_channels)} expects '
                                f'inputs as a dict {{modality: (B, C, H, W)}} (MultiModalDataPreprocessor)')
            return {next(iter(self.in_channels)): inputs}
        unknown = set(inputs) - set(self.in_channels)
        if unknown:
            raise KeyError(f'batch has modalities {sorted(unknown)} without a decoder; in_channels '
                           f'names {sorted(self.in_channels)}')
        return inputs

    def forward_encoder(self, imgs: torch.Tensor, modality: Optional[str] = None,
                        generator: Optional[torch.Generator] = None
                        ) -> Tuple[Tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        """Mask the spectrum of a normalised (B, C, H, W) batch of one modality and encode it.

        Args:
            imgs: (B, C, H, W) images of ``modality``.
            modality: Key in ``in_channels``; may be omitted with a single modality.
            generator: Random generator of the masks; None uses the global one.

        Returns:
            ``((finer, coarser), masks)``: the backbone's last two outputs and the (B, 1, H, W) DCT
            masks (1 = frequency removed).
        """
        modality = self._modality(modality)
        spectrum = dct_2d(imgs.float())
        masks = sector_masks(imgs.shape[0], imgs.shape[2], imgs.shape[3], self.mask_ratio, self.split_range,
                             generator=generator, device=imgs.device)
        masked = dct_2d(spectrum * (1 - masks), inverse=True).to(imgs.dtype)
        finer, coarser = self._backbone(masked, modality)[-2:]
        return (finer, coarser), masks

    def forward_decoder(self, latent: Tuple[torch.Tensor, torch.Tensor], modality: Optional[str] = None,
                        size: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """The last two backbone outputs -> (B, C, H, W) pixel reconstruction of ``modality``, cropped to
        ``size`` (the input's (H, W); default: the whole ``stride``-times upsampled map)."""
        finer, coarser = latent
        coarser = F.interpolate(coarser, size=finer.shape[2:], mode='bilinear', align_corners=False)
        fused = self.fuse(torch.cat([finer, coarser], dim=1))
        recon = F.pixel_shuffle(self.decoders[self._modality(modality)](fused), self.stride)
        return recon if size is None else recon[..., :size[0], :size[1]]

    def forward_loss(self, imgs: Dict[str, torch.Tensor], pred: Dict[str, torch.Tensor],
                     latent: Dict[str, Tuple[torch.Tensor, torch.Tensor]]) -> Dict[str, torch.Tensor]:
        """Spatial and frequency L1 of ``pred`` against ``imgs`` (averaged over modalities), and the
        cross-modal term on the first two modalities' coarsest outputs in ``latent``.

        Args:
            imgs: ``{modality: (B, C, H, W)}`` unmasked images.
            pred: ``{modality: (B, C, H, W)}`` reconstructions.
            latent: ``{modality: (finer, coarser)}`` encoder outputs.
        """
        w = self.loss_weights
        spa = [F.l1_loss(pred[m], x) for m, x in imgs.items()]
        fre = [F.l1_loss(dct_2d(pred[m].float()), dct_2d(x.float())) for m, x in imgs.items()]
        losses = dict(loss_spatial=w['spatial'] * torch.stack(spa).mean(),
                      loss_frequency=w['frequency'] * torch.stack(fre).mean())
        if len(imgs) >= 2:
            a, b = (self.proj(latent[m][-1].mean((2, 3))) for m in list(imgs)[:2])
            losses['loss_contrastive'] = w['contrastive'] * (1 - F.cosine_similarity(a, b, dim=-1)).mean()
        return losses

    def _pass(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]]):
        """(images, latents, masks, reconstructions), each ``{modality: ...}``, of one masked pass."""
        imgs, latents, masks, preds = self._inputs(inputs), {}, {}, {}
        for m, x in imgs.items():  # one modality after the other: the random draws keep their v0.1 order
            latents[m], masks[m] = self.forward_encoder(x, m)
            preds[m] = self.forward_decoder(latents[m], m, x.shape[2:])
        return imgs, latents, masks, preds

    def loss(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]], data_samples=None) -> Dict[str, torch.Tensor]:
        imgs, latents, _, preds = self._pass(inputs)
        return self.forward_loss(imgs, preds, latents)

    def predict(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]],
                data_samples=None) -> List[BaseDataElement]:
        """:meth:`BasePretrainer.pack_predictions` elements, modality after modality: ``pred`` the
        reconstruction, ``target`` the (normalised) image, ``mask`` the (1, H, W) DCT mask
        (``mask_domain='dct'``)."""
        imgs, _, masks, preds = self._pass(inputs)
        return [out for m, x in imgs.items() for out in self.pack_predictions(
            preds[m], x, masks[m], mask_domain='dct', modality=m, data_samples=data_samples)]

    def _forward(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]], data_samples=None
                 ) -> Dict[str, torch.Tensor]:
        """``{modality: (B, C, H, W) reconstruction}`` of one masked pass."""
        return self._pass(inputs)[3]
