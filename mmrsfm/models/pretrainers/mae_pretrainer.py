"""Masked-autoencoder (MAE) pretraining of :class:`~mmrsfm.models.ScalableViT`, any band count.

Written from He et al., "Masked Autoencoders Are Scalable Vision Learners" (CVPR 2022), the recipe
the billion-scale RS ViTs were pretrained with ("A Billion-scale Foundation Model for Remote Sensing
Images", arXiv 2304.05215: MAE on MillionAID, ViT-86M to 2.4B):

* the image is cut into ``p x p`` patches; a random ``mask_ratio`` share of them (75%) is dropped
  per sample (:func:`~mmrsfm.models.utils.masking.random_masking`);
* the **encoder runs on the kept tokens only**. ScalableViT's blocks work on (B, H, W, C) grids; the
  kept tokens go through ``ScalableViT.forward_tokens`` as a (B, 1, L_keep, C) "grid". That is exact
  for *global* attention without relative position bias, which is order-free: position enters only
  through the absolute position embedding added before masking. Windowed blocks and relative-position tables need the full grid,
  so the backbone must be built with ``window_size=0`` and ``use_rel_pos=False`` (checked). Window
  and global blocks have the same parameters, so downstream ViTDet-style configs load the
  pretrained encoder and switch windows on (as ViTDet does with MAE weights);
* a light decoder (MAE: 512 wide, 8 blocks) gets the projected kept tokens plus a shared mask token
  at every dropped position, adds a fixed 2-D sin-cos position embedding, and predicts the pixels
  of every patch;
* the target is each patch's pixels, normalised by the patch's own mean and variance
  (``norm_pix_loss``); the loss is the MSE averaged over the *masked* patches only.

Differences from the official MAE, on purpose: no cls token (ScalableViT has none, and the MAE loss
never reads it); the encoder's linears keep ScalableViT's truncated-normal init. As in MAE, the
encoder's position embedding is a frozen 2-D sin-cos grid during pretraining
(``fixed_encoder_pos_embed``); it is saved, and downstream fine-tuning learns it from there.

Checkpoints flow downstream with ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
"""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.structures import BaseDataElement
from torch import nn

from mmrsfm.registry import MODELS
from ..backbones.scalable_vit import TransformerBlock
from ..layers.pos_embed import resize_pos_embed_grid
from ..utils.masking import normalize_patches, random_masking, unshuffle
from .base_pretrainer import BasePretrainer


def sincos_2d_pos_embed(embed_dims: int, grid: Tuple[int, int], temperature: float = 10000.) -> torch.Tensor:
    """Fixed 2-D sine-cosine position embedding (MAE ``get_2d_sincos_pos_embed``), as a (1, h, w, C) grid.

    As in MAE, the first half of the channels encodes the column (x) coordinate and the second half
    the row (y) coordinate; each half is ``[sin(pos * omega), cos(pos * omega)]`` with
    ``omega_k = 1 / temperature ** (k / (C / 4))``.

    Args:
        embed_dims: Channels, a multiple of 4.
        grid: Token grid (h, w).
        temperature: Frequency base. Defaults to 10000.
    """
    if embed_dims % 4:
        raise ValueError(f'sin-cos position embedding needs embed_dims divisible by 4, got {embed_dims}')
    h, w = grid
    quarter = embed_dims // 4
    omega = 1. / temperature**(torch.arange(quarter, dtype=torch.float64) / quarter)  # (C/4, )
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                            indexing='ij')

    def one_axis(pos: torch.Tensor) -> torch.Tensor:
        out = pos[..., None] * omega  # (h, w, C/4)
        return torch.cat([out.sin(), out.cos()], dim=-1)  # (h, w, C/2)

    return torch.cat([one_axis(xs), one_axis(ys)], dim=-1)[None].float()  # (1, h, w, C)


def patchify(imgs: torch.Tensor, patch_size: Tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) -> (B, h * w, ph * pw * C), each patch flattened as (ph, pw, C) like MAE's ``patchify``."""
    b, c, hh, ww = imgs.shape
    ph, pw = patch_size
    if hh % ph or ww % pw:
        raise ValueError(f'MAE needs inputs divisible by the patch size {patch_size}, got {(hh, ww)}; '
                         f'set the crop size of the pipeline to a multiple of it')
    x = imgs.reshape(b, c, hh // ph, ph, ww // pw, pw)
    x = x.permute(0, 2, 4, 3, 5, 1)  # (B, h, w, ph, pw, C)
    return x.reshape(b, (hh // ph) * (ww // pw), ph * pw * c)


def unpatchify(patches: torch.Tensor, patch_size: Tuple[int, int], grid: Tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`patchify`: (B, h * w, ph * pw * C) -> (B, C, h * ph, w * pw)."""
    b = patches.shape[0]
    (ph, pw), (h, w) = patch_size, grid
    x = patches.reshape(b, h, w, ph, pw, -1).permute(0, 5, 1, 3, 2, 4)  # (B, C, h, ph, w, pw)
    return x.reshape(b, -1, h * ph, w * pw)


@MODELS.register_module()
class MAEPretrainer(BasePretrainer):
    """MAE pretraining algorithm around an unmodified :class:`~mmrsfm.models.ScalableViT` (see module docs).

    Args:
        backbone: ScalableViT config with all-global attention: ``window_size=0``, ``use_rel_pos=False``.
        mask_ratio: Share of patches dropped per image. Defaults to 0.75.
        decoder_embed_dims: Decoder width. Defaults to 512.
        decoder_depth: Decoder blocks. Defaults to 8.
        decoder_num_heads: Decoder heads. Defaults to 16.
        decoder_mlp_ratio: Decoder MLP hidden width / width. Defaults to 4.
        norm_pix_loss: Normalise each target patch by its own mean and variance. Defaults to True.
        fixed_encoder_pos_embed: Fill the encoder position embedding with the 2-D sin-cos grid and freeze
            it during pretraining (as MAE). Defaults to True.
        modality: Key of the image in dict inputs (``MultiModalDataPreprocessor`` gives
            ``{modality: (B, C, H, W)}``); plain tensors are used as they are. Defaults to 'opt'.
        data_preprocessor: Defaults to ``mmrsfm.MultiModalDataPreprocessor`` (no normalisation).
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 mask_ratio: float = 0.75,
                 decoder_embed_dims: int = 512,
                 decoder_depth: int = 8,
                 decoder_num_heads: int = 16,
                 decoder_mlp_ratio: float = 4.,
                 norm_pix_loss: bool = True,
                 fixed_encoder_pos_embed: bool = True,
                 modality: str = 'opt',
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmrsfm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0 <= mask_ratio < 1:
            raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')
        self.backbone = MODELS.build(backbone)
        self._check_backbone()
        self.mask_ratio, self.norm_pix_loss, self.modality = mask_ratio, norm_pix_loss, modality
        self.fixed_encoder_pos_embed = fixed_encoder_pos_embed
        dim, self.patch_size = self.backbone.embed_dims, self.backbone.patch_embed.patch_size
        self.in_channels = self.backbone.patch_embed.in_channels
        self.decoder_embed = nn.Linear(dim, decoder_embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dims))
        self.decoder_blocks = nn.ModuleList([
            TransformerBlock(decoder_embed_dims, decoder_num_heads, int(decoder_embed_dims * decoder_mlp_ratio))
            for _ in range(decoder_depth)
        ])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dims, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_embed_dims, self.patch_size[0] * self.patch_size[1] * self.in_channels)
        # Fixed, so not saved: recomputed for whatever grid the batch has.
        self.register_buffer('decoder_pos_embed', sincos_2d_pos_embed(decoder_embed_dims, self.backbone.grid_size),
                             persistent=False)
        if fixed_encoder_pos_embed:
            with torch.no_grad():
                self.backbone.pos_embed.copy_(sincos_2d_pos_embed(dim, self.backbone.grid_size))
            self.backbone.pos_embed.requires_grad = False

    def _check_backbone(self) -> None:
        needed = ('patch_embed', 'pos_embed', 'blocks', 'forward_tokens', 'grid_size')
        missing = [a for a in needed if not hasattr(self.backbone, a)]
        if missing:
            raise TypeError(f'MAEPretrainer needs a ScalableViT-like backbone; {type(self.backbone).__name__} '
                            f'lacks {missing}')
        for i, block in enumerate(self.backbone.blocks):
            if block.attn.window_size > 0 or block.attn.use_rel_pos:
                raise ValueError(
                    f'backbone block {i} uses window attention or relative positions, which need the full token '
                    f'grid; MAE encodes only the kept tokens: build the backbone with window_size=0 and '
                    f'use_rel_pos=False (downstream configs can switch windows back on)')

    def init_weights(self) -> None:
        """Backbone as configured; decoder linears Xavier-uniform, mask token N(0, 0.02) (as MAE)."""
        super().init_weights()
        if self.fixed_encoder_pos_embed:  # the backbone's init overwrote it
            with torch.no_grad():
                self.backbone.pos_embed.copy_(sincos_2d_pos_embed(self.backbone.embed_dims, self.backbone.grid_size))
        decoder = [self.decoder_embed, self.decoder_blocks, self.decoder_norm, self.decoder_pred]
        for m in (m for part in decoder for m in part.modules()):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.mask_token, std=0.02)

    def _image(self, inputs: Union[torch.Tensor, Dict[str, torch.Tensor]]) -> torch.Tensor:
        if isinstance(inputs, dict):
            if self.modality not in inputs:
                raise KeyError(f'MAEPretrainer(modality={self.modality!r}) got a batch with modalities '
                               f'{sorted(inputs)}; set model.modality to the one to pretrain on')
            inputs = inputs[self.modality]
        if inputs.ndim != 4 or inputs.shape[1] != self.in_channels:
            raise ValueError(f'MAEPretrainer expects (B, {self.in_channels}, H, W) images (backbone in_channels), '
                             f'got {tuple(inputs.shape)}')
        return inputs

    def forward_encoder(self, imgs: torch.Tensor, mask_ratio: Optional[float] = None,
                        generator: Optional[torch.Generator] = None
                        ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Tuple[int, int]]:
        """Embed, mask and encode the kept tokens with the backbone's own modules.

        Args:
            imgs: (B, C, H, W) images.
            mask_ratio: Overrides ``self.mask_ratio``.
            generator: Random generator of the mask; None uses the global one.

        Returns:
            latent (B, L_keep, C) after the final norm, mask (B, L) (1 = dropped), ids_restore (B, L)
            and the token grid (h, w).
        """
        bb = self.backbone
        x = bb.patch_embed(imgs)  # (B, h, w, C)
        grid = tuple(x.shape[1:3])
        x = x + resize_pos_embed_grid(bb.pos_embed, grid)
        ratio = self.mask_ratio if mask_ratio is None else mask_ratio
        kept, mask, ids_restore = random_masking(x.flatten(1, 2), ratio, generator)
        return bb.forward_tokens(kept), mask, ids_restore, grid

    def forward_decoder(self, latent: torch.Tensor, ids_restore: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """(B, L_keep, C) latent -> (B, L, ph * pw * in_channels) pixel predictions for every patch."""
        x = unshuffle(self.decoder_embed(latent), self.mask_token, ids_restore)  # (B, L, Cd)
        x = x.reshape(x.shape[0], *grid, -1)  # (B, h, w, Cd)
        pos = self.decoder_pos_embed
        if tuple(pos.shape[1:3]) != grid:
            pos = sincos_2d_pos_embed(pos.shape[-1], grid).to(x.device)
        x = x + pos.to(x.dtype)
        for block in self.decoder_blocks:
            x = block(x)
        return self.decoder_pred(self.decoder_norm(x)).flatten(1, 2)

    def target(self, imgs: torch.Tensor) -> torch.Tensor:
        """(B, L, ph * pw * C) patch pixels, per-patch normalised when ``norm_pix_loss``."""
        target = patchify(imgs, self.patch_size)
        return normalize_patches(target) if self.norm_pix_loss else target

    def forward_loss(self, imgs: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``dict(loss)``: the per-patch MSE of ``pred`` (B, L, P) against :meth:`target`, averaged over
        the dropped patches of ``mask`` (B, L)."""
        per_patch = ((pred.float() - self.target(imgs).float())**2).mean(dim=-1)  # (B, L)
        mask = mask.float()  # random_masking returns the token dtype: bf16 sums would round the count
        return dict(loss=(per_patch * mask).sum() / mask.sum())

    def _pass(self, inputs) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Tuple[int, int]]:
        """(images, pred, mask, grid) of one masked pass."""
        imgs = self._image(inputs)
        latent, mask, ids_restore, grid = self.forward_encoder(imgs)
        return imgs, self.forward_decoder(latent, ids_restore, grid), mask, grid

    def loss(self, inputs, data_samples=None) -> Dict[str, torch.Tensor]:
        imgs, pred, mask, _ = self._pass(inputs)
        return self.forward_loss(imgs, pred, mask)

    def predict(self, inputs, data_samples=None) -> List[BaseDataElement]:
        """Pixel-domain prediction elements (:meth:`BasePretrainer.pack_predictions`): ``pred`` and
        ``target`` (C, H, W) are per-patch normalised pixels when ``norm_pix_loss``; ``mask`` is
        (1, H, W)."""
        imgs, pred, mask, grid = self._pass(inputs)
        ps = self.patch_size
        mask = mask.float()[..., None].expand(-1, -1, ps[0] * ps[1])
        return self.pack_predictions(
            unpatchify(pred, ps, grid), unpatchify(self.target(imgs), ps, grid), unpatchify(mask, ps, grid),
            modality=self.modality if isinstance(inputs, dict) else None, data_samples=data_samples)

    def _forward(self, inputs, data_samples=None) -> torch.Tensor:
        """The raw decoder output (B, L, ph * pw * in_channels) of one masked pass."""
        return self._pass(inputs)[1]
