"""CS-MRI FISTA, side by side: csbox vs PyLops vs SigPy vs BART (when the ``bart`` command exists).

Problem: ``min 0.5||M F x - y||^2 + lam ||W x||_1``, the 256x256 modified
Shepp-Logan phantom, the 4x Cartesian variable-density mask of ``csbox demo
mri``, db4 wavelets with 4 levels (BART: its default Daubechies-2 wavelet, the
only one its ``pics`` offers besides Haar and CDF 4/4; csbox also runs with db2,
the same problem as BART's), 100 iterations, the same ``lam``, centred unitary
FFT. Prints time per iteration and final PSNR of
each, csbox's time per iteration over its floor (one forward+adjoint of its own
operators), and the ratios.

OpenBLAS is held to one thread (``OPENBLAS_NUM_THREADS=1``, set before NumPy loads, as in
``bench_parallel_mri.py``): the wavelet's small matrix products on two OpenBLAS threads spin-wait
and collapse when other processes load the machine (the wavelet pair at 256^2 measured 12-17 ms
at load average 3 on 2 cores, 3 ms on one thread).

Run: ``python benchmarks/bench_fista.py`` (``pip install -e ".[bench]"``;
Debian package ``bart`` for BART).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _problems import cs_mri_problem

from _timing import best_time, versions
from csbox.metrics import psnr
from csbox.operators import Wavelet
from csbox.penalties import L1
from csbox.phantoms import shepp_logan
from csbox.solvers import fista

N_ITER = 100
LAM_REL = 1e-3


def run_csbox(A, y, lam, W, cycle_spin=False):
    t0 = time.perf_counter()
    res = fista(A, y, lam, penalty=L1().in_basis(W, cycle_spin=cycle_spin), max_iter=N_ITER, tol=None,
                check_every=N_ITER)
    return (time.perf_counter() - t0) / N_ITER, res.x


def run_pylops(A, y, lam, n):
    import pylops
    from pylops.optimization.sparsity import fista as pfista

    F = pylops.signalprocessing.FFT2D((n, n), norm="ortho", ifftshift_before=True, fftshift_after=True,
                                      engine="scipy", dtype="complex64")
    R = pylops.Restriction(n * n, np.flatnonzero(A.mask), dtype="complex64")
    Wt = pylops.signalprocessing.DWT2D((n, n), wavelet="db4", level=4, dtype="complex64")
    Op = R @ F @ Wt.H
    # PyLops minimises ||y - Op x||^2 + eps ||x||_1 (threshold eps * alpha / 2): eps = 2 lam
    t0 = time.perf_counter()
    c, _, _ = pfista(Op, y.astype(np.complex64), niter=N_ITER, eps=2 * lam, alpha=1.0, tol=0)
    dt = (time.perf_counter() - t0) / N_ITER
    return dt, (Wt.H @ c).reshape(n, n)


def run_sigpy(A, y, lam, n):
    import sigpy.mri.app as app

    k = np.zeros((1, n, n), np.complex64)
    k[0][A.mask] = y
    mps = np.ones((1, n, n), np.complex64)
    t0 = time.perf_counter()
    x = app.L1WaveletRecon(k, mps, lam, weights=A.mask.astype(np.float32)[None], wave_name="db4",
                           max_iter=N_ITER, show_pbar=False).run()
    return (time.perf_counter() - t0) / N_ITER, np.asarray(x)


def _write_cfl(path: Path, arr: np.ndarray) -> None:
    # BART's .cfl is column-major; writing the C-order array with reversed dims keeps the layout
    dims = list(arr.shape[::-1]) + [1] * (16 - arr.ndim)
    path.with_suffix(".hdr").write_text("# Dimensions\n" + " ".join(map(str, dims)) + "\n")
    arr.astype(np.complex64).tofile(path.with_suffix(".cfl"))


def _read_cfl(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    return np.fromfile(path.with_suffix(".cfl"), dtype=np.complex64).reshape(shape)


def run_bart(A, y, lam, n, cycle_spin: bool, threads: int = 2):
    bart = shutil.which("bart")
    if bart is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        k = np.zeros((n, n), np.complex64)
        k[A.mask] = y
        _write_cfl(tmp / "k", k)
        _write_cfl(tmp / "s", np.ones((n, n), np.complex64))
        _write_cfl(tmp / "p", A.mask.astype(np.complex64))
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))

        def call(iters: int) -> float:
            cmd = [bart, "pics", "-l1", "-r", str(lam), "-w", "1", "-s", "1", "-i", str(iters),
                   "-p", str(tmp / "p")]
            if not cycle_spin:
                cmd.append("-n")
            cmd += [str(tmp / "k"), str(tmp / "s"), str(tmp / "x")]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            return time.perf_counter() - t0

        # per-iteration time net of start-up and file I/O: (t(N) - t(1)) / (N - 1)
        t1 = min(call(1) for _ in range(3))
        tn = min(call(N_ITER) for _ in range(3))
        x = _read_cfl(tmp / "x", (n, n))
    return (tn - t1) / (N_ITER - 1), x


def main() -> None:
    print(versions("numpy", "scipy", "pywt", "csbox", "pylops", "sigpy"))
    bart = shutil.which("bart")
    if bart:
        print(subprocess.run([bart, "version"], capture_output=True, text=True).stdout.strip(), "(BART)")
    n = 256
    img = shepp_logan(n)
    A, y = cs_mri_problem(img, 4)
    W = Wavelet((n, n), "db4", level=4)
    lam = LAM_REL * float(np.abs(W @ (A.H @ y)).max())
    print(f"256x256 Shepp-Logan, R = {A.acceleration:.2f}, lam = {lam:.4g}, {N_ITER} iterations")

    x64 = A.H @ y
    floor = best_time(lambda: (A.H @ (A @ x64), W.H @ (W @ x64)))
    rows = []
    t, x = run_csbox(A, y, lam, W)
    rows.append(("csbox complex64", t, psnr(x, img)))
    t_cs, x = run_csbox(A, y, lam, W, cycle_spin=True)
    rows.append(("csbox complex64 + cycle spinning", t_cs, psnr(x, img)))
    W2 = Wavelet((n, n), "db2", level=4)  # BART's Daubechies-2: the same problem as its pics -l1
    t_db2, x = run_csbox(A, y, LAM_REL * float(np.abs(W2 @ (A.H @ y)).max()), W2)
    rows.append(("csbox complex64, db2 (BART's wavelet)", t_db2, psnr(x, img)))
    y128 = y.astype(np.complex128)
    t128, x = run_csbox(A, y128, lam, W)
    rows.append(("csbox complex128", t128, psnr(x, img)))
    try:
        t_p, x = run_pylops(A, y, lam, n)
        rows.append(("PyLops fista (complex64)", t_p, psnr(x, img)))
    except ImportError:
        t_p = None
    try:
        t_s, x = run_sigpy(A, y, lam, n)
        rows.append(("SigPy L1WaveletRecon", t_s, psnr(x, img)))
    except ImportError:
        t_s = None
    bart_rows = {}
    for cs in (False, True):
        out = run_bart(A, y, lam, n, cycle_spin=cs)
        if out is not None:
            label = "BART pics -l1 (2 threads)" + (" + cycle spinning" if cs else "")
            rows.append((label, out[0], psnr(out[1], img)))
            bart_rows[cs] = out[0]
    print(f"\n{'method':<40}{'ms/iter':>10}{'PSNR dB':>10}")
    for name, t, p in rows:
        print(f"{name:<40}{t * 1e3:>10.2f}{p:>10.2f}")
    t_c = rows[0][1]
    print(f"\ncsbox floor (one PartialFourier + one Wavelet fwd+adj, complex64): {floor * 1e3:.2f} ms; "
          f"csbox / floor = {t_c / floor:.2f}")
    peers = [t for t in (t_p, t_s) if t is not None]
    if peers:
        print(f"fastest Python peer / csbox = {min(peers) / t_c:.2f}x")
    if bart_rows:
        r = bart_rows[False] / t_c
        print(f"BART / csbox (no cycle spinning) = {r:.2f}x (goal >= 1.5, issue 30: {r / 1.5:.2f} of it); "
              f"with cycle spinning = {bart_rows[True] / t_cs:.2f}x; "
              f"same wavelet as BART (db2) = {bart_rows[False] / t_db2:.2f}x")


if __name__ == "__main__":
    main()
