"""MAE-style per-sample random token masking and patch-target normalisation, shared by the
masked-image-modelling pretrainers."""
from typing import Optional, Tuple

import torch


def random_masking(tokens: torch.Tensor, mask_ratio: float,
                   generator: Optional[torch.Generator] = None
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep a random ``1 - mask_ratio`` share of the tokens of each sample (He et al., MAE).

    Args:
        tokens: (B, L, C) token sequence.
        mask_ratio: Share of tokens to drop, in [0, 1).
        generator: Random generator for the per-sample shuffle; None uses the global one.

    Returns:
        ``(kept, mask, ids_restore)``: kept tokens (B, L_keep, C) in shuffled order; the binary mask
        (B, L) in the original order, 1 where a token was dropped; and the permutation that puts
        ``cat([kept, mask_tokens], 1)`` back into the original order (gather along dim 1).
    """
    if not 0 <= mask_ratio < 1:
        raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')
    b, length, c = tokens.shape
    keep = max(1, int(round(length * (1 - mask_ratio))))
    noise = torch.rand(b, length, device=tokens.device, generator=generator)
    ids_shuffle = noise.argsort(dim=1)
    ids_restore = ids_shuffle.argsort(dim=1)
    ids_keep = ids_shuffle[:, :keep]
    kept = tokens.gather(1, ids_keep[..., None].expand(-1, -1, c))
    mask = torch.ones(b, length, device=tokens.device, dtype=tokens.dtype)
    mask[:, :keep] = 0
    return kept, mask.gather(1, ids_restore), ids_restore


def unshuffle(tokens: torch.Tensor, mask_token: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
    """Append mask tokens to the kept ones and restore the original order.

    Args:
        tokens: (B, L_keep, C) kept tokens, as returned by :func:`random_masking` (or projected).
        mask_token: (1, 1, C) learnable token placed at the masked positions.
        ids_restore: (B, L) permutation from :func:`random_masking`.

    Returns:
        (B, L, C) tokens in the original order.
    """
    b, keep, c = tokens.shape
    fill = mask_token.to(tokens.dtype).expand(b, ids_restore.shape[1] - keep, c)
    full = torch.cat([tokens, fill], dim=1)
    return full.gather(1, ids_restore[..., None].expand(-1, -1, c))


def normalize_patches(target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Each patch (last dim) minus its mean, over sqrt(unbiased variance + ``eps``): MAE's
    ``norm_pix_loss`` target."""
    mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
    return (target - mean) / (var + eps)**0.5
