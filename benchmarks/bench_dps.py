"""DPS training and inference cost, and the value of the learned mask without a network.

32x32 lines-and-circles images, 8x (M = 128 of 1024). Reports seconds per
training epoch (DPS sampler + unrolled ISTA with CNN, and the same model with a
fixed mask), inference time per image (batch 1 and 128), and plain csbox FISTA
(l1 on db2 wavelets, no network) with the learned mask against uniform random
and variable-density masks of the same rate. Run: ``python benchmarks/bench_dps.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from _timing import versions
from csbox import sampling
from csbox.metrics import psnr
from csbox.operators import FFT, PartialFourier, Wavelet
from csbox.phantoms import lines_and_circles
from csbox.sampling.dps import DPSSampler, evaluate, train_dps
from csbox.sampling.unrolled import UnrolledISTA


def fixed_masks(size: int, M: int) -> dict[str, np.ndarray]:
    """Uniform random and Gaussian variable-density masks of M samples (the dps-fourier demo's)."""
    return {
        "uniform random": sampling.uniform_random((size, size), M, seed=0),
        "variable density": sampling.variable_density((size, size), M, density="gauss", sigma=0.25, seed=0),
    }


def fista_with_mask(images: np.ndarray, mask: np.ndarray) -> float:
    """Mean PSNR of plain csbox FISTA (l1 on db2 wavelets, no network) with ``mask``."""
    from csbox.solvers import fista

    A = PartialFourier(images.shape[1:], mask, centered=True)
    W = Wavelet(images.shape[1:], "db2", level=2)
    res = fista(A, A @ images, lam_rel=0.02, transform=W, max_iter=150, tol=None)
    return float(np.mean([psnr(x, ref, peak=1.0) for x, ref in zip(res.x, images, strict=True)]))


def main() -> None:
    print(versions("numpy", "torch", "csbox"), "| torch threads:", torch.get_num_threads(),
          "| device:", "cuda" if torch.cuda.is_available() else "cpu")
    size, M = 32, 128
    train = lines_and_circles(2000, size, seed=0)
    val = lines_and_circles(300, size, seed=1)
    sampler = DPSSampler(size * size, M, shape=(size, size), seed=0)
    model = UnrolledISTA((size, size), n_iter=4, cnn_width=16)
    h = train_dps(model, train, sampler=sampler, epochs=6, lr=1e-3, progress=False)
    print(f"DPS training: {np.mean(h['seconds_per_epoch'][1:]):.2f} s/epoch (2000 images, batch 32)")
    fixed = fixed_masks(size, M)
    m2 = UnrolledISTA((size, size), n_iter=4, cnn_width=16)
    h2 = train_dps(m2, train, mask=fixed["uniform random"], epochs=3, lr=1e-3, progress=False)
    print(f"fixed-mask training: {np.mean(h2['seconds_per_epoch'][1:]):.2f} s/epoch")
    F = FFT((size, size), centered=True)
    dev = next(model.parameters()).device
    mask = torch.as_tensor(sampler.mask_.astype(np.float32), device=dev)
    model.eval()
    for b in (1, 128):
        xb = torch.as_tensor(val[:b], dtype=torch.complex64, device=dev)
        mb = mask.expand(b, size, size)
        y = mb.to(torch.complex64) * (F @ xb)
        with torch.no_grad():
            model(y, mb)
            t0 = time.perf_counter()
            for _ in range(10):
                model(y, mb)
            dt = (time.perf_counter() - t0) / 10
        print(f"inference, batch {b:3d}: {dt / b * 1e3:.3f} ms per image")
    print(f"learned mask + its model: {evaluate(model, val, sampler.mask_)}")
    print("plain csbox FISTA (no network), mean PSNR on 100 held-out images:")
    for name, msk in (("DPS (learned)", sampler.mask_), *fixed.items()):
        print(f"  {name:<20} {fista_with_mask(val[:100], msk):.2f} dB")


if __name__ == "__main__":
    main()
