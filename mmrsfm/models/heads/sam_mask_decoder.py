"""SAM's promptable mask decoder and random-Fourier positional embedding, written from the paper.

Kirillov et al., "Segment Anything" (ICCV 2023), §3 and appendix A: a two-way transformer in which
prompt tokens (plus an IoU token and mask tokens) attend to themselves, then to the image, pass an
MLP, and the image attends back to the tokens; after the last block the tokens attend to the image
once more. The image embedding is upscaled 4x by two transposed convolutions, and each mask token
becomes, through its own 3-layer MLP (a hypernetwork), a dynamic linear classifier over the upscaled
map. Positions are encoded with random Fourier features (Tancik et al. 2020).

Parameter names follow Hugging Face ``transformers``' ``SamModel`` so the ``sam-vit-base`` weights
load after stripping a prefix (see :func:`mmrsfm.models.converters.convert_sam_decoder`, which also
reads the official release): ``mask_decoder.*`` maps to :class:`SamMaskDecoder` and
``shared_image_embedding.positional_embedding`` to :class:`SamPositionalEmbedding`'s buffer.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.norm import LayerNorm2d


class SamFeedForward(nn.Module):
    """``num_layers`` linears with ReLU between them (``proj_in``, ``layers.*``, ``proj_out``).

    Args:
        in_dim: Input channels.
        hidden_dim: Hidden channels.
        out_dim: Output channels.
        num_layers: Number of linear layers, at least 2.
        sigmoid_output: Apply a sigmoid to the output. Defaults to False.
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, num_layers: int,
                 sigmoid_output: bool = False) -> None:
        super().__init__()
        if num_layers < 2:
            raise ValueError(f'SamFeedForward needs num_layers >= 2, got {num_layers}')
        self.proj_in = nn.Linear(in_dim, hidden_dim)
        self.layers = nn.ModuleList([nn.Linear(hidden_dim, hidden_dim) for _ in range(num_layers - 2)])
        self.proj_out = nn.Linear(hidden_dim, out_dim)
        self.sigmoid_output = sigmoid_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.proj_in(x))
        for layer in self.layers:
            x = F.relu(layer(x))
        x = self.proj_out(x)
        return torch.sigmoid(x) if self.sigmoid_output else x


class SamAttention(nn.Module):
    """Multi-head attention with separate q/k/v projections into ``dim // downsample_rate`` channels
    (SAM shrinks the cross-attention width by 2 to save compute on the many image tokens).

    Args:
        dim: Token channels.
        num_heads: Attention heads.
        downsample_rate: Internal width divisor. Defaults to 1.
    """

    def __init__(self, dim: int, num_heads: int, downsample_rate: int = 1) -> None:
        super().__init__()
        inner = dim // downsample_rate
        if inner % num_heads:
            raise ValueError(f'SamAttention: {num_heads} heads do not divide the internal width {inner}')
        self.num_heads = num_heads
        self.q_proj, self.k_proj, self.v_proj = (nn.Linear(dim, inner) for _ in range(3))
        self.out_proj = nn.Linear(inner, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.view(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)  # (B, heads, N, c)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """query (B, Nq, C), key/value (B, Nk, C) -> (B, Nq, C)."""
        q, k, v = self._heads(self.q_proj(query)), self._heads(self.k_proj(key)), self._heads(self.v_proj(value))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(out.transpose(1, 2).flatten(2))


class SamMLPBlock(nn.Module):
    """The transformer block's MLP: ``lin2(ReLU(lin1(x)))``."""

    def __init__(self, dim: int, mlp_dim: int) -> None:
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(dim, mlp_dim), nn.Linear(mlp_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(F.relu(self.lin1(x)))


class SamTwoWayAttentionBlock(nn.Module):
    """Tokens: self-attention, cross-attention to the image, MLP; image: cross-attention to the
    tokens. Post-norm after each step; positional encodings are added to queries and keys only.

    Args:
        dim: Channels.
        num_heads: Attention heads.
        mlp_dim: MLP hidden channels.
        downsample_rate: Cross-attention width divisor.
        skip_first_layer_pe: The first block's token self-attention replaces the tokens (no residual,
            no positional encoding), as in SAM.
        eps: LayerNorm epsilon.
    """

    def __init__(self, dim: int, num_heads: int, mlp_dim: int, downsample_rate: int = 2,
                 skip_first_layer_pe: bool = False, eps: float = 1e-6) -> None:
        super().__init__()
        self.self_attn = SamAttention(dim, num_heads)
        self.layer_norm1 = nn.LayerNorm(dim, eps=eps)
        self.cross_attn_token_to_image = SamAttention(dim, num_heads, downsample_rate)
        self.layer_norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = SamMLPBlock(dim, mlp_dim)
        self.layer_norm3 = nn.LayerNorm(dim, eps=eps)
        self.layer_norm4 = nn.LayerNorm(dim, eps=eps)
        self.cross_attn_image_to_token = SamAttention(dim, num_heads, downsample_rate)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, query_pe: torch.Tensor,
                key_pe: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.skip_first_layer_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.layer_norm1(queries)
        q, k = queries + query_pe, keys + key_pe
        queries = self.layer_norm2(queries + self.cross_attn_token_to_image(q, k, keys))
        queries = self.layer_norm3(queries + self.mlp(queries))
        q, k = queries + query_pe, keys + key_pe
        keys = self.layer_norm4(keys + self.cross_attn_image_to_token(k, q, queries))
        return queries, keys


class SamTwoWayTransformer(nn.Module):
    """``depth`` two-way blocks, then a final token-to-image attention and LayerNorm."""

    def __init__(self, dim: int = 256, depth: int = 2, num_heads: int = 8, mlp_dim: int = 2048,
                 downsample_rate: int = 2, eps: float = 1e-6) -> None:
        super().__init__()
        self.layers = nn.ModuleList([
            SamTwoWayAttentionBlock(dim, num_heads, mlp_dim, downsample_rate, skip_first_layer_pe=i == 0, eps=eps)
            for i in range(depth)
        ])
        self.final_attn_token_to_image = SamAttention(dim, num_heads, downsample_rate)
        self.layer_norm_final_attn = nn.LayerNorm(dim, eps=eps)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor,
                tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """image, image_pe: (B, C, h, w); tokens: (B, T, C). Returns (tokens (B, T, C), image (B, hw, C))."""
        keys = image.flatten(2).transpose(1, 2)  # (B, hw, C)
        key_pe = image_pe.flatten(2).transpose(1, 2)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        q, k = queries + tokens, keys + key_pe
        queries = self.layer_norm_final_attn(queries + self.final_attn_token_to_image(q, k, keys))
        return queries, keys


class SamMaskDecoder(nn.Module):
    """SAM's mask decoder (HF ``SamMaskDecoder`` parameter names).

    Args:
        dim: Channels of the image embedding and tokens. Defaults to 256 (SAM).
        num_multimask_outputs: Masks predicted for ambiguous prompts; one more token predicts the
            single-mask output. Defaults to 3.
        depth: Two-way transformer blocks. Defaults to 2.
        num_heads: Attention heads. Defaults to 8.
        mlp_dim: Transformer MLP width. Defaults to 2048.
        downsample_rate: Cross-attention width divisor. Defaults to 2.
        iou_head_depth: Layers of the IoU head. Defaults to 3.
        iou_head_hidden_dim: Width of the IoU head. Defaults to 256.
        eps: Epsilon of the transformer's LayerNorms: 1e-6 in HF ``SamModel``, PyTorch's 1e-5 in the
            official code (a negligible difference). Defaults to 1e-6.
    """

    def __init__(self, dim: int = 256, num_multimask_outputs: int = 3, depth: int = 2, num_heads: int = 8,
                 mlp_dim: int = 2048, downsample_rate: int = 2, iou_head_depth: int = 3,
                 iou_head_hidden_dim: int = 256, eps: float = 1e-6) -> None:
        super().__init__()
        if dim % 8:
            raise ValueError(f'SamMaskDecoder: dim={dim} must be a multiple of 8 (upscaled to dim // 8)')
        self.dim, self.num_mask_tokens = dim, num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, dim)
        self.transformer = SamTwoWayTransformer(dim, depth, num_heads, mlp_dim, downsample_rate, eps)
        self.upscale_conv1 = nn.ConvTranspose2d(dim, dim // 4, 2, stride=2)
        self.upscale_conv2 = nn.ConvTranspose2d(dim // 4, dim // 8, 2, stride=2)
        self.upscale_layer_norm = LayerNorm2d(dim // 4, eps=1e-6)  # 1e-6 in both SAM and HF
        self.output_hypernetworks_mlps = nn.ModuleList(
            [SamFeedForward(dim, dim, dim // 8, 3) for _ in range(self.num_mask_tokens)])
        self.iou_prediction_head = SamFeedForward(dim, iou_head_hidden_dim, self.num_mask_tokens, iou_head_depth)

    def forward(self, image_embeddings: torch.Tensor, image_pe: torch.Tensor, sparse_prompts: torch.Tensor,
                dense_prompts: torch.Tensor, multimask_output: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """Masks for B prompts, each against its own image embedding.

        Args:
            image_embeddings: (B, C, h, w) image embedding per prompt.
            image_pe: (B or 1, C, h, w) positional encoding of the image grid.
            sparse_prompts: (B, P, C) point/box prompt tokens.
            dense_prompts: (B, C, h, w) dense prompt added to the image embedding.
            multimask_output: Return the 3 ambiguity masks instead of the single mask.

        Returns:
            Mask logits (B, M, 4h, 4w) and IoU predictions (B, M), M = 3 or 1.
        """
        b, c, h, w = image_embeddings.shape
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight])  # (1 + M, C)
        tokens = torch.cat([output_tokens.unsqueeze(0).expand(b, -1, -1), sparse_prompts], dim=1)
        src = image_embeddings + dense_prompts
        hs, src = self.transformer(src, image_pe.expand(b, -1, -1, -1), tokens)
        iou_out, mask_tokens_out = hs[:, 0], hs[:, 1:1 + self.num_mask_tokens]
        src = src.transpose(1, 2).reshape(b, c, h, w)
        up = F.gelu(self.upscale_layer_norm(self.upscale_conv1(src)))
        up = F.gelu(self.upscale_conv2(up))  # (B, C/8, 4h, 4w)
        hyper = torch.stack([mlp(mask_tokens_out[:, i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)],
                            dim=1)  # (B, M, C/8)
        masks = (hyper @ up.flatten(2)).view(b, -1, *up.shape[2:])
        iou = self.iou_prediction_head(iou_out)
        keep = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, keep], iou[:, keep]


class SamPositionalEmbedding(nn.Module):
    """Random Fourier features of normalised (x, y) coordinates: ``[sin(2 pi p G), cos(2 pi p G)]``
    with p in [-1, 1] and a fixed Gaussian matrix G (2, dim / 2) (buffer ``positional_embedding``).

    Args:
        dim: Output channels (even). Defaults to 256.
        scale: Standard deviation of G. Defaults to 1 (SAM's default; HF ``sam-vit-base`` stores G).
    """

    def __init__(self, dim: int = 256, scale: float = 1.0) -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f'SamPositionalEmbedding: dim={dim} must be even')
        self.register_buffer('positional_embedding', scale * torch.randn(2, dim // 2))

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """coords (..., 2) as (x, y) in [0, 1] -> (..., dim)."""
        proj = (2 * coords - 1).to(self.positional_embedding.dtype) @ self.positional_embedding * (2 * math.pi)
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)

    def grid(self, size: Tuple[int, int]) -> torch.Tensor:
        """Dense encoding (1, dim, h, w) of the centres of an h x w grid (SAM's image-wide encoding)."""
        h, w = size
        device = self.positional_embedding.device
        y = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h
        x = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w
        coords = torch.stack(torch.meshgrid(x, y, indexing='xy'), dim=-1)  # (h, w, 2) as (x, y)
        return self(coords).permute(2, 0, 1).unsqueeze(0)
