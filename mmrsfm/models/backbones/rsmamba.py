"""RSMamba: the linear-time state-space backbone of RS4D (Yang et al., "Efficient Remote Sensing Instance
Segmentation with Linear-Time State Space Distilled Visual Foundation Models", IEEE TGRS 2026).

Written from the paper and the official code's behaviour (``QinzheYang/RS4D``, ``mmdet/rs4d/models.py``,
class ``RSMamba`` and its ``arch_zoo``): a 16x16 patch embedding, a learnable flat position
embedding, then ``num_layers`` Mamba-1 mixers (HuggingFace ``MambaMixer`` semantics) that scan the token
sequence forwards and backwards with one LayerNorm (``pre_norm``) shared by every layer, and a final
LayerNorm (``ln1``) after the last layer. State-dict keys are the official ones, so a converted
checkpoint (:func:`mmrsfm.models.converters.convert_rs4d`) loads strictly.

What differs from the official code (outputs are the same up to float rounding):

- The per-token work that both scan directions share (``pre_norm``, ``in_proj``, ``out_proj``) runs once
  on the unflipped sequence instead of once per direction: LayerNorm and the linears act per token and
  commute with the flip, and ``out_proj`` has no bias, so ``(out_proj(a) + out_proj(b)) / 2 ==
  out_proj((a + b) / 2)``. This halves the largest GEMMs.
- The selective scan is :func:`mmrsfm.models.layers.selective_scan.selective_scan`: on CUDA mamba_ssm's
  kernels when installed, otherwise our Triton kernel (one launch per scan); on CPU an exact chunked
  pure-PyTorch scan (the official code without the kernels runs HF's per-token Python loop).
- Any input size: the position embedding is resized (bicubic) to the token grid at run time and on load;
  sizes that are not multiples of the patch are zero-padded bottom/right (as mmcv's ``PatchEmbed``).
- Any band count: a checkpoint stem trained on another band count is adapted on load (logged).
- New models start from Mamba's initialisation (Gu & Dao: ``A = 1..N``, ``dt`` log-uniform in
  [1e-3, 0.1]); the official class is not a HF ``PreTrainedModel`` and so starts ``dt_proj`` from
  PyTorch's default linear init. Checkpoints are unaffected.
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from mmrsfm.registry import MODELS
from ..layers.patch_embed import PatchEmbed, adapt_stem_bands
from ..layers.pos_embed import resize_flat_square_pos_embed, resize_pos_embed
from ..layers.selective_scan import causal_conv1d, selective_scan
from ..utils.arch import loads_pretrained, parse_arch, pretrained_to_init_cfg
from ..utils.layerwise import check_out_indices, columnar_layer_depth, freeze

PATH_TYPES = ('forward', 'forward_reverse_mean', 'forward_reverse_gate', 'forward_reverse_shuffle_gate',
              'forward_reverse_shuffle_mean')


class _PatchEmbed(PatchEmbed):
    """:class:`~mmrsfm.models.layers.PatchEmbed` whose convolution is registered as ``projection`` (mmcv's
    ``PatchEmbed`` name, which the official checkpoints use) instead of ``proj``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._modules['projection'] = self._modules.pop('proj')

    @property
    def proj(self) -> nn.Conv2d:
        return self._modules['projection']


class MambaMixer(nn.Module):
    """One Mamba-1 mixer with HuggingFace ``MambaMixer`` parameters and semantics (no biases on the linears,
    a biased depthwise causal conv, SiLU):

    ``x, z = in_proj(h)``; ``u = silu(causal_conv1d(x))``; ``dt, B, C = x_proj(u)``;
    ``delta = softplus(dt_proj(dt))``; ``y = selective_scan(u, delta, -exp(A_log), B, C, D)``;
    ``out = out_proj(y * silu(z))``.

    The backbone calls the pieces (:meth:`ssm`) directly to share ``in_proj``/``out_proj`` between scan
    directions; :meth:`forward` is the plain one-direction mixer.

    Args:
        dim: Token channels (``hidden_size``).
        d_inner: Expanded channels (``intermediate_size``). Defaults to ``2 * dim``.
        state_size: SSM state size N. Defaults to 16.
        conv_kernel: Causal conv kernel. Defaults to 4.
        dt_rank: Rank of the step projection. Defaults to ``ceil(dim / 16)``.
        scan_impl: See :func:`~mmrsfm.models.layers.selective_scan.selective_scan`. Defaults to 'auto'.
        device: Parameter device. Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self,
                 dim: int,
                 d_inner: Optional[int] = None,
                 state_size: int = 16,
                 conv_kernel: int = 4,
                 dt_rank: Optional[int] = None,
                 scan_impl: str = 'auto',
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.dim, self.d_inner = dim, d_inner or 2 * dim
        self.state_size, self.conv_kernel = state_size, conv_kernel
        self.dt_rank = dt_rank or math.ceil(dim / 16)
        self.scan_impl = scan_impl
        di = self.d_inner
        self.in_proj = nn.Linear(dim, 2 * di, bias=False, **factory)
        # HF's module (padding K - 1, the first L outputs kept); forward applies it with causal_conv1d.
        self.conv1d = nn.Conv1d(di, di, conv_kernel, groups=di, padding=conv_kernel - 1, bias=True, **factory)
        self.x_proj = nn.Linear(di, self.dt_rank + 2 * state_size, bias=False, **factory)
        self.dt_proj = nn.Linear(self.dt_rank, di, bias=True, **factory)
        self.A_log = nn.Parameter(torch.empty(di, state_size, **factory))
        self.D = nn.Parameter(torch.empty(di, **factory))
        self.out_proj = nn.Linear(di, dim, bias=False, **factory)
        self.reset_ssm_parameters()

    @torch.no_grad()
    def reset_ssm_parameters(self, dt_min: float = 1e-3, dt_max: float = 0.1, dt_floor: float = 1e-4) -> None:
        """Mamba's initialisation of the SSM parameters: ``A_log = log(1..N)`` per channel, ``D = 1``, the
        ``dt_proj`` weight uniform in +-dt_rank^-0.5 and its bias the inverse softplus of a step drawn
        log-uniformly in [dt_min, dt_max]."""
        a = torch.arange(1, self.state_size + 1, dtype=torch.float32, device=self.A_log.device)
        self.A_log.copy_(torch.log(a).expand_as(self.A_log))
        self.D.fill_(1.0)
        nn.init.uniform_(self.dt_proj.weight, -self.dt_rank**-0.5, self.dt_rank**-0.5)
        dt = torch.exp(torch.rand(self.d_inner, device=self.dt_proj.bias.device) *
                       (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)).clamp(min=dt_floor)
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^-1(dt)

    def ssm(self, x: torch.Tensor) -> torch.Tensor:
        """The sequence part, after ``in_proj`` and before the gate.

        Args:
            x: (B, L, d_inner), the first half of ``in_proj``'s output, scanned along L.

        Returns:
            (B, L, d_inner): ``y = scan(...) + D * u`` (not yet multiplied by ``silu(z)``).
        """
        u = F.silu(causal_conv1d(x, self.conv1d.weight, self.conv1d.bias))  # (B, L, di)
        dt, b, c = self.x_proj(u).split([self.dt_rank, self.state_size, self.state_size], dim=-1)
        delta = F.linear(dt, self.dt_proj.weight)  # bias and softplus happen inside the scan, in fp32
        return selective_scan(u, delta, -torch.exp(self.A_log.float()), b, c, self.D, delta_bias=self.dt_proj.bias,
                              delta_softplus=True, impl=self.scan_impl)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, L, dim) -> (B, L, dim), one forward scan (HF ``MambaMixer.forward``)."""
        x, z = self.in_proj(h).chunk(2, dim=-1)
        return self.out_proj(self.ssm(x) * F.silu(z))


@MODELS.register_module()
class RSMamba(BaseModule):
    """RS4D's RSMamba backbone: Mamba-1 mixers over the 16x16 patch tokens, scanned in both directions.

    Per layer ``i`` (``path_type='forward_reverse_mean'``, the official default):
    ``x = x + (mixer_i(pre_norm(x)) + flip(mixer_i(pre_norm(flip(x))))) / 2``; one ``pre_norm`` is shared by
    every layer; after the last layer ``x = ln1(x)``.

    Architectures (:attr:`arch_zoo`, the official table; state 16, conv 4, dt_rank 16; parameters for
    3 bands at 1024 x 1024, i.e. a 4096-token ``pos_embed``, counted on ``meta`` in the tests):

    ==========  =====  ======  =======  ===========  ====================
    arch        width  layers  d_inner  parameters   official, from shapes
    ==========  =====  ======  =======  ===========  ====================
    s, small      256      16      512  8,250,368    ~8.3 M
    b, base       256      24      512  11,752,448   ~11.8 M
    l, large      256      28      640  16,567,808   ~16.6 M
    h, huge       256      32      640  18,756,608   ~18.8 M
    u, uhuge2     256      48      640  27,511,808   ~27.5 M
    ==========  =====  ======  =======  ===========  ====================

    The gated path types add ``gate_layers`` (2 * 256 * 2 or 3 * 256 * 3 weights per layer).

    Outputs and norms: the output of layer ``i < num_layers - 1`` is the raw residual stream after that
    layer (no norm); the output of the last layer is after ``ln1`` (when ``final_norm``), exactly as the
    official ``forward``. Each is a (B, embed_dims, ceil(H / patch), ceil(W / patch)) map.

    Args:
        arch: A name in :attr:`arch_zoo` or a dict with ``embed_dims``, ``num_layers`` and
            ``feedforward_channels`` (d_inner), optionally ``state_size`` (16), ``conv_kernel`` (4) and
            ``dt_rank`` (``ceil(embed_dims / 16)``). Defaults to 'base'.
        img_size: Design input size (int or (H, W)); the stored ``pos_embed`` (1, N, C) covers its token
            grid. Other runtime sizes resize it; checkpoints of other sizes are resized on load.
            Defaults to 1024.
        in_channels: Input bands (any number). Defaults to 3.
        patch_size: Patch side. Defaults to 16.
        path_type: How each layer scans the tokens: 'forward'; 'forward_reverse_mean' (forward and
            reversed, averaged); 'forward_reverse_gate' (a per-layer softmax gate over the two, from their
            token means; adds ``gate_layers``); 'forward_reverse_shuffle_gate' / 'forward_reverse_shuffle_mean'
            (a third scan over a random token permutation, drawn anew every forward as in the official
            code, so these outputs are random even in eval mode). Defaults to 'forward_reverse_mean'.
        out_indices: Layers whose outputs are returned (negative counts from the end), in layer order.
            Defaults to None: every layer (what :class:`~mmrsfm.models.necks.LayerAggregator` takes).
        final_norm: Apply ``ln1`` after the last layer. Defaults to True.
        frozen_stages: -1 freezes nothing; 0 the patch and position embeddings; k > 0 also ``pre_norm``
            (shared by all layers, as the official code freezes it with any layer), layers ``0..k-1`` and
            their gates, and ``ln1`` once all layers are frozen. Defaults to -1.
        with_cp: Activation checkpointing per layer (non-reentrant). Defaults to False.
        scan_impl: Selective-scan implementation, 'auto' (on CUDA mamba_ssm's kernel when importable, else
            our one-launch Triton kernel; on CPU the chunked PyTorch scan), 'triton', 'chunked', 'ref'
            (sequential, for tests) or 'cuda' (see :func:`~mmrsfm.models.layers.selective_scan.selective_scan`).
            Defaults to 'auto'.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
            Defaults to None.
        device: Parameter device (``'meta'`` builds without allocating). Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """
    arch_zoo = {
        **dict.fromkeys(['s', 'small'], dict(embed_dims=256, num_layers=16, feedforward_channels=512)),
        **dict.fromkeys(['b', 'base'], dict(embed_dims=256, num_layers=24, feedforward_channels=512)),
        **dict.fromkeys(['l', 'large'], dict(embed_dims=256, num_layers=28, feedforward_channels=640)),
        **dict.fromkeys(['h', 'huge'], dict(embed_dims=256, num_layers=32, feedforward_channels=640)),
        **dict.fromkeys(['u', 'uhuge2'], dict(embed_dims=256, num_layers=48, feedforward_channels=640)),
    }
    essential_keys = {'embed_dims', 'num_layers', 'feedforward_channels'}

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 1024,
                 in_channels: int = 3,
                 patch_size: int = 16,
                 path_type: str = 'forward_reverse_mean',
                 out_indices: Optional[Sequence[int]] = None,
                 final_norm: bool = True,
                 frozen_stages: int = -1,
                 with_cp: bool = False,
                 scan_impl: str = 'auto',
                 init_cfg: Optional[dict] = None,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None,
                 pretrained: Optional[str] = None) -> None:
        super().__init__(init_cfg=pretrained_to_init_cfg(pretrained, init_cfg, type(self).__name__))
        self.arch_settings = parse_arch(arch, self.arch_zoo, self.essential_keys)
        dim, depth = self.arch_settings['embed_dims'], self.arch_settings['num_layers']
        self.embed_dims, self.num_layers = dim, depth
        if path_type not in PATH_TYPES:
            raise ValueError(f"path_type '{path_type}' is not one of {PATH_TYPES}")
        self.path_type = path_type
        out_indices = range(depth) if out_indices is None else out_indices
        self.out_indices = check_out_indices(out_indices, depth, 'layer')
        self.out_channels = (dim, ) * len(self.out_indices)
        self.final_norm, self.frozen_stages, self.with_cp = final_norm, frozen_stages, with_cp
        factory = dict(device=device, dtype=dtype)

        self.patch_embed = _PatchEmbed(in_channels, dim, patch_size, bias=False, **factory)
        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.grid_size = self.patch_embed.grid_size(h, w)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid_size[0] * self.grid_size[1], dim, **factory))
        self.layers = nn.ModuleList([
            MambaMixer(dim, self.arch_settings['feedforward_channels'], self.arch_settings.get('state_size', 16),
                       self.arch_settings.get('conv_kernel', 4), self.arch_settings.get('dt_rank'), scan_impl,
                       **factory) for _ in range(depth)
        ])
        self.num_paths = 3 if 'shuffle' in path_type else (1 if path_type == 'forward' else 2)
        if 'gate' in path_type:
            self.gate_layers = nn.ModuleList([
                nn.Sequential(nn.Linear(self.num_paths * dim, self.num_paths, bias=False, **factory),
                              nn.Softmax(dim=-1)) for _ in range(depth)
            ])
        else:
            self.gate_layers = None
        self.pre_norm = nn.LayerNorm(dim, eps=1e-6, **factory)
        self.ln1 = nn.LayerNorm(dim, eps=1e-6, **factory) if final_norm else None
        self._register_load_state_dict_pre_hook(self._adapt_checkpoint_on_load)
        self._freeze_stages()

    @property
    def input_bands(self) -> Tuple[int, ...]:
        """Band counts this backbone accepts."""
        return (self.patch_embed.in_channels, )

    def init_weights(self) -> None:
        """Truncated-normal position embedding (std 0.02) unless loading a pretrained checkpoint; the mixers
        keep Mamba's initialisation from construction."""
        super().init_weights()
        if loads_pretrained(self.init_cfg):
            return
        trunc_normal_(self.pos_embed, std=0.02)

    # -- checkpoints ------------------------------------------------------------------------------------

    def _adapt_checkpoint_on_load(self, state_dict: dict, prefix: str, *args) -> None:
        """Adapt a checkpoint before a strict load: a ``pos_embed`` of another (square) token grid is resized
        bicubically to this model's grid; a stem trained on another band count gets this model's band count
        (every band the mean kernel x trained/bands, so a constant input gives the same response)."""
        key = prefix + 'pos_embed'
        value = state_dict.get(key)
        n = self.grid_size[0] * self.grid_size[1]
        if value is not None and value.ndim == 3 and value.shape[1] != n:
            state_dict[key], src = resize_flat_square_pos_embed(value, self.grid_size, key)
            print_log(f'RSMamba: resized {key} from {src} to {self.grid_size}', logger='current')
        adapt_stem_bands(state_dict, prefix + 'patch_embed.projection.weight', self.patch_embed.in_channels,
                         'RSMamba')

    # -- freezing ---------------------------------------------------------------------------------------

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        freeze(self.pos_embed, self.patch_embed)
        if self.frozen_stages > 0:
            freeze(self.pre_norm, *self.layers[:self.frozen_stages])
            if self.gate_layers is not None:
                freeze(*self.gate_layers[:self.frozen_stages])
        if self.frozen_stages >= self.num_layers and self.ln1 is not None:
            freeze(self.ln1)

    def train(self, mode: bool = True) -> 'RSMamba':
        super().train(mode)
        self._freeze_stages()
        return self

    # -- forward ----------------------------------------------------------------------------------------

    def _mix(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Layer ``i``'s update (without the residual) of x: (B, L, C) -> (B, L, C), for ``path_type``."""
        layer = self.layers[i]
        b, n = x.shape[:2]
        xs, z = layer.in_proj(self.pre_norm(x)).chunk(2, dim=-1)  # (B, L, di) each, shared by all paths
        if self.path_type == 'forward':
            return layer.out_proj(layer.ssm(xs) * F.silu(z))
        seqs = [xs, xs.flip(1)]
        perm = None
        if self.num_paths == 3:
            perm = torch.randperm(n, device=x.device)
            seqs.append(xs[:, perm])
        ys = layer.ssm(torch.cat(seqs, dim=0)).split(b, dim=0)  # one batched scan for all directions
        ys = [ys[0], ys[1].flip(1)] + ([ys[2][:, torch.argsort(perm)]] if perm is not None else [])
        gate_z = F.silu(z)
        if self.gate_layers is None:  # the mean of the paths' out_proj(y * silu(z)), with one out_proj
            return layer.out_proj(sum(ys) * (gate_z / len(ys)))
        # Gates from the token means of each path's output; out_proj is linear without bias, so the mean of
        # out_proj(v) is out_proj(mean(v)) and the gated sum needs one out_proj.
        vs = [y * gate_z for y in ys]
        means = torch.cat([layer.out_proj(v.mean(1)) for v in vs], dim=-1)  # (B, paths * C)
        g = self.gate_layers[i](means).to(vs[0].dtype)  # (B, paths)
        return layer.out_proj(sum(g[:, k, None, None] * v for k, v in enumerate(vs)))

    def _layer(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return x + self._mix(i, x)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """x: (B, in_channels, H, W), any H and W. Returns one (B, C, ceil(H / p), ceil(W / p)) map per
        ``out_indices`` entry (the last layer's after ``ln1``, the others without a norm)."""
        x = self.patch_embed(x)  # (B, h, w, C), a permuted view of the conv's (B, C, h, w)
        b, h, w, c = x.shape
        # Token-major memory from here on: every later op is per token or along L.
        x = x.flatten(1, 2).contiguous() + resize_pos_embed(self.pos_embed, self.grid_size, (h, w)).to(x.dtype)
        outs = []
        for i in range(self.num_layers):
            if self.with_cp and torch.is_grad_enabled():
                x = cp.checkpoint(self._layer, i, x, use_reentrant=False)
            else:
                x = self._layer(i, x)
            if i == self.num_layers - 1 and self.ln1 is not None:
                x = self.ln1(x)
            if i in self.out_indices:
                outs.append(x.view(b, h, w, c).permute(0, 3, 1, 2).contiguous())  # (B, C, h, w)
        return tuple(outs)

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id for layer-wise lr decay: patch/position embedding and the shared ``pre_norm`` 0, layer
        ``i`` (and its gate) ``i + 1``, everything else (``ln1``, parameters outside ``prefix``)
        ``num_layers + 1``.

        Returns:
            (layer_id, num_layers + 2).
        """
        return columnar_layer_depth(param_name, prefix, self.num_layers,
                                    stem=('patch_embed.', 'pos_embed', 'pre_norm.'),
                                    layers=('layers.', 'gate_layers.'))
