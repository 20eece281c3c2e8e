r"""
Parameter sweeps and batch reconstructions on Dask
==================================================

:mod:`csbox.distributed` runs many independent csbox computations on a Dask
cluster. :func:`csbox.distributed.sweep` evaluates ``fn(**params)`` at every
point of a parameter grid and returns one row of parameters and metrics per
point; :func:`csbox.distributed.map_batches` applies ``fn`` to chunks of rows of
a large array (the slices of an exam), each chunk read and reconstructed on a
worker. Here both run on a local cluster of two worker threads: first a sweep
of the regularisation weight of l1-wavelet CS-MRI,
:math:`\min_x \tfrac12\|M F x - y\|_2^2 + \lambda \|W x\|_1` solved by
:func:`csbox.solvers.fista`, then the best weight applied to a stack of slices.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

from csbox.distributed import WORKER_ENV, map_batches, sweep
from csbox.metrics import psnr
from csbox.operators import PartialFourier, Wavelet
from csbox.penalties import L1
from csbox.phantoms import lines_and_circles, shepp_logan
from csbox.sampling import variable_density
from csbox.solvers import fista

# %%
# The problem
# -----------
# A 96 x 96 Shepp-Logan phantom, 25 % of its k-space points drawn with
# variable density (4x), Daubechies-4 wavelets, complex Gaussian noise at
# 30 dB SNR (noise power 1/1000 of the mean sample power).
n = 96
mask = variable_density((n, n), acceleration=4, calib=8, seed=0)
A = PartialFourier((n, n), mask, centered=True)
W = Wavelet((n, n), "db4", level=3)
x_true = shepp_logan(n)
rng = np.random.default_rng(0)


def add_noise(v, snr_db=30.0):
    sigma = np.sqrt(np.mean(np.abs(v) ** 2) / 2) * 10 ** (-snr_db / 20)  # per real / imaginary part
    return v + sigma * (rng.standard_normal(v.shape) + 1j * rng.standard_normal(v.shape))


y = add_noise(A @ x_true)


def reconstruct_psnr(lam_rel):
    """One grid point: FISTA at ``lam = lam_rel ||A^H y||_inf``, scored by PSNR."""
    res = fista(A, y, lam_rel=lam_rel, penalty=L1().in_basis(W), max_iter=100, tol=1e-5)
    return {"psnr": psnr(res.x, x_true), "iterations": res.n_iter}


# %%
# A local cluster
# ---------------
# Two workers of one thread each, in this process (``processes=False``): a
# script that starts worker processes must guard its body with
# ``if __name__ == "__main__":`` (they re-import it), which a literate example
# cannot. Worker processes, as ``client="local:2"`` starts them, get csbox's
# :data:`csbox.distributed.WORKER_ENV` (one FFT/BLAS thread per worker, glibc's
# malloc thresholds); a process cluster of your own gets it when it is created
# inside :func:`csbox.distributed.worker_environment`. One client serves both
# calls below; ``client="local:2"`` would start and close a cluster inside each
# call instead.
print(f"worker processes would get {WORKER_ENV}")
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)

# %%
# The sweep
# ---------
# Ten values of :math:`\lambda / \|A^H y\|_\infty` on a log grid, two at a time.
grid = {"lam_rel": [float(v) for v in np.logspace(-4, -0.5, 10)]}
t0 = time.perf_counter()
rows = sweep(reconstruct_psnr, grid, client=client, progress=False)
t_sweep = time.perf_counter() - t0
print(f"{'lam_rel':>9}  {'PSNR dB':>8}  {'iterations':>10}")
for r in rows:
    print(f"{r['lam_rel']:9.2e}  {r['psnr']:8.2f}  {r['iterations']:10d}")
best = max(rows, key=lambda r: r["psnr"])
print(f"sweep of {len(rows)} points on 2 workers: {t_sweep:.2f} s; best lam_rel {best['lam_rel']:.2e}, "
      f"PSNR {best['psnr']:.2f} dB (zero-filled {psnr(A.H @ y, x_true):.2f} dB)")

# %%
# Too small a weight leaves the noise and the aliasing of the under-sampling;
# too large a one flattens the image. The optimum is broad on a log scale.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.semilogx([r["lam_rel"] for r in rows], [r["psnr"] for r in rows], "o-")
ax.axvline(best["lam_rel"], color="gray", ls=":", label=f"best: {best['lam_rel']:.1e}")
ax.set(xlabel=r"$\lambda / \|A^H y\|_\infty$", ylabel="PSNR (dB)",
       title="l1-wavelet CS-MRI at 4x: PSNR vs regularisation")
ax.legend()
ax.grid(which="both", alpha=0.3)

# %%
# A stack of slices
# -----------------
# Eight 96 x 96 "slices" (:func:`csbox.phantoms.lines_and_circles`), measured with
# the same mask and reconstructed two per task with the chosen weight.
# ``map_batches`` sends the operator and the basis to each worker once; each
# task receives only its rows of k-space.
slices = lines_and_circles(8, n, seed=3)
kspace = add_noise(A @ slices)


def reconstruct(block, op, basis, lam_rel):
    """FISTA on a block of slices (leading axis = independent right-hand sides)."""
    return fista(op, block, lam_rel=lam_rel, penalty=L1().in_basis(basis), max_iter=100, tol=1e-5)


t0 = time.perf_counter()
recon = map_batches(reconstruct, kspace, client=client, chunk=2, progress=False,
                    op=A, basis=W, lam_rel=best["lam_rel"])
t_map = time.perf_counter() - t0
zero_filled = A.H @ kspace
p_zf = [psnr(z, s) for z, s in zip(zero_filled, slices, strict=True)]
p_cs = [psnr(r, s) for r, s in zip(recon, slices, strict=True)]
print(f"map_batches: {len(slices)} slices in {t_map:.2f} s; mean PSNR zero-filled {np.mean(p_zf):.2f} dB, "
      f"FISTA {np.mean(p_cs):.2f} dB")
client.close()
cluster.close()

# %%
# Note that ``lam_rel`` is relative to :math:`\|A^H y\|_\infty` of each block,
# so one value carries over between images of similar content; the best value
# for the phantom need not be the best for these slices.
fig, ax = plt.subplots(2, 4, figsize=(12, 6.4), layout="constrained")
for j in range(4):
    ax[0, j].imshow(np.abs(zero_filled[j]), cmap="gray", vmin=0, vmax=1)
    ax[0, j].set_title(f"slice {j}, zero-filled: {p_zf[j]:.1f} dB", fontsize=9)
    h = ax[1, j].imshow(np.abs(recon[j]), cmap="gray", vmin=0, vmax=1)
    ax[1, j].set_title(f"slice {j}, FISTA: {p_cs[j]:.1f} dB", fontsize=9)
for a in ax.ravel():
    a.set(xlabel="x (pixels)", ylabel="y (pixels)")
fig.colorbar(h, ax=ax.ravel().tolist(), label="magnitude")

# %%
# See also: the distributed page of the user guide (resumable runs with
# ``out=``, clusters on HPC and GPUs, failure handling). No demo mirrors this
# example; ``csbox demo phase-transition`` is the kind of large grid that
# ``sweep`` is for.
