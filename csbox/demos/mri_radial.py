"""Demo ``mri-radial``: non-Cartesian MRI with the NUFFT, radial and spiral, single- and multi-coil.

Shepp-Logan phantom (128x128; ``--quick``: 48x48, fewer spokes, arms and iterations)
sampled by an undersampled golden-angle radial trajectory (64 spokes, a third of the
``pi n / 2`` Nyquist count; streaks in the gridding image) and a variable-density
spiral (2x undersampled at the edge), with complex Gaussian noise at 40 dB SNR. Reconstructions:

* gridding: ``A^H (w ⊙ y)`` with Pipe-Menon weights (root-sum-of-squares over coils),
* CG-SENSE: :func:`csbox.solvers.cg` on ``E^H E x = E^H y`` (Toeplitz normal, no gridding
  inside the loop), a few iterations as early-stopping regularisation,
* CS: :func:`csbox.solvers.fista` with l1 on db4 wavelets (cycle spinning; none in quick mode),

single-coil and with 8 simulated coils (4 in quick mode; Gaussian coil profiles on a
ring with linear phase, normalised to ``sum_c |S_c|^2 = 1``). Data come from the NUFFT
of the pixel phantom (the same model as the reconstruction: an "inverse crime", so the
numbers compare methods, not absolute accuracy). PSNR of magnitudes, peak 1.

Learned spoke selection: DPS picks ``K`` of ``M`` golden-angle spokes for 32x32
"lines and circles" images through the differentiable torch NUFFT
(:mod:`csbox.mri.spokes`), against the first ``K`` golden-angle spokes and the ``K``
candidates nearest to uniform angles, each with the same unrolled model trained from
scratch; held-out PSNR.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..mri import Sense
from ..mri.dcf import density_compensation, gridding_reconstruction
from ..mri.trajectories import radial, spiral
from ..operators import NUFFT, Wavelet
from ..penalties import L1
from ..phantoms import shepp_logan
from ..solvers import cg, fista
from ._plot import plt, save
from .mri import psnr

NAME = "mri-radial"
DESCRIPTION = "Radial/spiral MRI (NUFFT): gridding vs CG-SENSE vs CS, single/multi-coil; DPS spoke selection"

LAM_REL = 1e-3  # fraction of ||W E^H y||_inf, best of {1e-3, 3e-4, 1e-4} on the radial single-coil phantom
SNR_DB = 40.0


def coil_maps(n_coils: int, n: int) -> np.ndarray:
    """Smooth complex coil profiles: Gaussians centred on a ring, linear phase, ``sum |S|^2 = 1``."""
    yy, xx = (np.mgrid[:n, :n] - n / 2) / (n / 2)
    maps = []
    for c in range(n_coils):
        a = 2 * np.pi * c / n_coils
        cy, cx = 1.2 * np.sin(a), 1.2 * np.cos(a)
        mag = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 1.2)
        maps.append(mag * np.exp(1j * (a + 0.8 * (xx * np.cos(a) - yy * np.sin(a)))))
    maps = np.array(maps)
    return maps / np.sqrt(np.sum(np.abs(maps) ** 2, axis=0, keepdims=True))


def trajectories(n: int, quick: bool) -> dict[str, np.ndarray]:
    """Golden-angle radial (64 spokes; 24 quick) and a 2x undersampled variable-density spiral."""
    spokes = 24 if quick else 64
    L = 4 if quick else 12
    alpha, R = 1.5, 2.0
    turns = int(np.ceil(alpha * (n / 2) / (L * R)))
    samples = int(np.ceil(2 * np.pi * (n / 2) * turns))  # <= 0.5 grid units between samples
    return {"radial": radial(spokes, 2 * n, golden=True), "spiral": spiral(L, samples, n, alpha=alpha,
                                                                             undersampling=R)}


def _noisy(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = np.sqrt(np.mean(np.abs(y) ** 2) / 10 ** (SNR_DB / 10) / 2)
    return y + sigma * (rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape))


def reconstruct(E, k: np.ndarray, y: np.ndarray, w: np.ndarray, n: int, quick: bool,
                coils: bool) -> dict[str, np.ndarray]:
    """Gridding (RSS over coils), CG-SENSE and l1-wavelet CS for one operator and data set."""
    grid = gridding_reconstruction(y, k, (n, n), w)
    grid = np.sqrt(np.sum(np.abs(grid) ** 2, axis=0)) if coils else grid
    x_cg = cg(E, y, max_iter=6 if quick else 12, tol=None).x
    W = Wavelet((n, n), "db4", level=3)
    x_cs = fista(E, y, lam_rel=LAM_REL, penalty=L1().in_basis(W, cycle_spin=not quick),
                 max_iter=15 if quick else 100, tol=None).x
    return {"gridding": grid, "cg": x_cg, "cs": x_cs}


def spoke_selection(quick: bool) -> dict:
    """DPS vs golden/uniform spoke subsets (see the module docstring)."""
    import torch

    from ..mri.spokes import train_spoke_selection
    from .dps_fourier import lines_and_circles

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    size = 16 if quick else 32  # lines_and_circles needs size >= 16 (rings of radius up to 6)
    n_train, n_val = (16, 8) if quick else (256, 128)
    M, K = (12, 3) if quick else (48, 10)
    t0 = time.perf_counter()
    out = train_spoke_selection(lines_and_circles(n_train, size, seed=0), M, K,
                                val=lines_and_circles(n_val, size, seed=1), n_iter=2 if quick else 3,
                                epochs=1 if quick else 8, batch_size=16 if quick else 32, lr=1e-2)
    out["seconds"] = time.perf_counter() - t0
    out["size"], out["M"], out["K"] = size, M, K
    return out


def compute(quick: bool = False) -> dict:
    """All reconstructions and the spoke-selection experiment; returns metrics and images."""
    n = 48 if quick else 128
    img = shepp_logan(n).astype(np.complex128)
    rng = np.random.default_rng(0)
    maps = coil_maps(4 if quick else 8, n)
    metrics: dict = {}
    images: dict = {"truth": np.abs(img)}
    for tname, k in trajectories(n, quick).items():
        w = density_compensation(k, (n, n))
        for setting in ("single-coil", "multi-coil"):
            coils = setting == "multi-coil"
            E = Sense(maps, coords=k) if coils else NUFFT((n, n), k)
            y = _noisy(E @ img, rng)
            t0 = time.perf_counter()
            rec = reconstruct(E, k, y, w, n, quick, coils)
            key = f"{tname} {setting}"
            metrics[key] = {m: {"psnr": psnr(x, np.abs(img))} for m, x in rec.items()}
            metrics[key]["seconds"] = time.perf_counter() - t0
            metrics[key]["samples"] = int(np.prod(k.shape[:-1]))
            images[key] = {m: np.abs(x) for m, x in rec.items()}
    images["coords"] = trajectories(n, quick)
    dps = spoke_selection(quick)
    metrics["spoke selection"] = {name: dict(s) for name, s in dps["scores"].items()}
    metrics["spoke selection"]["seconds"] = dps["seconds"]
    images["spokes"] = {"masks": dps["masks"], "coords": dps["coords"]}
    return {"metrics": metrics, "images": images, "quick": quick}


def plot(data: dict, out_dir: Path) -> list[Path]:
    """Reconstructions (rows: trajectory x coils; columns: truth, gridding, CG-SENSE, CS) and the spokes."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    met, ims = data["metrics"], data["images"]
    rows = [k for k in met if k != "spoke selection"]
    labels = {"gridding": "gridding (DCF)", "cg": "CG-SENSE", "cs": "CS l1-wavelet"}
    fig, axes = plt.subplots(len(rows), 4, figsize=(13, 3.2 * len(rows)))
    for r, key in enumerate(rows):
        ax = axes[r, 0]
        if key.endswith("single-coil"):
            k = ims["coords"][key.split()[0]]
            ax.plot(k[..., 1].T, k[..., 0].T, lw=0.4)
            ax.set_aspect("equal")
            ax.set_xlabel("k_x (1/FOV)")
            ax.set_ylabel("k_y (1/FOV)")
            ax.set_title(f"{key.split()[0]}: {met[key]['samples']} samples")
        else:
            im = ax.imshow(ims["truth"], cmap="gray", vmin=0, vmax=1)
            ax.set_title("truth")
            ax.axis("off")
        for c, m in enumerate(("gridding", "cg", "cs"), start=1):
            ax = axes[r, c]
            im = ax.imshow(ims[key][m], cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{key}\n{labels[m]}: PSNR {met[key][m]['psnr']:.1f} dB", fontsize=9)
            ax.axis("off")
        fig.colorbar(im, ax=axes[r, 3], fraction=0.046, label="magnitude (a.u.)")
    p1 = save(fig, out_dir / "mri_radial_reconstructions.png")

    sp = ims["spokes"]
    names = list(sp["masks"])
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(4 * (len(names) + 1), 3.6))
    k = sp["coords"]
    for ax, name in zip(axes, names, strict=False):
        sel = sp["masks"][name]
        ax.plot(k[~sel, :, 1].T, k[~sel, :, 0].T, color="0.85", lw=0.5)
        ax.plot(k[sel, :, 1].T, k[sel, :, 0].T, color="C3", lw=1.2)
        ax.set_aspect("equal")
        ax.set_xlabel("k_x (1/FOV)")
        ax.set_ylabel("k_y (1/FOV)")
        ax.set_title(f"{name}: {int(sel.sum())} of {sel.size} spokes\n"
                     f"PSNR {met['spoke selection'][name]['psnr']:.1f} dB")
    ax = axes[-1]
    vals = [met["spoke selection"][nm]["psnr"] for nm in names]
    ax.bar(names, vals, color=["C3", "C0", "C2"][: len(names)])
    ax.set_ylabel("held-out PSNR (dB)")
    ax.set_title("same unrolled model, trained per subset")
    ax.set_ylim(min(vals) - 2, max(vals) + 1)
    fig.subplots_adjust(wspace=0.35)
    p2 = save(fig, out_dir / "mri_radial_spokes.png")
    return [p1, p2]


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute, plot, print the PSNR table and return the metrics."""
    data = compute(quick)
    plot(data, out_dir)
    met = data["metrics"]
    print(f"{'setting':28s} {'gridding':>9s} {'CG-SENSE':>9s} {'CS':>9s}  (PSNR dB)")
    for key, v in met.items():
        if key == "spoke selection":
            continue
        print(f"{key:28s} {v['gridding']['psnr']:9.2f} {v['cg']['psnr']:9.2f} {v['cs']['psnr']:9.2f}")
    s = met["spoke selection"]
    print("spoke selection (held-out PSNR dB): "
          + ", ".join(f"{k} {v['psnr']:.2f}" for k, v in s.items() if k != "seconds"))
    return met
