"""Demo ``fourier-sampling``: the five k-space mask families and their point-spread functions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..sampling import (
    cartesian,
    equispaced,
    point_spread_function,
    poisson_disc,
    uniform_random,
    variable_density,
)
from ._plot import plt, save, strip_arrays

NAME = "fourier-sampling"
DESCRIPTION = "k-space masks (random, variable density poly/Gauss, equispaced, Poisson disc) and their PSFs"


def masks(n: int, acceleration: float = 4.0, seed: int = 0) -> dict[str, np.ndarray]:
    """The demo's masks on an ``n x n`` grid at the given acceleration."""
    shape = (n, n)
    calib = max(n // 16, 2)
    return {
        "uniform random": uniform_random(shape, acceleration=acceleration, seed=seed),
        "variable density (poly)": variable_density(
            shape, acceleration=acceleration, density="poly", calib=calib, seed=seed
        ),
        "variable density (Gauss)": variable_density(
            shape, acceleration=acceleration, density="gauss", calib=calib, seed=seed
        ),
        "equispaced lines + calib": cartesian(
            equispaced(n, acceleration=acceleration, calib=calib), shape, axis=0
        ),
        "Poisson disc": poisson_disc(shape, acceleration=acceleration, calib=calib, seed=seed),
    }


def compute(quick: bool = False) -> dict:
    """Sample counts, accelerations and peak side lobes of each mask (masks and PSFs as figure data)."""
    n = 64 if quick else 128
    metrics = {}
    for name, m in masks(n).items():
        psf = point_spread_function(m)
        side = psf.copy()
        side[n // 2 - 1 : n // 2 + 2, n // 2 - 1 : n // 2 + 2] = 0.0  # main lobe
        psl = 20 * np.log10(side.max())
        metrics[name] = {"samples": int(m.sum()), "acceleration": m.size / m.sum(), "psl_db": psl,
                         "mask": m, "psf": psf}
        print(f"{name:<28} samples {int(m.sum()):6d}  R = {m.size / m.sum():.2f}  "
              f"peak side lobe {psl:6.1f} dB")
    return metrics


def plot(data: dict, out_dir: Path) -> None:
    """Each mask above its log-magnitude PSF (``fourier_sampling.png``)."""
    fig, axes = plt.subplots(2, len(data), figsize=(3.6 * len(data), 7.2), layout="constrained")
    for k, (name, d) in enumerate(data.items()):
        m, psf, psl = d["mask"], d["psf"], d["psl_db"]
        axes[0, k].imshow(m, cmap="gray", interpolation="nearest")
        axes[0, k].set_title(f"{name}\nR = {m.size / m.sum():.1f}", fontsize=9)
        axes[0, k].set_xlabel("k_x (index)")
        axes[0, k].set_ylabel("k_y (index)")
        im = axes[1, k].imshow(20 * np.log10(psf + 1e-6), cmap="magma", vmin=-60, vmax=0)
        axes[1, k].set_title(f"PSF, peak side lobe {psl:.1f} dB", fontsize=9)
        axes[1, k].set_xlabel("x (pixels)")
        axes[1, k].set_ylabel("y (pixels)")
        fig.colorbar(im, ax=axes[1, k], fraction=0.046, label="dB")
    n = next(iter(data.values()))["mask"].shape[0]
    fig.suptitle(f"k-space masks on {n}x{n} and their point-spread functions (|F^H mask|, dB)")
    save(fig, Path(out_dir) / "fourier_sampling.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Plot each mask and its log-magnitude PSF; return sample counts and peak side lobes."""
    data = compute(quick)
    plot(data, out_dir)
    return strip_arrays(data)
