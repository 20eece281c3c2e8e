"""The same csbox code on NumPy (CPU) and on CuPy / torch CUDA arrays, when a GPU is present.

One table, CPU and GPU side by side (best of repeats, ms per call, speed-up over NumPy
in the same run):

- operator pairs: PartialFourier and Wavelet (db4, 4 levels) forward + adjoint at 512^2,
  a 3-factor 64^3 Kronecker apply (batch 8);
- FISTA: 100 l1-wavelet iterations of the CS-MRI problem (complex64) at 512^2 (PSNR printed);
- l1-SENSE: 20 FISTA iterations, 16 coils at 320^2 (birdcage maps, Cartesian 4x);
- NUFFT: radial 2-D, 256^2 image, 402 golden-angle spokes of 512 samples, forward + adjoint;
- ESPIRiT: maps from 8-coil 256^2 k-space (24^2 calibration);
- TV: ``tv_denoise`` 512^2, 100 FGP iterations (NumPy runs the fused kernel, the GPUs the
  array-API step);
- SAR back-projection 200x200 and 200 Sinkhorn iterations at n = 2000.

A case that fails on a backend prints ``failed`` in its cell and the error below the table.
Run: ``python benchmarks/bench_gpu.py`` (``benchmarks/gpu.sh`` installs the ``gpu`` extra
and runs it with the CUDA test subset).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from _problems import cs_mri_problem

from _timing import versions
from csbox.backend import to_numpy
from csbox.metrics import psnr
from csbox.operators import NUFFT, Kronecker, Wavelet
from csbox.penalties import L1
from csbox.phantoms import shepp_logan
from csbox.solvers import fista, tv_denoise


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


def timed(fn, sync, repeat=3):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def _on(fn: Callable, *host: np.ndarray) -> Callable:
    """``make(to)``: moves ``host`` with ``to`` once and returns the call ``fn(*moved)`` to time."""

    def make(to):
        moved = [to(a) for a in host]
        return lambda: fn(*moved)

    return make


def _cases(rng) -> dict[str, Callable]:
    """name -> make(to) returning the zero-argument call to time (data moved with ``to`` once)."""
    from csbox.mri import Sense, birdcage_maps, espirit_maps, radial
    from csbox.ot import sinkhorn
    from csbox.sampling import cartesian, variable_density
    from csbox.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, linear_scan

    cases: dict[str, Callable] = {}
    img = shepp_logan(512)
    A, y = cs_mri_problem(img, 4)
    x0 = (A.H @ y).astype(np.complex64)
    W = Wavelet((512, 512), "db4", level=4)
    lam = 1e-3 * float(np.abs(W @ x0).max())
    cases["PF pair 512"] = _on(lambda x: A.H @ (A @ x), x0)
    cases["W pair 512"] = _on(lambda x: W.H @ (W @ x), x0)
    cases["FISTA x100 512"] = _on(lambda yd: fista(A, yd, lam, penalty=L1().in_basis(W), max_iter=100,
                                                   tol=None, check_every=100), y)
    K = Kronecker(*[rng.standard_normal((64, 64)) for _ in range(3)])
    cases["Kron 3x64 (batch 8)"] = _on(lambda v: K @ v, rng.standard_normal((8, 64**3)))

    maps = birdcage_maps((320, 320), n_coils=16).astype(np.complex64)
    mask = cartesian(variable_density(320, acceleration=4, density="gauss", sigma=0.2, calib=20, seed=0),
                     (320, 320), axis=0)
    ys = (Sense(maps, mask) @ shepp_logan(320).astype(np.complex64)).astype(np.complex64)
    W3 = Wavelet((320, 320), "db4", level=3)
    lam_s = 1e-3 * float(np.abs(W3 @ (Sense(maps, mask).H @ ys)).max())
    cases["l1-SENSE 16c 320 x20"] = _on(lambda yd, md: fista(
        Sense(md, mask), yd, lam_s, penalty=L1().in_basis(W3), max_iter=20, tol=None, check_every=20),
        ys, maps)

    F = NUFFT((256, 256), radial(402, 512, image_size=256), 1e-4)
    cases["NUFFT radial 256 pair"] = _on(lambda x: F.H @ (F @ x), shepp_logan(256).astype(np.complex64))
    k8 = np.fft.fftshift(np.fft.fft2(birdcage_maps((256, 256), n_coils=8) * shepp_logan(256), norm="ortho"),
                         axes=(-2, -1)).astype(np.complex64)
    cases["ESPIRiT 8c 256"] = _on(lambda k: espirit_maps(k, calib_width=24), k8)
    noisy = shepp_logan(512) + 0.1 * rng.standard_normal((512, 512))
    cases["TV denoise 512 x100"] = _on(lambda b: tv_denoise(b, 0.1, max_iter=100, tol=None, check_every=100),
                                       noisy)

    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    sar = MIMOSAR(arr, wf, linear_scan(32, 2 * wf.wavelength, height_dev=0.03),
                  ImageGrid.yz((-0.1, 0.1), (0.3, 0.7), 200, 200))
    cases["SAR BPA 200x200"] = _on(lambda sd: sar.H @ sd, sar @ np.ones(sar.ishape))
    cases["Sinkhorn n=2000 x200"] = _on(lambda a, C: sinkhorn(a, a, C, 1 / 1200, max_iter=200, tol=0.0),
                                        np.full(2000, 1.0 / 2000), rng.random((2000, 2000)))
    return cases


def _table(results: dict[str, dict[str, float | str]], names: list[str]) -> None:
    print(f"{'case':<24}" + "".join(f"{b:>16}" for b in names) + "   speed-up vs numpy")
    for case in results[names[0]]:
        cells, base = [], results["numpy"].get(case)
        for b in names:
            v = results[b].get(case, "-")
            cells.append(f"{v * 1e3:>14.2f}ms" if isinstance(v, float) else f"{v:>16}")
        sp = ", ".join(f"{b} {base / results[b][case]:.1f}x" for b in names[1:]
                       if isinstance(base, float) and isinstance(results[b].get(case), float))
        print(f"{case:<24}{''.join(cells)}   {sp}")


def main() -> None:
    print(versions("numpy", "cupy", "torch", "csbox"))
    backends = _backends()
    if len(backends) == 1:
        print("no CUDA backend (CuPy or torch with a GPU): the table shows NumPy alone")
    rng = np.random.default_rng(0)
    cases = _cases(rng)
    results: dict[str, dict[str, float | str]] = {name: {} for name, _, _ in backends}
    errors = []
    for case, make in cases.items():
        for name, to, sync in backends:
            try:
                results[name][case] = timed(make(to), sync, repeat=2 if "x" in case else 3)
            except Exception as e:  # a failing case must not hide the others
                results[name][case] = "failed"
                errors.append(f"{case} on {name}: {type(e).__name__}: {e}"[:300])
    _table(results, [b for b, _, _ in backends])
    for name, to, _ in backends:
        try:
            x = make_fista_x(cases, to)
            print(f"PSNR FISTA 512 on {name}: {psnr(to_numpy(x), shepp_logan(512)):.2f} dB")
        except Exception as e:
            errors.append(f"PSNR on {name}: {type(e).__name__}: {e}"[:300])
    for e in errors:
        print("  " + e)


def make_fista_x(cases, to):
    return cases["FISTA x100 512"](to)().x


if __name__ == "__main__":
    main()
