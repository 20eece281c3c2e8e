"""Demo ``mri``: parallel imaging + compressed sensing on a real 16-channel brain scan.

The scan in ``data/`` (``csbox.data.load("brain-16ch")``: an in-vivo head, 2-D FLASH, 128 x 128,
16 receive channels, Siemens 2.89 T, fully sampled) is undersampled retrospectively with a 2-D
Poisson-disc mask (R = 6, 24 x 24 fully sampled centre); ESPIRiT maps come from that centre, and
four reconstructions of ``min_x 0.5||M F S x - y||^2 + lam R(x)`` are compared with the fully
sampled ESPIRiT-combined image ``S^H F^H y_full``:

- zero-filled (``S^H F^H M y``), CG-SENSE (``R = 0``, early stopping),
- l1-wavelet SENSE (FISTA, db4, cycle spinning) and TV SENSE (ADMM), each at its default relative
  ``lam`` (a fraction of ``max|A^H y|``, the same on every scan).

Each image is zeroed where the maps vanish (outside the head), as the reference is. PSNR and SSIM
against the reference, the time of each method and its data consistency ``||M F S x - y|| / ||y||``
go to ``metrics.json``; ``mri.png`` shows the images, their error maps, the mask and the maps.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import data
from ..metrics import psnr
from ..mri import Sense, cg_sense, espirit_maps, l1_wavelet_sense, tv_sense
from ..sampling import poisson_disc
from ._plot import plt, save, strip_arrays
from .mri_tv import ssim

NAME = "mri"
DESCRIPTION = "real 16-coil brain scan, Poisson disc R = 6, ESPIRiT: zero-filled vs CG, l1-wavelet, TV SENSE"

DATA = "brain-16ch"
ACCEL = 6.0
CALIB = 24
METHODS = ("zero_filled", "cg_sense", "l1_wavelet_sense", "tv_sense")
LABELS = {"zero_filled": "zero-filled", "cg_sense": "CG-SENSE", "l1_wavelet_sense": "l1-wavelet SENSE",
          "tv_sense": "TV SENSE"}


def problem(seed: int = 0) -> dict:
    """The scan, the undersampled data, the ESPIRiT maps (timed) and the fully sampled reference."""
    raw = data.load(DATA)
    full = raw.kspace
    mask = poisson_disc(full.shape[-2:], acceleration=ACCEL, calib=CALIB, seed=seed)
    y = (full * mask).astype(np.complex64)
    t0 = time.perf_counter()
    maps = espirit_maps(y, calib_width=CALIB)
    t_maps = time.perf_counter() - t0
    support = np.sum(np.abs(maps) ** 2, axis=0) > 0
    # the maps use only the calibration centre, which y shares with the full scan: the same maps combine
    # the fully sampled coils into the reference
    ref = np.abs(Sense(maps).H @ full)
    return {"raw": raw, "mask": mask, "y": y, "maps": maps, "support": support, "ref": ref, "t_maps": t_maps}


def reconstructions(p: dict, quick: bool) -> dict:
    """Each method's image (zeroed outside the maps) and its time in seconds."""
    y, maps, mask, sup = p["y"], p["maps"], p["mask"], p["support"]
    iters = {"cg": 10, "l1": 40, "tv": 35} if quick else {"cg": 15, "l1": 100, "tv": 50}
    runs = {
        "zero_filled": lambda: Sense(maps, mask).H @ y,
        "cg_sense": lambda: cg_sense(y, maps, mask, max_iter=iters["cg"], tol=None).x,
        "l1_wavelet_sense": lambda: l1_wavelet_sense(y, maps, mask, max_iter=iters["l1"]).x,
        "tv_sense": lambda: tv_sense(y, maps, mask, max_iter=iters["tv"]).x,
    }
    out = {}
    for name, run_it in runs.items():
        t0 = time.perf_counter()
        x = np.asarray(run_it(), dtype=np.complex64) * sup
        out[name] = (x, time.perf_counter() - t0)
    return out


def compute(quick: bool = False) -> dict:
    """Undersample the real scan, reconstruct with the four methods, score them; metrics and figure data."""
    p = problem()
    A = Sense(p["maps"], p["mask"])
    ny = float(np.linalg.norm(p["y"]))
    metrics: dict = {"data": data.FILES[DATA].filename, "acceleration": ACCEL, "calibration": CALIB,
                     "sampled_fraction": float(p["mask"].mean()), "espirit_seconds": p["t_maps"]}
    images = {}
    for name, (x, t) in reconstructions(p, quick).items():
        m = {"psnr": psnr(x, p["ref"]), "ssim": ssim(x, p["ref"]), "time": t,
             "data_consistency": float(np.linalg.norm(A @ x - p["y"]) / ny)}
        metrics[name] = m
        images[name] = x
        print(f"{LABELS[name]:<17} PSNR {m['psnr']:5.2f} dB  SSIM {m['ssim']:.3f}  {t:6.2f} s  "
              f"||MFSx - y||/||y|| {m['data_consistency']:.3f}")
    metrics["figure"] = {"ref": p["ref"], "mask": p["mask"].astype(float), "maps": np.abs(p["maps"]),
                         **{k: np.abs(v) for k, v in images.items()}}
    return metrics


def plot(metrics: dict, out_dir: Path) -> None:
    """``mri.png``: reference and reconstructions (top), mask and error maps (middle), coil maps (bottom)."""
    f = metrics["figure"]
    ref, top = f["ref"], float(f["ref"].max())
    fig = plt.figure(figsize=(17, 8.6), layout="constrained")
    grid = fig.add_gridspec(3, 5, height_ratios=[1, 1, 0.55])
    ax = fig.add_subplot(grid[0, 0])
    h = ax.imshow(ref, cmap="gray", vmin=0, vmax=top)
    ax.set_title("fully sampled reference\n(ESPIRiT-combined, 16 coils)", fontsize=10)
    fig.colorbar(h, ax=ax, fraction=0.046, label="magnitude (a.u.)")
    ax = fig.add_subplot(grid[1, 0])
    ax.imshow(f["mask"], cmap="gray")
    c = metrics["calibration"]
    ax.set_title(f"2-D Poisson-disc mask, R = {metrics['acceleration']:g}\n"
                 f"({metrics['sampled_fraction']:.1%} of k-space, {c}x{c} centre)", fontsize=10)
    ax.set_xlabel("k_x (readout)")
    ax.set_ylabel("k_y (phase encoding)")
    for col, name in enumerate(METHODS, start=1):
        m = metrics[name]
        ax = fig.add_subplot(grid[0, col])
        h = ax.imshow(f[name], cmap="gray", vmin=0, vmax=top)
        ax.set_title(f"{LABELS[name]}\nPSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.3f}, {m['time']:.2f} s",
                     fontsize=10)
        fig.colorbar(h, ax=ax, fraction=0.046)
        ax = fig.add_subplot(grid[1, col])
        h = ax.imshow(np.abs(f[name] - ref), cmap="magma", vmin=0, vmax=0.2 * top)
        ax.set_title(f"|error| of {LABELS[name]} (x5 scale)", fontsize=10)
        fig.colorbar(h, ax=ax, fraction=0.046)
    for a in fig.axes:
        if a.images and a.get_xlabel() == "":
            a.set_xlabel("x (pixels, 2 mm)")
            a.set_ylabel("y (pixels, 2 mm)")
    ax = fig.add_subplot(grid[2, :])
    maps = f["maps"]
    h = ax.imshow(np.concatenate(list(maps), axis=1), cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(h, ax=ax, fraction=0.01, label="|S_c|")
    ax.set_title(f"ESPIRiT maps |S_c| of the {len(maps)} coils (from the calibration centre; "
                 f"{metrics['espirit_seconds']:.2f} s)", fontsize=10)
    ax.set_axis_off()
    fig.suptitle(f"Real 16-channel brain scan ({metrics['data']}), retrospective R = "
                 f"{metrics['acceleration']:g}: zero-filled vs CG / l1-wavelet / TV SENSE at csbox's default "
                 "relative lam", fontsize=12)
    save(fig, Path(out_dir) / "mri.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Reconstruct, plot ``mri.png``, return the metrics (``zero_filled``, ``cg_sense``, ... and ``data``)."""
    metrics = compute(quick)
    plot(metrics, out_dir)
    return strip_arrays(metrics)
