"""Export backbones, segmentors, change detectors and single-stage detectors to ONNX or a ``torch.export`` ExportedProgram.

Used by ``tools/deployment/export.py``. The exported graph maps one tensor to tensors:

- a backbone (``--backbone-only``, or a config whose ``model`` is a backbone): (B, bands, H, W) -> the
  tuple of ``out_indices`` feature maps;
- a single-stage detector (e.g. Rotated FCOS): (B, bands, H, W) -> the head's raw per-level outputs,
  flattened (:class:`DenseDetectorGraph`; decoding and NMS stay outside the graph);
- an ``EncoderDecoder`` / ``SiameseEncoderDecoder``: (B, bands, H, W) (a change pair stacked on channels,
  2 x bands) -> (B, num_classes, H, W) logits, i.e. the decode head's output bilinearly resized to the
  *input* resolution as mmseg's ``postprocess_result`` does. Inputs are already normalised: the data
  preprocessor (mean/std, BGR->RGB, padding) is not part of the graph.

Every export first traces with ``torch.export`` (the ONNX file is converted from that program by the
dynamo exporter, ``torch.onnx.export(..., dynamo=True)``), then can be checked against eager PyTorch.

Dynamic H/W (``dynamic=True``): the size is declared as ``stride * k`` with ``k >= 2`` (k = 1 would be
specialised: torch.export treats size-1 dims as static). The program is then run at a second size;
a family whose graph still depends on the export size raises :class:`DynamicShapeError` naming the
reason, so a static graph never passes for a dynamic one. Export overrides (see :func:`export_mode`)
route shape-dependent Python shortcuts through size-generic code with identical results.

Dynamic H/W, as of torch 2.10 / onnxscript 0.7: every backbone family, both formats (RSMamba's scan then
takes one chunk length, ``SYMBOLIC_CHUNK``, and its in-graph loops run as many times as the size needs).
Whole models are checked the same way; known refusal: UPerHead's PPM with pool scales > 1 in ONNX (the
adaptive pooling is frozen at the export size; fine statically and as a dynamic ExportedProgram).
"""
import contextlib
import logging
import math
import os
import os.path as osp
import sys
import time
import warnings
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

# torch 2.10's HOP partitioner sets its own logger to DEBUG (torch/_higher_order_ops/partitioner.py), so
# exporting RSMamba's in-graph scans printed every loop body's forward and backward graph (700+ lines for a
# 4-layer model). Imported first so that its setLevel runs before ours.
import torch._higher_order_ops.partitioner  # noqa: E402
logging.getLogger(torch._higher_order_ops.partitioner.__name__).setLevel(logging.WARNING)

#: Families that cannot have a dynamic H/W and why (checked before exporting); none as of torch 2.10.
NO_DYNAMIC: Dict[str, str] = {}
FORMATS = ('onnx', 'exported-program')
#: Parity bound of the checks: max abs error / max |reference|.
PARITY_TOL = 1e-4


class ExportError(ValueError):
    """The model or the request cannot be exported; the message names the field and the fix."""


class DynamicShapeError(ExportError):
    """A dynamic H/W was asked for a model whose graph depends on the input size."""


class BackboneGraph(nn.Module):
    """A backbone as a tensor -> tuple-of-tensors module."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(self.backbone(x))


class SegmentorGraph(nn.Module):
    """A segmentor's tensor forward (``model._forward``: decode-head logits) resized to the input size."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.align_corners = bool(getattr(model.decode_head, 'align_corners', False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model._forward(x)
        return F.interpolate(logits, size=x.shape[-2:], mode='bilinear', align_corners=self.align_corners)


class DenseDetectorGraph(nn.Module):
    """A single-stage detector's tensor forward (``model._forward``: the head's raw per-level maps, e.g.
    Rotated FCOS's class scores, box and angle regressions and centerness), flattened level by level
    into one tuple. Box decoding and NMS are post-processing (mmdeploy's, or the model's own
    ``bbox_head.predict_by_feat``), not part of the graph."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(t for outputs in self.model._forward(x) for t in outputs)


# -- building -------------------------------------------------------------------------------------------


def load_model(config: str, checkpoint: Optional[str] = None, backbone_only: bool = False,
               cfg_options: Optional[dict] = None) -> Tuple[nn.Module, str]:
    """Build ``config``'s model on CPU, load ``checkpoint`` and wrap it for export.

    Returns:
        (wrapped module in eval mode, kind): kind is 'backbone', 'segmentor' or 'detector' (single-stage).
    """
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope, MODELS, init_default_scope

    from mmrsfm.utils.preflight import check_checkpoint, load_config
    import mmrsfm  # noqa: F401  registers the mmrsfm modules

    cfg = load_config(config, cfg_options)
    if not isinstance(cfg.get('model'), dict):
        raise ExportError(f"config '{config}' has no `model` dict. Fix: pass a model config (e.g. one under "
                          f'configs/seg/ or configs/change_det/), not a dataset or schedule base config.')
    scope = cfg.get('default_scope', 'mmrsfm')
    if DefaultScope.get_current_instance() is None or DefaultScope.get_current_instance().scope_name != scope:
        init_default_scope(scope)
    model_cfg = cfg.model
    if backbone_only:
        if not isinstance(model_cfg.get('backbone'), dict):
            raise ExportError(f"--backbone-only: config '{config}' has no model.backbone. Fix: drop "
                              f'--backbone-only to export the whole model.')
        model_cfg = model_cfg.backbone
    model_cfg = model_cfg.copy()
    if checkpoint is not None:
        check_checkpoint(checkpoint, 'checkpoint')
        # The checkpoint replaces any initialisation; skip loading pretrained weights named in init_cfg.
        model_cfg.pop('init_cfg', None)
        if isinstance(model_cfg.get('backbone'), dict):
            model_cfg.backbone.pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    model = revert_sync_batchnorm(model)  # SyncBN needs a process group; BN is the same in eval mode
    if checkpoint is not None:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, checkpoint, map_location='cpu', strict=not backbone_only,
                        revise_keys=[(r'^backbone\.', '')] if backbone_only else [(r'^module\.', '')])
    if hasattr(model, 'decode_head') and hasattr(model, '_forward'):
        wrapped, kind = SegmentorGraph(model), 'segmentor'
    elif hasattr(model, 'bbox_head') and hasattr(model, '_forward') and not hasattr(model, 'roi_head'):
        wrapped, kind = DenseDetectorGraph(model), 'detector'
    elif hasattr(model, 'forward') and not hasattr(model, 'data_preprocessor'):
        wrapped, kind = BackboneGraph(model), 'backbone'
    elif hasattr(model, 'backbone'):
        raise ExportError(f"{type(model).__name__} is not a segmentor, a single-stage detector or a backbone "
                          f'(two-stage detectors need RPN proposals and mmcv RoI ops in the graph: mmdeploy\'s '
                          f'job). Fix: pass --backbone-only to export its backbone.')
    else:
        wrapped, kind = BackboneGraph(model), 'backbone'
    prepare_for_export(wrapped)
    return wrapped.eval(), kind


def prepare_for_export(module: nn.Module) -> None:
    """Switch off the inference paths that cannot be traced into one graph, in place.

    - RS-vHeat: the low-memory path updates the map in row strips in place and the decay cache keys on
      tensor versions; both are plain-path equivalents (``low_memory_elems=None``, ``cache_decay=False``).
    - RSMamba: ``scan_impl='auto'`` may pick mamba_ssm's CUDA kernel or the Triton custom op, which no
      exporter understands; the chunked pure-PyTorch scan gives the same result, and ``scan_impl='export'``
      writes its loops as in-graph loops (ONNX ``Scan``): unrolled, the chunked scan is ~2,000 graph nodes
      per call at 4,096 tokens, and ``torch.export`` of RSMamba-base at 1024^2 did not finish in 14 min.
      With a dynamic H/W the loops' trip counts follow the token count.
    - Activation checkpointing is a training feature; off.
    """
    for m in module.modules():
        if hasattr(m, 'low_memory_elems'):
            m.low_memory_elems = None
        if getattr(m, 'cache_decay', False):
            m.cache_decay = False
        if getattr(m, 'scan_impl', None) in ('auto', 'cuda', 'triton', 'chunked'):
            m.scan_impl = 'export'
        if getattr(m, 'with_cp', False):
            m.with_cp = False
    module.eval()


def backbone_of(module: nn.Module) -> nn.Module:
    """The backbone inside a wrapped model."""
    inner = module.backbone if isinstance(module, BackboneGraph) else module.model.backbone
    return inner


def size_stride(backbone: nn.Module) -> int:
    """The factor H and W must be a multiple of for a dynamic export: the patch size (times the attention
    window sides) of patch-embedding backbones, the total downsampling of hierarchical ones."""
    if hasattr(backbone, 'stage_channels') and hasattr(backbone, 'num_stages'):  # RS-vHeat: stem /4, then /2 per stage
        return 4 * 2**(backbone.num_stages - 1)
    patch_embed = getattr(backbone, 'patch_embed', None)
    p = getattr(patch_embed, 'patch_size', None)
    if p is None:
        return 32  # e.g. ResNet: five stride-2 stages
    patch = stride = int(max(p) if isinstance(p, (tuple, list)) else p)
    # Window attention pads the token grid to whole windows behind a Python `if`: a dynamic grid must
    # then be a multiple of every window side.
    windows = {int(m.window_size) for m in backbone.modules()
               if m is not backbone and isinstance(getattr(m, 'window_size', None), int) and m.window_size > 0}
    for window in windows:
        stride = math.lcm(stride, patch * window)
    return stride


def num_input_bands(backbone: nn.Module, kind: str, model: nn.Module) -> int:
    """Input channels of the exported graph (a change pair has twice the backbone's bands)."""
    bands = getattr(backbone, 'in_channels', None)
    if bands is None and hasattr(backbone, 'input_bands'):
        bands = backbone.input_bands[0]
    if bands is None:
        conv = next(m for m in backbone.modules() if isinstance(m, nn.Conv2d))
        bands = conv.in_channels
    if isinstance(bands, dict):  # MultiModalRSvHeat: {modality: bands}, stacked on channels
        bands = sum(bands.values())
    if kind == 'segmentor' and type(model.model).__name__ == 'SiameseEncoderDecoder':
        bands *= 2
    return int(bands)


# -- export-mode overrides ------------------------------------------------------------------------------


def _resize_pos_embed_grid(pos_embed: torch.Tensor, size: Tuple[int, int], mode: str = 'bicubic') -> torch.Tensor:
    # Always interpolate: resampling to the same size is exact (bicubic/linear weights are 1 at the
    # sample), and skipping it would specialise the graph on the native grid.
    x = F.interpolate(pos_embed.permute(0, 3, 1, 2).float(), size=tuple(size), mode=mode, align_corners=False)
    return x.permute(0, 2, 3, 1).to(pos_embed.dtype)


def _resize_rel_pos(table: torch.Tensor, length) -> torch.Tensor:
    x = F.interpolate(table.t()[None].float(), size=length, mode='linear', align_corners=False)
    return x[0].t().to(table.dtype)


def _dct(self, n, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    # Computed in the graph from the (symbolic) size instead of a buffer cached per Python int.
    k = torch.arange(n, dtype=torch.float32, device=device)[:, None]
    pos = torch.arange(n, dtype=torch.float32, device=device)[None, :]
    scale = torch.where(k == 0, torch.ones_like(k), torch.full_like(k, 2.0))
    return (torch.cos(k * (pos + 0.5) * (math.pi / n)) * torch.sqrt(scale / n)).to(dtype)


def _bilinear(self, n_out, n_in, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    eye = torch.eye(n_in, dtype=torch.float32, device=device)[None]
    return F.interpolate(eye, size=n_out, mode='linear', align_corners=False)[0].t().to(dtype)


def _frequency_penalty(h, w, device=None) -> torch.Tensor:
    # linspace(0, pi, h + 1)[:h] has a data-dependent length for the exporter; k * pi / h is the same grid.
    wn = torch.arange(h, dtype=torch.float32, device=device) * (math.pi / h)
    wm = torch.arange(w, dtype=torch.float32, device=device) * (math.pi / w)
    return wn[:, None]**2 + wm[None, :]**2


def _neg_penalty(self, h, w, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return -_frequency_penalty(h, w, device)[..., None].to(dtype)


def _masked_sdpa(original):
    """``F.scaled_dot_product_attention`` with an ``attn_mask`` as explicit softmax(QK^T * scale + mask) V."""

    def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **kwargs):
        if attn_mask is None or dropout_p or is_causal or kwargs:
            return original(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale,
                            **kwargs)
        logits = torch.matmul(q, k.transpose(-2, -1)) * (scale if scale is not None else q.shape[-1]**-0.5)
        if attn_mask.dtype == torch.bool:
            logits = logits.masked_fill(~attn_mask, float('-inf'))
        else:
            logits = logits + attn_mask
        return torch.matmul(logits.softmax(-1), v)

    return sdpa


@contextlib.contextmanager
def export_mode(dynamic: bool) -> Iterator[None]:
    """Tracing overrides, all with the eager results:

    - always: attention with a mask (ScalableViT's relative-position bias) is traced as explicit
      softmax(QK^T)V: the ONNX exporter's decomposition of the fused op with a mask fails (torch 2.10:
      "Cannot view a tensor ... as a tensor with shape ...");
    - with a dynamic H/W: the size-keyed shortcuts of the mmrsfm layers become size-generic code:
      position-embedding and relative-position-table resizes always interpolate, RS-vHeat's DCT/resampling
      bases and frequency grid are computed from the symbolic size (not cached per int), and ``resize_grid``
      always resamples.
    """
    sdpa = F.scaled_dot_product_attention
    F.scaled_dot_product_attention = _masked_sdpa(sdpa)
    try:
        if dynamic:
            with _dynamic_overrides():
                yield
        else:
            yield
    finally:
        F.scaled_dot_product_attention = sdpa


@contextlib.contextmanager
def _dynamic_overrides() -> Iterator[None]:
    from mmrsfm.models.layers import attention, dct, pos_embed

    def resize_grid(embed: torch.Tensor, size, cache=None) -> torch.Tensor:
        cache = cache or dct._DEFAULT_CACHE
        m_h = cache.bilinear(size[0], embed.shape[0], embed.device, embed.dtype)
        m_w = cache.bilinear(size[1], embed.shape[1], embed.device, embed.dtype)
        return dct.separable_2d_channels_last(embed[None], m_h, m_w)[0]

    replace = {pos_embed.resize_pos_embed_grid: _resize_pos_embed_grid, dct.resize_grid: resize_grid,
               dct.frequency_penalty: _frequency_penalty, attention.resize_rel_pos: _resize_rel_pos}
    undo: List[Tuple[object, str, object]] = []
    for name, mod in list(sys.modules.items()):  # every `from ... import` binding in mmrsfm
        if not name.startswith('mmrsfm') or mod is None:
            continue
        for attr, value in list(vars(mod).items()):
            for old, new in replace.items():
                if value is old:
                    undo.append((mod, attr, value))
                    setattr(mod, attr, new)
    for attr, new in (('dct', _dct), ('bilinear', _bilinear), ('neg_penalty', _neg_penalty)):
        undo.append((dct.BasisCache, attr, getattr(dct.BasisCache, attr)))
        setattr(dct.BasisCache, attr, new)
    try:
        yield
    finally:
        for owner, attr, value in reversed(undo):
            setattr(owner, attr, value)


# -- export and check -----------------------------------------------------------------------------------


def _flat(out) -> List[torch.Tensor]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def parity(ref: Sequence[torch.Tensor], out: Sequence[torch.Tensor]) -> Tuple[float, float]:
    """(max abs error, max abs error / max |ref|) over all outputs; shapes must match."""
    if len(ref) != len(out):
        raise AssertionError(f'{len(out)} outputs, expected {len(ref)}')
    abs_err, rel_err = 0., 0.
    for r, o in zip(ref, out):
        o = torch.as_tensor(o)
        if tuple(o.shape) != tuple(r.shape):
            raise AssertionError(f'output shape {tuple(o.shape)}, expected {tuple(r.shape)}')
        err = (o.float() - r.float()).abs().max().item()
        abs_err = max(abs_err, err)
        rel_err = max(rel_err, err / max(r.abs().max().item(), 1e-12))
    return abs_err, rel_err


def check_shape(name: str, shape: Tuple[int, int], stride: int, dynamic: bool) -> None:
    """Dynamic exports need H and W multiples of ``stride`` of at least 2 x stride."""
    if not dynamic:
        return
    h, w = shape
    if h % stride or w % stride or h < 2 * stride or w < 2 * stride:
        fix_h, fix_w = (max(2, -(-v // stride)) * stride for v in shape)
        raise ExportError(f'--shape {h} {w}: a dynamic export of {name} needs H and W multiples of {stride} '
                          f'(its patch size / total stride), at least {2 * stride}. Fix: --shape {fix_h} {fix_w}, '
                          f'or drop --dynamic (a static graph pads other sizes).')


def second_shape(shape: Tuple[int, int], stride: int) -> Tuple[int, int]:
    """Another size for checking a dynamic graph: one more stride in H, one less (or more) in W."""
    h, w = shape
    return h + stride, (w - stride if w >= 3 * stride else w + 2 * stride)


def export_program(module: nn.Module, x: torch.Tensor, dynamic: bool, stride: int):
    """``torch.export.export`` of ``module`` on ``x``; H and W as ``stride * k`` (k >= 2) when dynamic."""
    shapes = None
    if dynamic:
        dim = torch.export.Dim
        shapes = {'x': {2: stride * dim('h_blocks', min=2, max=4096 // stride),
                        3: stride * dim('w_blocks', min=2, max=4096 // stride)}}
    with torch.no_grad(), export_mode(dynamic):
        return torch.export.export(module, (x, ), dynamic_shapes=shapes)


def verify_dynamic(program, module: nn.Module, name: str, x2: torch.Tensor) -> Tuple[float, float]:
    """Run ``program`` at a second size; a guard failure means the graph is not really dynamic."""
    with torch.no_grad():
        ref = _flat(module(x2))
        try:
            out = _flat(program.module()(x2))
        except (AssertionError, RuntimeError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise DynamicShapeError(
                f'{name} cannot be exported with a dynamic H/W: the traced graph only accepts the export size '
                f'({reason}). Fix: drop --dynamic and export one graph per input size.') from e
    return parity(ref, out)


def run_onnx(path: str, x: torch.Tensor) -> List[torch.Tensor]:
    """Outputs of an ONNX file under ONNX Runtime's CPU provider."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
    return [torch.from_numpy(o) for o in sess.run(None, {sess.get_inputs()[0].name: x.numpy()})]


def _check_dynamic_onnx(path: str, module: nn.Module, name: str, x2: torch.Tensor) -> None:
    """A dynamic ONNX graph must also be right at a second size: some ops convert with constants taken
    from the export size (e.g. ``AdaptiveAvgPool2d(s > 1)`` becomes a fixed-kernel AveragePool)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        warnings.warn(f'{name}: onnxruntime is not installed, so the dynamic ONNX graph was not checked at a '
                      f'second size; pip install onnxruntime to check it')
        return
    with torch.no_grad():
        abs_err, rel_err = parity(_flat(module(x2)), run_onnx(path, x2))
    if rel_err > PARITY_TOL:
        raise DynamicShapeError(
            f'{name}: the dynamic ONNX graph is wrong at {tuple(x2.shape[-2:])} (max rel err {rel_err:.3g} vs '
            f'PyTorch; the exporter froze a size-dependent op at the export size, e.g. AdaptiveAvgPool2d with an '
            f'output size > 1 in a PPM head). Fix: drop --dynamic, or use --format exported-program.')


def export(config: str, checkpoint: Optional[str] = None, fmt: str = 'onnx', shape: Tuple[int, int] = (512, 512),
           dynamic: bool = False, out: Optional[str] = None, opset: int = 18, check: bool = False,
           backbone_only: bool = False, batch: int = 1, cfg_options: Optional[dict] = None,
           log=print) -> dict:
    """Export ``config``'s model (see the module docstring); returns a report dict.

    Args:
        fmt: 'onnx' or 'exported-program' (a ``torch.export.save`` .pt2 file).
        shape: Export (H, W).
        dynamic: Dynamic H and W (multiples of the patch size / stride); an error for families that
            cannot have them (:data:`NO_DYNAMIC`).
        check: Compare the exported graph with eager PyTorch at the export size (and at a second size
            when dynamic): ONNX Runtime CPU for ONNX, the loaded program for ExportedProgram.
    """
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r} is not one of {FORMATS}")
    module, kind = load_model(config, checkpoint, backbone_only, cfg_options)
    backbone = backbone_of(module)
    name = type(backbone).__name__
    if kind in ('segmentor', 'detector'):
        name = f'{type(module.model).__name__}({name})'
    family = type(backbone).__name__
    if dynamic and family in NO_DYNAMIC:
        raise DynamicShapeError(f'{name} cannot be exported with a dynamic H/W: {NO_DYNAMIC[family]}. '
                                f'Fix: drop --dynamic and export one graph per input size.')
    stride = size_stride(backbone)
    scales = getattr(getattr(getattr(module, 'model', None), 'neck', None), 'scale_factors', None)
    if scales and min(scales) < 1:  # SimpleFPN's downsampled levels: odd grids would take another branch
        stride = math.lcm(stride, int(round(stride / min(scales))))
    check_shape(name, shape, stride, dynamic)
    bands = num_input_bands(backbone, kind, module)
    if out is None:
        stem = osp.splitext(osp.basename(config))[0] + ('_backbone' if backbone_only else '')
        out = osp.join('work_dirs', 'export', stem + ('.onnx' if fmt == 'onnx' else '.pt2'))
    torch.manual_seed(0)
    x = torch.randn(batch, bands, *shape)
    report = dict(model=name, kind=kind, format=fmt, out=out, shape=tuple(shape), bands=bands,
                  dynamic=dynamic, stride=stride)

    with torch.no_grad():
        # One eager pass first: caches filled on first use (e.g. RS-vHeat's DCT bases, registered as
        # buffers) must hold real tensors, not the exporter's fake ones.
        module(x)
    t0 = time.perf_counter()
    program = export_program(module, x, dynamic, stride)
    shapes = [tuple(shape)]
    if dynamic:
        x2 = torch.randn(batch, bands, *second_shape(shape, stride))
        shapes.append(tuple(x2.shape[-2:]))
        report['traced_second_size'] = verify_dynamic(program, module, name, x2)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if fmt == 'onnx':
        try:
            onnx_program = torch.onnx.export(program, (x, ), dynamo=True, opset_version=opset, verbose=False,
                                             input_names=['inputs'], optimize=True)
        except Exception as e:  # the exporter's own error types; re-raised with the way out
            if not dynamic:
                raise ExportError(
                    f'{name}: the ONNX conversion failed ({type(e).__name__}: {str(e).splitlines()[0][:300]}). '
                    f'Fix: use --format exported-program (the same graph, run by torch).') from e
            raise DynamicShapeError(
                f'{name}: torch.export traced a dynamic H/W, but the ONNX conversion of that graph failed '
                f'({type(e).__name__}: {str(e).splitlines()[0]}). Fix: drop --dynamic, or use '
                f'--format exported-program (dynamic H/W works there).') from e
        onnx_program.save(out)
        if dynamic:
            _check_dynamic_onnx(out, module, name, x2)
    else:
        torch.export.save(program, out)
    report['export_s'] = time.perf_counter() - t0
    log(f'exported {name} ({kind}) to {out} [{fmt}, input (B, {bands}, H, W) at {shape[0]}x{shape[1]}'
        f'{", dynamic H/W: multiples of " + str(stride) if dynamic else ", static"}] in {report["export_s"]:.1f} s')

    if check:
        t0 = time.perf_counter()
        report['parity'] = {}
        loaded = torch.export.load(out) if fmt == 'exported-program' else None
        for i, size in enumerate(shapes):
            xi = x if i == 0 else torch.randn(batch, bands, *size)
            with torch.no_grad():
                ref = _flat(module(xi))
                got = run_onnx(out, xi) if fmt == 'onnx' else _flat(loaded.module()(xi))
            abs_err, rel_err = parity(ref, got)
            report['parity'][size] = (abs_err, rel_err)
            log(f'check {"onnxruntime" if fmt == "onnx" else "torch.export.load"} vs PyTorch at {size[0]}x{size[1]}: '
                f'max abs err {abs_err:.3g}, max rel err (abs / max|ref|) {rel_err:.3g}')
        report['check_s'] = time.perf_counter() - t0
    return report
