"""Demo ``mri-tv``: CS-MRI with wavelets, total variation and both, through ``csbox.reconstruct``.

The ``mri`` demo's problem (256x256 modified Shepp-Logan phantom, Cartesian
variable-density masks at 4x and 8x, complex64 k-space; ``--quick``: 64x64)
reconstructed by

- zero filling ``A^H y``;
- l1-wavelet (db4): ``min 0.5||M F x - y||^2 + lam_w ||W x||_1`` (FISTA, the ``mri`` demo's weight);
- TV: ``min 0.5||M F x - y||^2 + lam_tv TV(x)`` (ADMM);
- wavelet + TV: both penalties (ADMM),

with PSNR, NMSE and SSIM of the magnitude images, and the convergence of
FISTA, ADMM and PDHG on the same l1-wavelet objective (and of ADMM and PDHG on
the TV objective), per iteration and per second.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import reconstruct
from ..operators import Wavelet
from ..penalties import L1, TV
from ..phantoms import shepp_logan
from ..solvers import admm, fista, pdhg
from ._plot import plt, save
from .mri_single_coil import LAM_REL, nmse_db, problem, psnr

NAME = "mri-tv"
DESCRIPTION = "CS-MRI at 4x/8x: l1-wavelet (FISTA), TV and wavelet+TV (ADMM); ADMM vs PDHG vs FISTA"

LAM_TV_REL = 1e-3  # TV weight as a fraction of max|A^H y|, tuned once on the phantom at 4x and 8x
LAM_W_COMBINED_REL = 1e-5  # wavelet weight next to TV, fraction of ||W A^H y||_inf (tuned once at 8x)


def ssim(x: np.ndarray, ref: np.ndarray, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian window ``sigma``) of ``|x|`` against ``ref`` (range max(ref))."""
    from scipy.ndimage import gaussian_filter

    a, b = np.abs(x).astype(np.float64), ref.astype(np.float64)
    c1, c2 = (0.01 * ref.max()) ** 2, (0.03 * ref.max()) ** 2
    mu_a, mu_b = gaussian_filter(a, sigma), gaussian_filter(b, sigma)
    var_a = gaussian_filter(a * a, sigma) - mu_a**2
    var_b = gaussian_filter(b * b, sigma) - mu_b**2
    cov = gaussian_filter(a * b, sigma) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


def _scores(x: np.ndarray, img: np.ndarray) -> dict:
    return {"psnr": psnr(x, img), "nmse_db": nmse_db(x, img), "ssim": ssim(x, img)}


def compute(quick: bool = False) -> dict:
    """Reconstructions at 4x and 8x and the convergence runs; returns images, metrics and histories."""
    n = 64 if quick else 256
    iters = 10 if quick else 150
    img = shepp_logan(n)
    W = Wavelet(img.shape, "db4", level=3 if quick else 4)
    out: dict = {"image": img, "iters": iters, "rates": {}, "metrics": {}}
    for R in (4, 8):
        A, y = problem(img, R)
        zf = A.H @ y
        lam_w = LAM_REL * float(np.abs(W @ zf).max())
        lam_tv = LAM_TV_REL * float(np.abs(zf).max())
        lam_wc = LAM_W_COMBINED_REL * float(np.abs(W @ zf).max())
        recs = {"zero-filled": zf}
        times = {}
        for label, pens in (
            ("l1-wavelet", [L1(lam_w).in_basis(W)]),
            ("TV", [TV(lam_tv)]),
            ("wavelet + TV", [L1(lam_wc).in_basis(W), TV(lam_tv)]),
        ):
            t0 = time.perf_counter()
            res = reconstruct(A, y, pens, max_iter=iters, tol=None, check_every=iters)
            times[label] = (time.perf_counter() - t0) / res.n_iter
            recs[label] = res.x
        m = {k: _scores(v, img) for k, v in recs.items()}
        for k, t in times.items():
            m[k]["ms_per_iter"] = 1e3 * t
        key = f"R={R}"
        out["rates"][key] = {"mask": A.mask, "recs": {k: np.abs(v) for k, v in recs.items()}}
        out["metrics"][key] = m
    out["convergence"] = _convergence(img, W, 10 if quick else 300)
    return out


def _convergence(img: np.ndarray, W: Wavelet, n_iter: int) -> dict:
    """FISTA, ADMM and PDHG on the l1-wavelet objective; ADMM and PDHG on the TV objective (4x)."""
    A, y = problem(img, 4)
    y = y.astype(np.complex128)
    zf = A.H @ y
    lam_w = LAM_REL * float(np.abs(W @ zf).max())
    lam_tv = LAM_TV_REL * float(np.abs(zf).max())
    kw = {"max_iter": n_iter, "tol": None, "check_every": 1}
    runs = {
        "l1-wavelet": {
            "FISTA": fista(A, y, penalty=L1(lam_w).in_basis(W), **kw),
            "ADMM": admm(A, y, [L1(lam_w).in_basis(W)], **kw),
            "PDHG": pdhg(A, y, [L1(lam_w).in_basis(W)], **kw),
        },
        "TV": {
            "ADMM": admm(A, y, [TV(lam_tv)], **kw),
            "PDHG": pdhg(A, y, [TV(lam_tv)], **kw),
        },
    }
    out = {}
    for obj, rs in runs.items():
        f_star = min(min(r.history["objective"]) for r in rs.values())
        out[obj] = {
            label: {
                "iteration": np.array(r.history["iteration"]),
                "time": np.array(r.history["time"]),
                "gap": np.maximum(np.array(r.history["objective"]) - f_star, 1e-16) / abs(f_star),
            }
            for label, r in rs.items()
        }
    return out


def plot(data: dict, out_dir: Path) -> dict:
    """Image grid with metrics in the titles, convergence curves; returns the metrics table."""
    out_dir = Path(out_dir)
    img = data["image"]
    labels = ["zero-filled", "l1-wavelet", "TV", "wavelet + TV"]
    fig, axes = plt.subplots(2, 5, figsize=(18, 7.5), layout="constrained")
    for row, (key, rate) in enumerate(data["rates"].items()):
        m = data["metrics"][key]
        ax = axes[row, 0]
        ax.imshow(rate["mask"], cmap="gray")
        ax.set_title(f"mask, {key}", fontsize=9)
        ax.set_xlabel("readout k_x")
        ax.set_ylabel("phase encode k_y")
        for col, label in enumerate(labels, start=1):
            ax = axes[row, col]
            im = ax.imshow(rate["recs"][label], cmap="gray", vmin=0, vmax=1)
            s = m[label]
            ax.set_title(f"{label}, {key}: PSNR {s['psnr']:.1f} dB\n"
                         f"NMSE {s['nmse_db']:.1f} dB, SSIM {s['ssim']:.3f}", fontsize=9)
            ax.set_xlabel("x (pixels)")
            ax.set_ylabel("y (pixels)")
        fig.colorbar(im, ax=axes[row, -1], label="|x| (a.u.)")
    n = img.shape[0]
    fig.suptitle(f"CS-MRI of the {n}x{n} Shepp-Logan phantom, {data['iters']} iterations")
    save(fig, out_dir / "mri_tv_reconstructions.png")

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")
    for row, (obj, runs) in enumerate(data["convergence"].items()):
        for label, h in runs.items():
            axes[row, 0].semilogy(h["iteration"], h["gap"], label=label)
            axes[row, 1].semilogy(h["time"], h["gap"], label=label)
        for col, xl in enumerate(("iteration", "time (s)")):
            ax = axes[row, col]
            ax.set_xlabel(xl)
            ax.set_ylabel("(F(x_k) - F*) / F*")
            ax.set_title(f"{obj} objective, R = 4: relative gap to the best value reached")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
    save(fig, out_dir / "mri_tv_convergence.png")
    metrics = dict(data["metrics"])
    metrics["final_gap"] = {
        obj: {label: float(h["gap"][-1]) for label, h in runs.items()}
        for obj, runs in data["convergence"].items()
    }
    return metrics


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute, plot, print the table; return the metrics."""
    data = compute(quick)
    metrics = plot(data, out_dir)
    for key in data["metrics"]:
        for label, s in metrics[key].items():
            t = f", {s['ms_per_iter']:.1f} ms/iter" if "ms_per_iter" in s else ""
            print(f"{key} {label:<13} PSNR {s['psnr']:6.2f} dB  NMSE {s['nmse_db']:7.2f} dB  "
                  f"SSIM {s['ssim']:.3f}{t}")
    for obj, g in metrics["final_gap"].items():
        print(f"relative gap on the {obj} objective: " + ", ".join(f"{k} {v:.2e}" for k, v in g.items()))
    return metrics
