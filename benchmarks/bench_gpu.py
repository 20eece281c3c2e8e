"""The same csbox code on NumPy (CPU) and on CuPy / torch CUDA arrays, when a GPU is present.

Times one PartialFourier and one Wavelet (db4, 4 levels) forward+adjoint pair,
a 3-factor 64x64 Kronecker apply, and 100 FISTA iterations of the CS-MRI
problem (complex64) at 256x256 and 512x512. Prints ms per call and the
speed-up over NumPy in the same run. Run: ``python benchmarks/bench_gpu.py``.
"""

from __future__ import annotations

import time

import numpy as np
from _problems import cs_mri_problem

from _timing import versions
from csbox.backend import to_numpy
from csbox.metrics import psnr
from csbox.operators import Kronecker, Wavelet
from csbox.penalties import L1
from csbox.phantoms import shepp_logan
from csbox.solvers import fista


def _backends():
    out = [("numpy", lambda a: a, lambda: None)]
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            out.append(("cupy", cupy.asarray, cupy.cuda.Device().synchronize))
    except Exception:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            out.append(("torch-cuda", lambda a: torch.as_tensor(a, device="cuda"), torch.cuda.synchronize))
    except Exception:
        pass
    return out


def timed(fn, sync, repeat=5):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    print(versions("numpy", "cupy", "torch", "csbox"))
    backends = _backends()
    rng = np.random.default_rng(0)
    results: dict[str, dict[str, float]] = {}
    for n in (256, 512):
        img = shepp_logan(n)
        A, y = cs_mri_problem(img, 4)
        W = Wavelet((n, n), "db4", level=4)
        lam = 1e-3 * float(np.abs(W @ (A.H @ y)).max())
        for name, to, sync in backends:
            yd = to(y)
            xd = A.H @ yd
            r = results.setdefault(name, {})
            r[f"PF pair {n}"] = timed(lambda A=A, xd=xd: A.H @ (A @ xd), sync)
            r[f"W pair {n}"] = timed(lambda W=W, xd=xd: W.H @ (W @ xd), sync)

            def solve(A=A, yd=yd, W=W, lam=lam):
                return fista(A, yd, lam, penalty=L1().in_basis(W), max_iter=100, tol=None, check_every=100)

            r[f"FISTA x100 {n}"] = timed(solve, sync, repeat=2)
            r[f"PSNR {n}"] = psnr(to_numpy(solve().x), img)
    mats = [rng.standard_normal((64, 64)) for _ in range(3)]
    K = Kronecker(*mats)
    v = rng.standard_normal((8, 64**3))
    for name, to, sync in backends:
        vd = to(v)
        results[name]["Kron 3x64 (batch 8)"] = timed(lambda vd=vd: K @ vd, sync)
    from csbox.ot import sinkhorn
    from csbox.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, linear_scan

    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    scan = linear_scan(32, 2 * wf.wavelength, height_dev=0.03)
    A = MIMOSAR(arr, wf, scan, ImageGrid.yz((-0.1, 0.1), (0.3, 0.7), 200, 200))
    s = A @ np.ones(A.ishape)
    n = 2000
    a = np.full(n, 1.0 / n)
    C = rng.random((n, n))
    for name, to, sync in backends:
        sd = to(s)
        results[name]["SAR BPA 200x200"] = timed(lambda sd=sd: A.H @ sd, sync, repeat=2)
        ad, Cd = to(a), to(C)
        results[name]["Sinkhorn n=2000 x200"] = timed(
            lambda ad=ad, Cd=Cd: sinkhorn(ad, ad, Cd, 1 / 1200, max_iter=200, tol=0.0), sync, repeat=2)
    keys = [k for k in results["numpy"] if not k.startswith("PSNR")]
    print(f"{'case':<24}" + "".join(f"{b:>14}" for b in results) + "   speed-up vs numpy")
    for k in keys:
        base = results["numpy"][k]
        row = "".join(f"{results[b][k] * 1e3:>12.2f}ms" for b in results)
        sp = ", ".join(f"{b} {base / results[b][k]:.1f}x" for b in results if b != "numpy")
        print(f"{k:<24}{row}   {sp}")
    for n in (256, 512):
        print(f"PSNR {n}: " + ", ".join(f"{b} {results[b][f'PSNR {n}']:.2f} dB" for b in results))


if __name__ == "__main__":
    main()
