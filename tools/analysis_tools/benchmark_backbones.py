"""Throughput, peak memory, parameters and FLOPs of backbones, beside ViT-B/16 in the same run.

    python tools/analysis_tools/benchmark_backbones.py --sizes 224 512 --dtypes fp32 \
        --models "RSvHeat:arch=rs-base" "RSvHeat:arch=tiny" --out bench.json

Each ``--models`` entry is ``Type[:key=value,...]`` (any backbone registered in mmrsfm; values parsed
as Python literals). The baseline is ViT-B/16 built from torchvision's modules with attention through
``F.scaled_dot_product_attention`` (fused/flash kernels on GPU and CPU); it is built for each size
(its position embedding is sized at construction). GPU: synchronised timing and ``max_memory_allocated``; CPU:
wall-clock timing and peak-RSS growth, each measurement in its own process so that one model's
high-water mark does not hide another's. Launch counts per image (one image, inference; see
:mod:`mmrsfm.utils.op_count`): the ATen ops of one eager forward on this device (all, and the kernel ops
among them: each is at least one launch on a GPU), the kernel ops of the path a GPU forward takes (counted
on the meta device: RS-vHeat's GPU strip threshold, RSMamba's one-launch Triton scan), and for
``[compiled]`` rows the kernel launches in inductor's generated code. ``--ort`` adds an ONNX Runtime row
per model (exported with :mod:`mmrsfm.apis.export`, CPU execution provider). Prints a table, writes JSON.
"""
import argparse
import ast
import json
import re
import resource
import subprocess
import sys
import time
from contextlib import nullcontext
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

import mmrsfm  # noqa: F401
from mmrsfm.registry import MODELS
from mmrsfm.utils.op_count import count_compiled_launches, count_forward_ops, count_gpu_path_ops

def _register_cpu_sdpa_flops() -> None:
    """torch's FLOP counter knows the CUDA SDPA kernels but not the CPU flash kernel; count it with
    the same formula (2 matmuls of the attention), so ViT-B's FLOPs on CPU include attention."""
    op = getattr(torch.ops.aten, '_scaled_dot_product_flash_attention_for_cpu', None)
    if op is None or op in flop_counter.flop_registry:
        return

    @flop_counter.register_flop_formula(op)
    def _flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
        return flop_counter.sdpa_flop_count(query, key, value)  # the registry passes shapes


_register_cpu_sdpa_flops()

DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def parse_model(spec: str) -> dict:
    """'RSvHeat:arch=tiny,img_size=512' -> dict(type='mmrsfm.RSvHeat', ...)."""
    name, _, args = spec.partition(':')
    cfg = dict(type=name if '.' in name else f'mmrsfm.{name}')
    for item in filter(None, re.split(r',(?=\s*\w+=)', args)):  # commas inside literals stay
        key, _, value = item.partition('=')
        try:
            cfg[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            cfg[key] = value
    return cfg


BASELINE = 'ViT-B/16 (SDPA)'


def build_backbone(cfg: dict, size: int) -> torch.nn.Module:
    """An mmrsfm backbone with ``img_size`` = the benchmark size unless the spec sets it."""
    model = MODELS.build(dict(cfg, img_size=size) if 'img_size' not in cfg else cfg)
    model.init_weights()
    return model


def vit_b16(size: int) -> torch.nn.Module:
    from torchvision.models import vit_b_16

    class Features(torch.nn.Module):
        """torchvision's ViT-B/16 (its modules and parameters), without the classifier, with each
        block's attention computed by ``F.scaled_dot_product_attention``. torchvision's own
        ``nn.MultiheadAttention`` inference path materialises the (N x N) attention matrix on CPU
        (12.7 GB per image at 2048^2), which would make a weak baseline."""

        def __init__(self) -> None:
            super().__init__()
            self.vit = vit_b_16(image_size=size)

        @staticmethod
        def attention(mha: torch.nn.MultiheadAttention, x: torch.Tensor) -> torch.Tensor:
            b, n, c = x.shape
            qkv = F.linear(x, mha.in_proj_weight, mha.in_proj_bias).view(b, n, 3, mha.num_heads, -1)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, N, head_dim)
            out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)
            return mha.out_proj(out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.vit._process_input(x)
            x = torch.cat([self.vit.class_token.expand(x.shape[0], -1, -1), x], dim=1)
            x = x + self.vit.encoder.pos_embedding
            for block in self.vit.encoder.layers:
                x = x + self.attention(block.self_attention, block.ln_1(x))
                x = x + block.mlp(block.ln_2(x))
            return self.vit.encoder.ln(x)

    return Features()


def measure(model: torch.nn.Module, size: int, dtype: str, batch: int, device: str, train: bool,
            warmup: int, iters: int, compile_backend: Optional[str] = None) -> Dict[str, Optional[float]]:
    """Times ``torch.compile(model, backend=compile_backend)`` when a backend is given, compiled
    during the warm-up (then at least two steps: a fresh RS-vHeat creates its DCT-basis buffers on the
    first call, and the changed module recompiles once on the second); FLOPs and op counts are the
    eager model's."""
    model = model.to(device).train(train)
    x = torch.randn(batch, 3, size, size, device=device)
    timed = torch.compile(model, backend=compile_backend) if compile_backend else model
    autocast = torch.autocast(device_type=device, dtype=DTYPES[dtype]) if dtype != 'fp32' else nullcontext()

    def step() -> None:
        with autocast, (nullcontext() if train else torch.no_grad()):
            out = timed(x)
            if train:
                sum(o.float().mean() for o in (out if isinstance(out, (tuple, list)) else [out])).backward()

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for _ in range(max(warmup, 2) if compile_backend else warmup):
        step()
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    if device == 'cuda':
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if device == 'cuda':
        mem = torch.cuda.max_memory_allocated() / batch / 2**20
    else:
        mem = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024 / batch
    with torch.no_grad(), FlopCounterMode(display=False) as counter:  # after timing: memory unaffected
        model.eval()(x[:1])
    ops = count_forward_ops(model, x[:1])  # one image, eager: each kernel op is >= 1 launch on a GPU
    gpu_ops = count_gpu_path_ops(model, x[:1])
    launches = None
    if compile_backend == 'inductor':
        torch._dynamo.reset()  # count the graph the timing compiled, from inductor's code (its cache hits)
        launches = count_compiled_launches(model.eval(), x[:1])['kernels']
    return dict(img_per_s=batch * iters / seconds, mb_per_img=mem,
                params_m=sum(p.numel() for p in model.parameters()) / 1e6,
                gflops_per_img=counter.get_total_flops() / 1e9,  # FLOPs (2 x MACs), the convention of the papers' tables
                ops_per_img=ops['total'], kernel_ops_per_img=ops['kernels'], gpu_path_kernels=gpu_ops['kernels'],
                compiled_launches=launches)


def measure_ort(model: torch.nn.Module, size: int, batch: int, warmup: int, iters: int) -> Dict[str, Optional[float]]:
    """Export ``model`` to ONNX (static size, as ``tools/deployment/export.py``) and time ONNX Runtime on CPU;
    checks parity with PyTorch first (max relative error in the result)."""
    import tempfile

    import onnxruntime as ort

    from mmrsfm.apis.export import export_program, parity, prepare_for_export
    prepare_for_export(model)
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        ref = model(x)
    t0 = time.perf_counter()
    program = export_program(model, x, dynamic=False, stride=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = f'{tmp}/model.onnx'
        torch.onnx.export(program, (x, ), dynamo=True, opset_version=18, verbose=False, optimize=True).save(path)
        export_s = time.perf_counter() - t0
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        sess = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
    feed = {sess.get_inputs()[0].name: x.numpy()}
    out = [torch.from_numpy(o) for o in sess.run(None, feed)]
    _, rel = parity(ref if isinstance(ref, (tuple, list)) else [ref], out)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(warmup):
        sess.run(None, feed)
    start = time.perf_counter()
    for _ in range(iters):
        sess.run(None, feed)
    seconds = time.perf_counter() - start
    return dict(img_per_s=batch * iters / seconds,
                mb_per_img=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024 / batch,
                params_m=sum(p.numel() for p in model.parameters()) / 1e6, gflops_per_img=None, ops_per_img=None,
                kernel_ops_per_img=None, gpu_path_kernels=None, compiled_launches=None, ort_rel_err=rel,
                export_s=export_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--models', nargs='+', default=['RSvHeat:arch=rs-base'])
    parser.add_argument('--sizes', nargs='+', type=int, default=[224])
    parser.add_argument('--dtypes', nargs='+', choices=sorted(DTYPES), default=['fp32'])
    parser.add_argument('--batch', type=int, default=None, help='default: max(1, 64*(224/size)^2) on GPU, 1 on CPU')
    parser.add_argument('--train', action='store_true', help='time forward + backward instead of inference')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--reparameterize', action='store_true',
                        help='also measure each model that has reparameterize(input_size) in that '
                        'inference mode (e.g. RS-vHeat with precomputed decay), as a separate row')
    parser.add_argument('--compile', action='store_true',
                        help='also measure each model (and the baseline) under torch.compile, as a separate '
                        '[compiled] row next to its eager row (compilation happens in the warm-up)')
    parser.add_argument('--compile-backend', default='inductor', help='torch.compile backend for --compile')
    parser.add_argument('--ort', action='store_true',
                        help='also export each model (and the baseline) to ONNX and time ONNX Runtime on CPU, as '
                        'an [onnxruntime] row (fp32 inference only)')
    parser.add_argument('--no-baseline', action='store_true', help='skip ViT-B/16')
    parser.add_argument('--out', help='write results as JSON here')
    parser.add_argument('--worker', help=argparse.SUPPRESS)  # internal: one measurement, JSON on stdout
    args = parser.parse_args()
    if args.worker:
        job = json.loads(args.worker)
        model = vit_b16(job['size']) if job['spec'] is None else build_backbone(parse_model(job['spec']), job['size'])
        if job.get('reparam'):
            model.reparameterize((job['size'], job['size']))
        torch.manual_seed(0)
        if job.get('ort'):
            print('RESULT ' + json.dumps(measure_ort(model.eval(), job['size'], job['batch'], args.warmup,
                                                     args.iters)))
            return
        print('RESULT ' + json.dumps(measure(model, job['size'], job['dtype'], job['batch'], job['device'],
                                             args.train, args.warmup, args.iters,
                                             args.compile_backend if job.get('compile') else None)))
        return

    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    names = ([] if args.no_baseline else [(BASELINE, None, False)]) + [(spec, spec, False) for spec in args.models]
    if args.reparameterize:
        names += [(spec + ' [reparam]', spec, True) for spec in args.models
                  if hasattr(MODELS.get(parse_model(spec)['type']), 'reparameterize')]
    # (row name, spec, reparam, mode): with --compile / --ort every eager row is followed by its compiled /
    # ONNX Runtime row
    extra = ([('compile', ' [compiled]')] if args.compile else []) + ([('ort', ' [onnxruntime]')] if args.ort else [])
    names = [row for name, spec, reparam in names
             for row in [(name, spec, reparam, None)] + [(name + tag, spec, reparam, mode) for mode, tag in extra]]

    header = (f"{'model':<42}{'size':>6}{'dtype':>6}{'img/s':>10}{'x ViT-B':>9}{'MB/img':>9}{'params M':>10}"
              f"{'GFLOPs':>9}{'ATen ops':>10}{'kernels':>9}{'GPU-path':>10}{'compiled':>10}")
    print(f'device: {torch.cuda.get_device_name() if device == "cuda" else "cpu"}, torch {torch.__version__}, '
          f'threads {torch.get_num_threads()}\n{header}', flush=True)
    rows = []
    for size in args.sizes:
        batch = args.batch or (max(1, int(64 * (224 / size)**2)) if device == 'cuda' else 1)
        for dtype in args.dtypes:
            for name, spec, reparam, mode in names:
                if mode == 'ort' and (dtype != 'fp32' or args.train):
                    continue
                job = json.dumps(dict(spec=spec, size=size, dtype=dtype, batch=batch, device=device, reparam=reparam,
                                      compile=mode == 'compile', ort=mode == 'ort'))
                cmd = [sys.executable, __file__, '--worker', job, '--warmup', str(args.warmup),
                       '--iters', str(args.iters), '--compile-backend', args.compile_backend] + (
                           ['--train'] if args.train else [])
                proc = subprocess.run(cmd, capture_output=True, text=True)
                lines = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')]
                if proc.returncode != 0 or not lines:
                    raise RuntimeError(f'measuring {name} at {size} {dtype} failed:\n{proc.stderr[-3000:]}')
                result = json.loads(lines[-1][len('RESULT '):])
                rows.append(dict(model=name, size=size, dtype=dtype, batch=batch, device=device,
                                 mode='train' if args.train else 'infer', **result))
                base = next((r for r in rows if r['model'] == BASELINE and r['size'] == size
                             and r['dtype'] == dtype), None)
                rows[-1]['vs_vit_b16'] = rows[-1]['img_per_s'] / base['img_per_s'] if base else None
                # Each row as soon as it is measured (a long run that is stopped keeps what it measured).
                print(format_row(rows[-1]), flush=True)
                if args.out:
                    with open(args.out, 'w') as f:
                        json.dump(rows, f, indent=2)


def format_row(r: dict) -> str:
    """One table line of a result row."""
    mem = f"{r['mb_per_img']:.1f}" if r['mb_per_img'] is not None else 'n/a'
    ratio = f"{r['vs_vit_b16']:.2f}" if r['vs_vit_b16'] is not None else '-'
    tag = re.search(r'( \[[^\]]+\])*$', r['model']).group(0)  # keep ' [reparam] [compiled]' visible
    label = r['model'] if len(r['model']) <= 41 else r['model'][:41 - len(tag)] + tag
    cols = [f"{r[k]:>{w}}" if r.get(k) is not None else f"{'-':>{w}}"
            for k, w in (('ops_per_img', 10), ('kernel_ops_per_img', 9), ('gpu_path_kernels', 10),
                         ('compiled_launches', 10))]
    flops = f"{r['gflops_per_img']:>9.1f}" if r.get('gflops_per_img') is not None else f"{'-':>9}"
    return (f"{label:<42}{r['size']:>6}{r['dtype']:>6}{r['img_per_s']:>10.2f}{ratio:>9}{mem:>9}"
            f"{r['params_m']:>10.2f}{flops}{''.join(cols)}"
            + (f"  (ORT max rel err {r['ort_rel_err']:.1e}, export {r['export_s']:.0f} s)" if 'ort_rel_err' in r
               else ''))


if __name__ == '__main__':
    main()
