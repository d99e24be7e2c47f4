"""Micro-benchmark of the 2-D DCT inside the heat conduction operator: dense matmuls (what
mmrsfm uses) vs an FFT-based DCT (Makhoul's reordering), eager and under ``torch.compile``.

    python tools/analysis_tools/benchmark_hco.py --grids 14 28 56 128 --channels 128 --batch 8

Prints time per forward DCT-II of a (B, H, W, C) channels-last map, checks both agree with each
other (max abs error), and names the fastest per grid.
"""
import argparse
import math
import time
from typing import Callable, Dict

import torch

from mmrsfm.models.layers import dct_2d_channels_last as dct_matmul  # what the operator uses


def _dct_fft_axis(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Orthonormal DCT-II along ``dim`` with one complex FFT of the even/odd-reordered signal."""
    n = x.shape[dim]
    x = x.movedim(dim, -1)
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    spec = torch.fft.fft(v.float(), dim=-1)
    k = torch.arange(n, device=x.device, dtype=torch.float32)
    out = (spec * torch.exp(-1j * math.pi * k / (2 * n))).real * math.sqrt(2.0 / n)
    out[..., 0] /= math.sqrt(2.0)
    return out.to(x.dtype).movedim(-1, dim)


def dct_fft(x: torch.Tensor) -> torch.Tensor:
    return _dct_fft_axis(_dct_fft_axis(x, 1), 2)


def timeit(fn: Callable, x: torch.Tensor, iters: int) -> float:
    fn(x)
    fn(x)
    if x.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        fn(x)
    if x.is_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--grids', nargs='+', type=int, default=[14, 28, 56, 128])
    parser.add_argument('--channels', type=int, default=128)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--compile', action='store_true', help='also time torch.compile versions')
    args = parser.parse_args()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    methods: Dict[str, Callable] = {'matmul': dct_matmul, 'fft': dct_fft}
    if args.compile:
        methods.update({'matmul+compile': torch.compile(dct_matmul), 'fft+compile': torch.compile(dct_fft)})
    print(f'device {device}, batch {args.batch}, channels {args.channels}, ms per 2-D DCT')
    print(f"{'grid':>6}" + ''.join(f'{m:>16}' for m in methods) + f"{'max|diff|':>12}{'fastest':>16}")
    with torch.no_grad():
        for fn in methods.values():  # library/kernel initialisation off the clock
            fn(torch.randn(1, 4, 4, 4, device=device))
        for n in args.grids:
            x = torch.randn(args.batch, n, n, args.channels, device=device)
            times = {m: timeit(fn, x, args.iters) for m, fn in methods.items()}
            err = (dct_matmul(x) - dct_fft(x)).abs().max().item()
            print(f'{n:>6}' + ''.join(f'{t:>16.3f}' for t in times.values()) +
                  f'{err:>12.1e}{min(times, key=times.get):>16}')


if __name__ == '__main__':
    main()
