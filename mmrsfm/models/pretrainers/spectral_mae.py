"""SpectralGPT pretraining: a masked autoencoder on 3-D spectral tokens with a multi-target loss.

Written from the paper (Hong et al., "SpectralGPT: Spectral Remote Sensing Foundation Model", IEEE TPAMI
2024, arXiv 2311.07113) and a reading of the official ``models_mae_spectral.py``
(``danfenghong/IEEE_TPAMI_SpectralGPT``).

* The encoder is an unmodified :class:`~mmrsfm.models.backbones.SpectralGPT`; 90% of its 3-D tokens
  (spatial x spectral jointly) are dropped per sample (MAE random masking,
  :func:`~mmrsfm.models.utils.masking.random_masking`). It keeps ``round(L * (1 - ratio))`` tokens where
  the official code keeps ``int(...)``: the same 102 of 1024 at 128², 58 instead of 57 of 576 at 96².
* Decoder (module names of the official checkpoints, so ``SpectralGPT.pth`` loads into it):
  ``decoder_embed`` Linear(C -> 512), ``mask_token``, separate ``decoder_pos_embed_spatial`` /
  ``decoder_pos_embed_temporal``, 4 ``decoder_blocks`` (16 heads), ``decoder_norm`` and
  ``decoder_pred`` Linear(512 -> u * p * p) (192 at u = 3, p = 8), predicting each token's pixels in
  (band, row, column) order.
* Loss (official ``forward_loss``, same name here), with ``target``/``pred`` the (B, t * h * w, u * p * p) patches:

  - ``loss_masked`` = mean over masked tokens of the per-token MSE (``mean_j (pred - target)^2``);
  - ``loss_spectral_sum`` = MSE between ``pred`` and ``target`` each *summed over the t spectral
    groups* at every spatial position, averaged over all positions and pixels (masked or not);
  - total = ``loss_masked + spectral_sum_weight * loss_spectral_sum`` (official weights 1 and 1).

  ``norm_pix_loss`` normalises the target of ``loss_masked`` only, as the official code (which
  computes the summed target before normalising; off by default and in all official runs).

Progressive training between image sizes (official: fMoW-Sentinel at 96², then BigEarthNet at
128²). Position embeddings here are *interpolated*, never discarded: the encoder's and the
decoder's are resized bicubically (spatial) / linearly (spectral) whenever a checkpoint of another
size is loaded, and at run time whenever the input grid differs. So stage 2 is a config with
``model.backbone.img_size=128`` and ``load_from='<stage-1 checkpoint>'`` (weights only; do not
``resume``, whose optimizer state has the old shapes). The official ``--resume_different_size``
instead deletes ``pos_embed_spatial`` / ``decoder_pos_embed_spatial`` and restarts them from noise.
"""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from mmengine.structures import BaseDataElement
from torch import nn

from mmrsfm.registry import MODELS
from ..backbones.spectralgpt import SpectralBlock, resize_sep_pos_embed_on_load, sep_pos_embed
from ..utils.band_norm import minmax_per_band
from ..utils.masking import normalize_patches, random_masking, unshuffle
from .base_pretrainer import BasePretrainer


@MODELS.register_module()
class SpectralMAE(BasePretrainer):
    """SpectralGPT masked-autoencoder pretrainer (3-D random masking + multi-target reconstruction).

    Args:
        backbone: :class:`~mmrsfm.models.backbones.SpectralGPT` config. Its dense-output options are
            overridden (``out_type='featmap'``, ``spectral_fusion='mean'``, ``final_norm=True``):
            the pretrainer reads its tokens, and the final norm is part of the MAE encoder.
        mask_ratio: Share of the 3-D tokens dropped per sample (the official runs use 0.9).
            Defaults to 0.9.
        decoder_embed_dims: Decoder width. Defaults to 512.
        decoder_depth: Decoder blocks. Defaults to 4.
        decoder_num_heads: Decoder heads. Defaults to 16.
        decoder_feedforward_channels: Decoder MLP hidden width. Defaults to 4 * ``decoder_embed_dims``.
        spectral_sum_weight: Weight of ``loss_spectral_sum``. Defaults to 1.0 (official).
        norm_pix_loss: Normalise each target patch (mean/std) for ``loss_masked``. Defaults to False.
        minmax_norm: Rescale each image's bands to [0, 1] by their own min and max (the official
            pretraining normalisation) before masking; leave False when the data preprocessor does
            it already. Defaults to False.
        data_preprocessor: Batches ``inputs`` (a (B, bands, H, W) tensor or a list of
            (bands, H, W) tensors, which are stacked). Defaults to None (mmengine's
            ``BaseDataPreprocessor``).
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 mask_ratio: float = 0.9,
                 decoder_embed_dims: int = 512,
                 decoder_depth: int = 4,
                 decoder_num_heads: int = 16,
                 decoder_feedforward_channels: Optional[int] = None,
                 spectral_sum_weight: float = 1.0,
                 norm_pix_loss: bool = False,
                 minmax_norm: bool = False,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0 <= mask_ratio < 1:
            raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')
        self.backbone = MODELS.build(dict(backbone, out_type='featmap', spectral_fusion='mean', final_norm=True))
        self.mask_ratio, self.spectral_sum_weight = mask_ratio, spectral_sum_weight
        self.norm_pix_loss, self.minmax_norm = norm_pix_loss, minmax_norm
        bb = self.backbone
        self.patch_dim = bb.t_patch_size * bb.patch_size**2  # pixels per token
        dim, dec = bb.embed_dims, decoder_embed_dims
        self.decoder_embed = nn.Linear(dim, dec)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec))
        self.decoder_pos_embed_spatial = nn.Parameter(torch.zeros(1, bb.grid_size[0] * bb.grid_size[1], dec))
        self.decoder_pos_embed_temporal = nn.Parameter(torch.zeros(1, bb.num_groups, dec))
        self.decoder_blocks = nn.ModuleList([
            SpectralBlock(dec, decoder_num_heads, decoder_feedforward_channels or 4 * dec)
            for _ in range(decoder_depth)
        ])
        self.decoder_norm = nn.LayerNorm(dec, eps=1e-6)
        self.decoder_pred = nn.Linear(dec, self.patch_dim)
        self._register_load_state_dict_pre_hook(self._resize_on_load)

    def init_weights(self) -> None:
        """Official MAE init for the decoder (the backbone initialises itself)."""
        super().init_weights()
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            return
        trunc_normal_(self.decoder_pos_embed_spatial, std=0.02)
        trunc_normal_(self.decoder_pos_embed_temporal, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in [self.decoder_embed, self.decoder_pred, *self.decoder_blocks.modules()]:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _resize_on_load(self, state_dict: dict, prefix: str, *args) -> None:
        """Resize the decoder position embeddings of a checkpoint of another size / band count."""
        bb = self.backbone
        resize_sep_pos_embed_on_load(state_dict, prefix + 'decoder_pos_embed_spatial',
                                     prefix + 'decoder_pos_embed_temporal', bb.grid_size, bb.num_groups,
                                     'SpectralMAE')

    # ----------------------------------------------------------------------------------------------
    # Patches
    def patchify(self, imgs: torch.Tensor) -> torch.Tensor:
        """(B, t * u, H, W) band-padded images -> (B, t * h * w, u * p * p) patches, token order
        (t, h, w) and pixel order (band, row, column) as the tokeniser and the official
        ``patchify``. H and W are zero-padded to multiples of p, as the tokeniser does."""
        p, u = self.backbone.patch_size, self.backbone.t_patch_size
        pad_h, pad_w = (-imgs.shape[2]) % p, (-imgs.shape[3]) % p
        if pad_h or pad_w:
            imgs = F.pad(imgs, (0, pad_w, 0, pad_h))
        b, bands, hh, ww = imgs.shape
        t, h, w = bands // u, hh // p, ww // p
        x = imgs.reshape(b, t, u, h, p, w, p).permute(0, 1, 3, 5, 2, 4, 6)  # (B, t, h, w, u, p, p)
        return x.reshape(b, t * h * w, u * p * p)

    def unpatchify(self, patches: torch.Tensor, size: Tuple[int, int, int]) -> torch.Tensor:
        """Inverse of :meth:`patchify` for a (t, h, w) token volume: -> (B, t * u, h * p, w * p)."""
        p, u = self.backbone.patch_size, self.backbone.t_patch_size
        t, h, w = size
        x = patches.reshape(-1, t, h, w, u, p, p).permute(0, 1, 4, 2, 5, 3, 6)  # (B, t, u, h, p, w, p)
        return x.reshape(-1, t * u, h * p, w * p)

    # ----------------------------------------------------------------------------------------------
    # Encoder / decoder
    def forward_encoder(self, imgs: torch.Tensor, mask_ratio: Optional[float] = None,
                        generator: Optional[torch.Generator] = None
                        ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Tuple[int, int, int]]:
        """Embed, mask and encode.

        Args:
            imgs: (B, bands, H, W).
            mask_ratio: Overrides ``self.mask_ratio``.
            generator: Random generator of the mask; None uses the global one (as the official code).

        Returns:
            ``(latent, mask, ids_restore, (t, h, w))``: encoded kept tokens (B, L_keep, C) after the
            final norm, the (B, L) mask (1 = dropped), the restoring permutation, the token volume.
        """
        bb = self.backbone
        tokens = bb.tokenize(imgs)  # (B, t, h, w, C)
        b, t, h, w, c = tokens.shape
        x = tokens.flatten(1, 3) + bb.get_pos_embed((t, h, w))  # position first: same as official gather
        x, mask, ids_restore = random_masking(x, self.mask_ratio if mask_ratio is None else mask_ratio, generator)
        for i in range(bb.num_layers):
            x = bb.run_block(i, x)
        return bb.norm(x), mask, ids_restore, (t, h, w)

    def forward_decoder(self, latent: torch.Tensor, ids_restore: torch.Tensor,
                        size: Tuple[int, int, int]) -> torch.Tensor:
        """(B, L_keep, C) latent -> (B, t * h * w, u * p * p) predicted patches for every token."""
        x = unshuffle(self.decoder_embed(latent), self.mask_token, ids_restore)  # (B, L, D)
        x = x + sep_pos_embed(self.decoder_pos_embed_spatial, self.backbone.grid_size,
                              self.decoder_pos_embed_temporal, size)
        for blk in self.decoder_blocks:
            x = blk(x)
        return self.decoder_pred(self.decoder_norm(x))

    # ----------------------------------------------------------------------------------------------
    # Loss
    def forward_loss(self, imgs: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The official multi-target loss (see the module docstring).

        Args:
            imgs: (B, t * u, H, W) band-padded images (the encoder's input); the target is their
                :meth:`patchify` patches.
            pred: (B, t * h * w, u * p * p) predicted patches.
            mask: (B, t * h * w), 1 for masked tokens.

        Returns:
            ``dict(loss_masked=..., loss_spectral_sum=...)`` (the second already weighted).
        """
        target = self.patchify(imgs)
        num_groups = imgs.shape[1] // self.backbone.t_patch_size  # tokens are group-major
        b, length, pdim = target.shape
        # Summed over the spectral groups, before any per-patch normalisation (as the official code).
        target_sum = target.view(b, num_groups, length // num_groups, pdim).sum(1)
        pred_sum = pred.view(b, num_groups, length // num_groups, pdim).sum(1)
        if self.norm_pix_loss:
            target = normalize_patches(target)
        per_token = ((pred - target)**2).mean(-1)  # (B, L)
        loss_masked = (per_token * mask).sum() / mask.sum().clamp_min(1)
        loss_sum = ((pred_sum - target_sum)**2).mean()
        return dict(loss_masked=loss_masked, loss_spectral_sum=self.spectral_sum_weight * loss_sum)

    def _prepare(self, inputs: Union[torch.Tensor, List[torch.Tensor]]) -> torch.Tensor:
        """Stack, check, min-max normalise (optional) and band-pad a batch."""
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4:
            raise ValueError(f'SpectralMAE expects inputs of shape (B, bands, H, W), got '
                             f'{getattr(inputs, "shape", type(inputs))}')
        x = inputs.float()
        if self.minmax_norm:
            x = minmax_per_band(x)
        return self.backbone.pad_bands(x)

    def _pass(self, inputs: Union[torch.Tensor, List[torch.Tensor]]
              ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Tuple[int, int, int]]:
        """(band-padded images, pred, mask, token volume) of one masked pass."""
        x = self._prepare(inputs)
        latent, mask, ids_restore, size = self.forward_encoder(x)
        return x, self.forward_decoder(latent, ids_restore, size), mask, size

    def loss(self, inputs: Union[torch.Tensor, List[torch.Tensor]], data_samples=None) -> Dict[str, torch.Tensor]:
        """Mask, reconstruct and return the two loss terms."""
        x, pred, mask, _ = self._pass(inputs)
        return self.forward_loss(x, pred, mask)

    def predict(self, inputs: Union[torch.Tensor, List[torch.Tensor]], data_samples=None) -> List[BaseDataElement]:
        """Pixel-domain prediction elements (:meth:`BasePretrainer.pack_predictions`) with the padded
        bands and pixels cropped away: ``pred`` and ``target`` (bands, H, W) (the target is per-patch
        normalised when ``norm_pix_loss``), ``mask`` (bands, H, W): 1 on every band and pixel of a
        masked 3-D token."""
        x, pred, mask, size = self._pass(inputs)
        bands = inputs[0].shape[0] if isinstance(inputs, (list, tuple)) else inputs.shape[1]
        target = self.patchify(x)
        if self.norm_pix_loss:
            target = normalize_patches(target)
        mask = mask.float()[..., None].expand(-1, -1, self.patch_dim)

        def to_image(patches: torch.Tensor) -> torch.Tensor:
            return self.unpatchify(patches, size)[:, :bands, :x.shape[2], :x.shape[3]]

        return self.pack_predictions(to_image(pred), to_image(target), to_image(mask), data_samples=data_samples)

    def _forward(self, inputs: Union[torch.Tensor, List[torch.Tensor]], data_samples=None) -> torch.Tensor:
        """The raw decoder output (B, t * h * w, u * p * p) of one masked pass."""
        return self._pass(inputs)[1]
