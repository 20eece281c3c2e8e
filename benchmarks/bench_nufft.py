"""2-D NUFFT: csbox vs finufft called directly, SigPy and BART; Toeplitz normal; generic array-API engine.

Problem: a 256 x 256 complex image, 402 radial spokes x 512 samples (205,824 points,
2x oversampled readout), forward + adjoint, in double and single precision. The
accuracy of every method is the relative l2 error against the exact non-uniform DFT
on 1,024 of the samples (forward) computed densely in NumPy. Peers missing on the
machine are skipped. Run: ``python benchmarks/bench_nufft.py``.

In single precision finufft takes float32 points, and the rounding of ``2 pi k / n``
(about 2e-7 rad) times image positions up to ``n/2`` bounds its error near 1e-5 whatever
``eps``; the generic engine keeps the geometry in float64 and stays near 1e-6.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np

from _timing import best_time, versions
from csbox.mri.trajectories import radial
from csbox.operators import NUFFT

N = 256
SPOKES, READ = 402, 512


def ndft_rows(coords: np.ndarray, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Exact forward NDFT of ``x`` at ``coords[rows]`` (the csbox convention), chunked."""
    n0, n1 = x.shape
    u0 = np.arange(n0) - n0 // 2
    u1 = np.arange(n1) - n1 // 2
    out = []
    for ch in np.array_split(rows, max(1, len(rows) // 64)):
        e0 = np.exp(-2j * np.pi * coords[ch, 0, None] * u0[None, :] / n0)
        e1 = np.exp(-2j * np.pi * coords[ch, 1, None] * u1[None, :] / n1)
        out.append(np.einsum("ja,ab,jb->j", e0, x, e1))
    return np.concatenate(out) / math.sqrt(n0 * n1)


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def write_cfl(base: str, arr: np.ndarray) -> None:
    """BART .cfl/.hdr: dims in the header, complex64 data in column-major order."""
    with open(base + ".hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(str(d) for d in arr.shape) + "\n")
    np.asarray(arr, dtype=np.complex64).ravel(order="F").tofile(base + ".cfl")


def read_cfl(base: str) -> np.ndarray:
    with open(base + ".hdr") as f:
        f.readline()
        dims = [int(d) for d in f.readline().split()]
    return np.fromfile(base + ".cfl", dtype=np.complex64).reshape(dims, order="F")


def main() -> None:
    print(versions("numpy", "scipy", "finufft", "sigpy", "torch", "csbox"))
    print(f"cores: {os.cpu_count()}; 2-D {N}x{N}, {SPOKES} spokes x {READ} samples = {SPOKES * READ} points")
    rng = np.random.default_rng(0)
    coords = radial(SPOKES, READ, golden=False, image_size=N)
    flat = coords.reshape(-1, 2)
    x64 = rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N))
    rows = rng.choice(flat.shape[0], 1024, replace=False)
    ref = ndft_rows(flat, x64, rows)
    for prec, cdt in (("double", np.complex128), ("single", np.complex64)):
        bench_precision(prec, cdt, x64, coords, rows, ref)


def bench_precision(prec: str, cdt: type, x64: np.ndarray, coords: np.ndarray, rows: np.ndarray,
                    ref: np.ndarray) -> None:
    """One precision: csbox, finufft, Toeplitz, generic engine, SigPy (and BART in single)."""
    try:
        import finufft
    except ImportError:
        print("finufft not installed (pip install csbox[nufft]): skipped; csbox runs its generic engine")
        return

    flat = coords.reshape(-1, 2)
    print(f"\n== {prec} precision ==")
    x = x64.astype(cdt)
    eps = 1e-6
    A = NUFFT((N, N), coords, eps=eps)
    y = A @ x
    acc = rel(y.reshape(-1)[rows], ref)

    def cs():
        A.H @ (A @ x)

    t_cs = best_time(cs, repeat=5)
    # finufft directly: plans made once, like csbox's cached plans
    real = np.float32 if cdt == np.complex64 else np.float64
    pts = [np.ascontiguousarray(2 * np.pi * flat[:, a] / N, dtype=real) for a in range(2)]
    f_eps = max(eps, 2e-6) if cdt == np.complex64 else eps
    p2 = finufft.Plan(2, (N, N), eps=f_eps, isign=-1, dtype=np.dtype(cdt).name)
    p1 = finufft.Plan(1, (N, N), eps=f_eps, isign=1, dtype=np.dtype(cdt).name)
    p2.setpts(*pts)
    p1.setpts(*pts)
    xc = np.ascontiguousarray(x)

    def fi():
        p1.execute(p2.execute(xc))

    t_fi = best_time(fi, repeat=5)
    print(f"csbox NUFFT (finufft engine) fwd+adj {t_cs * 1e3:8.1f} ms   error {acc:.1e}")
    print(f"finufft direct               fwd+adj {t_fi * 1e3:8.1f} ms   ratio csbox/finufft "
          f"{t_cs / t_fi:.2f} (goal <= 1.3)")

    # Toeplitz normal vs forward + adjoint
    Nt = A.normal()
    t_t = best_time(lambda: Nt @ x, repeat=5)
    e_t = rel(Nt @ x, A.H @ (A @ x))
    print(f"Toeplitz normal A^H A        {t_t * 1e3:8.1f} ms   speed-up vs fwd+adj {t_cs / t_t:.1f}x "
          f"(goal >= 3), rel. diff {e_t:.1e}")

    # generic array-API engine on NumPy and torch
    G = NUFFT((N, N), coords, eps=eps, impl="generic")
    t0 = time.perf_counter()
    G.gridding_plan()
    t_plan = time.perf_counter() - t0
    t_g = best_time(lambda: G.H @ (G @ x), repeat=3)
    acc_g = rel((G @ x).reshape(-1)[rows], ref)
    print(f"generic engine, NumPy        fwd+adj {t_g * 1e3:8.1f} ms   error {acc_g:.1e}   "
          f"{t_g / t_fi:.1f}x finufft (plan {t_plan:.1f} s once)")
    try:
        import torch

        xt = torch.as_tensor(x)
        t_gt = best_time(lambda: G.H @ (G @ xt), repeat=3)
        acc_gt = rel((G @ xt).numpy().reshape(-1)[rows], ref)
        print(f"generic engine, torch CPU    fwd+adj {t_gt * 1e3:8.1f} ms   error {acc_gt:.1e}   "
              f"{t_gt / t_fi:.1f}x finufft")
    except ImportError:
        print("torch not installed: skipped")

    # SigPy (numba) at its defaults, and csbox at SigPy's accuracy
    try:
        import sigpy

        sx = x.copy()

        def sp():
            sigpy.nufft_adjoint(sigpy.nufft(sx, coords), coords, (N, N))

        ysp = sigpy.nufft(sx, coords)
        acc_sp = rel(ysp.reshape(-1)[rows], ref)
        t_sp = best_time(sp, repeat=3)
        eps_m = min(1e-1, max(acc_sp, 1e-6))
        Am = NUFFT((N, N), coords, eps=eps_m)
        acc_m = rel((Am @ x).reshape(-1)[rows], ref)
        t_m = best_time(lambda: Am.H @ (Am @ x), repeat=5)
        print(f"SigPy nufft (defaults)       fwd+adj {t_sp * 1e3:8.1f} ms   error {acc_sp:.1e}")
        print(f"  csbox at eps={eps_m:.0e}       fwd+adj {t_m * 1e3:8.1f} ms   error {acc_m:.1e}   "
              f"SigPy/csbox {t_sp / t_m:.1f}x (goal >= 3);  at eps=1e-6: {t_sp / t_cs:.1f}x")
    except ImportError:
        print("sigpy not installed: skipped")

    if prec == "single":
        bart_bench(x, coords, rows, ref, t_cs)


def bart_bench(x: np.ndarray, coords: np.ndarray, rows: np.ndarray, ref: np.ndarray, t_cs: float) -> None:
    """BART ``nufft`` forward and adjoint through .cfl files (BART computes in single precision)."""
    bart = shutil.which("bart")
    if bart is None:
        print("bart not installed: skipped")
        return
    with tempfile.TemporaryDirectory() as d:
        traj = np.zeros((3, READ, SPOKES), dtype=np.complex64)
        traj[0] = coords[..., 0].T
        traj[1] = coords[..., 1].T
        write_cfl(f"{d}/traj", traj)
        write_cfl(f"{d}/img", x)

        def run():
            subprocess.run([bart, "nufft", f"{d}/traj", f"{d}/img", f"{d}/ksp"], check=True,
                           capture_output=True)
            subprocess.run([bart, "nufft", "-a", "-d", f"{N}:{N}:1", f"{d}/traj", f"{d}/ksp",
                            f"{d}/adj"], check=True, capture_output=True)

        t_b = best_time(run, repeat=3)
        ksp = read_cfl(f"{d}/ksp").reshape(READ, SPOKES).T.reshape(-1)
        got = ksp[rows]
        # BART's scaling convention differs from the unitary one: report the error after the
        # best complex scale (the shape of the transform is what is compared)
        s = np.vdot(got, ref) / np.vdot(got, got)
        acc_b = rel(s * got, ref)
        print(f"BART nufft (CLI, file I/O)   fwd+adj {t_b * 1e3:8.1f} ms   error {acc_b:.1e} "
              f"(after scale {abs(s):.3g})   BART/csbox {t_b / t_cs:.1f}x")


if __name__ == "__main__":
    main()
