"""k-space sampling masks: uniform random, variable density, equispaced, Poisson disc.

Every mask is a seeded boolean NumPy array of the requested shape with exactly
the requested number of samples (give ``n_samples`` or ``acceleration``
``= size / n_samples``). A fully-sampled calibration region of ``calib``
samples per axis, centred on DC, is part of the count. Masks are centred (DC at
index ``n // 2`` on each axis, for ``PartialFourier(..., centered=True)``)
unless ``centered=False``, which returns them in NumPy's FFT order (DC at 0).

For Cartesian MRI, draw a 1-D mask over phase-encode lines and broadcast it
with :func:`cartesian`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "cartesian",
    "equispaced",
    "point_spread_function",
    "poisson_disc",
    "uniform_random",
    "variable_density",
]


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if not shape or any(s <= 0 for s in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape}")
    return shape


def _count(shape: tuple[int, ...], n_samples: int | None, acceleration: float | None) -> int:
    size = math.prod(shape)
    if (n_samples is None) == (acceleration is None):
        raise ValueError("give exactly one of n_samples and acceleration")
    if acceleration is not None:
        if not acceleration >= 1.0:
            raise ValueError(f"acceleration must be >= 1, got {acceleration}")
        n_samples = max(1, round(size / acceleration))
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if not 1 <= n_samples <= size:
        raise ValueError(f"n_samples must be in [1, {size}] for shape {shape}, got {n_samples}")
    return int(n_samples)


def _calib_region(shape: tuple[int, ...], calib: int | Sequence[int]) -> np.ndarray:
    """Boolean centred box of ``calib`` samples per axis."""
    c = (int(calib),) * len(shape) if isinstance(calib, (int, np.integer)) else tuple(calib)
    if len(c) != len(shape) or any(ci < 0 or ci > s for ci, s in zip(c, shape, strict=True)):
        raise ValueError(f"calib must be a size in [0, n] per axis of {shape}, got {calib!r}")
    region = np.zeros(shape, dtype=bool)
    if all(ci > 0 for ci in c):
        sl = tuple(slice(s // 2 - ci // 2, s // 2 - ci // 2 + ci) for s, ci in zip(shape, c, strict=True))
        region[sl] = True
    return region


def _radius(shape: tuple[int, ...]) -> np.ndarray:
    """Normalised distance from the centre (1 at the middle of each edge)."""
    grids = np.meshgrid(
        *[(np.arange(s) - s // 2) / max(s / 2, 1) for s in shape], indexing="ij", sparse=True
    )
    return np.sqrt(sum(g**2 for g in grids))


def _finish(mask: np.ndarray, centered: bool) -> np.ndarray:
    return mask if centered else np.fft.ifftshift(mask)


def _draw(
    shape: tuple[int, ...], n: int, calib: int | Sequence[int], weights: np.ndarray, seed: int
) -> np.ndarray:
    region = _calib_region(shape, calib)
    n_cal = int(region.sum())
    if n_cal > n:
        raise ValueError(f"calibration region has {n_cal} samples, more than n_samples = {n}")
    rng = np.random.default_rng(seed)
    free = np.flatnonzero(~region)
    w = weights.ravel()[free].astype(float)
    w = np.maximum(w, 1e-12 * w.max() if w.max() > 0 else 1.0)
    pick = rng.choice(free, size=n - n_cal, replace=False, p=w / w.sum())
    mask = region.ravel().copy()
    mask[pick] = True
    return mask.reshape(shape)


def uniform_random(
    shape: int | Sequence[int],
    n_samples: int | None = None,
    *,
    acceleration: float | None = None,
    calib: int | Sequence[int] = 0,
    seed: int = 0,
    centered: bool = True,
) -> np.ndarray:
    """Samples drawn uniformly at random without replacement (plus a calibration region)."""
    shape = _shape(shape)
    n = _count(shape, n_samples, acceleration)
    return _finish(_draw(shape, n, calib, np.ones(shape), seed), centered)


def variable_density(
    shape: int | Sequence[int],
    n_samples: int | None = None,
    *,
    acceleration: float | None = None,
    density: str = "poly",
    power: float = 2.0,
    sigma: float = 0.3,
    calib: int | Sequence[int] = 0,
    seed: int = 0,
    centered: bool = True,
) -> np.ndarray:
    """Variable-density random sampling (Lustig, Donoho, Pauly 2007).

    Outside the calibration region, samples are drawn without replacement with
    probability proportional to ``(1 - r)^power`` (``density="poly"``) or
    ``exp(-r^2 / (2 sigma^2))`` (``density="gauss"``), ``r`` the distance from
    DC normalised to 1 at the edge midpoints.
    """
    shape = _shape(shape)
    n = _count(shape, n_samples, acceleration)
    r = _radius(shape)
    if density == "poly":
        if power < 0:
            raise ValueError(f"power must be >= 0, got {power}")
        w = np.clip(1.0 - r / r.max(), 0.0, None) ** power
    elif density == "gauss":
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        w = np.exp(-(r**2) / (2.0 * sigma**2))
    else:
        raise ValueError(f"density must be 'poly' or 'gauss', got {density!r}")
    return _finish(_draw(shape, n, calib, w, seed), centered)


def equispaced(
    shape: int | Sequence[int],
    n_samples: int | None = None,
    *,
    acceleration: float | None = None,
    calib: int | Sequence[int] = 0,
    centered: bool = True,
) -> np.ndarray:
    """Regular sampling plus a calibration region (GRAPPA/SENSE-style).

    The samples outside the calibration region sit at evenly spaced positions
    of the C-order flat index of the non-calibration points: every R-th line in
    1-D, a sheared lattice in N-d. Deterministic.
    """
    shape = _shape(shape)
    n = _count(shape, n_samples, acceleration)
    region = _calib_region(shape, calib)
    n_cal = int(region.sum())
    if n_cal > n:
        raise ValueError(f"calibration region has {n_cal} samples, more than n_samples = {n}")
    free = np.flatnonzero(~region)
    k = n - n_cal
    mask = region.ravel().copy()
    if k:
        step = free.size / k
        pos = np.floor(np.arange(k) * step + step / 2).astype(int)
        mask[free[pos]] = True
    return _finish(mask.reshape(shape), centered)


def poisson_disc(
    shape: Sequence[int],
    n_samples: int | None = None,
    *,
    acceleration: float | None = None,
    calib: int | Sequence[int] = 0,
    seed: int = 0,
    centered: bool = True,
) -> np.ndarray:
    """2-D Poisson-disc sampling: random points no closer than a radius ``r``.

    Dart throwing in a seeded random order with an occupancy grid; ``r`` is
    found by bisection so that the accepted count brackets ``n_samples``, then
    the count is made exact by dropping (or adding) random non-calibration
    points.
    """
    shape = _shape(shape)
    if len(shape) != 2:
        raise ValueError(f"poisson_disc needs a 2-D shape, got {shape}")
    n = _count(shape, n_samples, acceleration)
    region = _calib_region(shape, calib)
    n_cal = int(region.sum())
    if n_cal > n:
        raise ValueError(f"calibration region has {n_cal} samples, more than n_samples = {n}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(math.prod(shape))

    def throw(r: float) -> np.ndarray:
        R = math.ceil(r)
        oy, ox = np.mgrid[-R : R + 1, -R : R + 1]
        disc = (oy**2 + ox**2) < r * r
        occ = np.zeros((shape[0] + 2 * R, shape[1] + 2 * R), dtype=bool)
        occ[R:-R or None, R:-R or None] = region  # calibration points also repel
        acc = np.zeros(shape, dtype=bool)
        W = shape[1]
        for f in order:
            i, j = divmod(int(f), W)
            if region[i, j] or occ[i + R, j + R]:
                continue
            acc[i, j] = True
            occ[i : i + 2 * R + 1, j : j + 2 * R + 1] |= disc
        return acc

    k = n - n_cal
    lo, hi = 0.5, float(max(shape))
    best = throw(lo)
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        acc = throw(mid)
        if acc.sum() >= k:
            lo, best = mid, acc
        else:
            hi = mid
    pts = np.flatnonzero(best)
    if pts.size > k:
        pts = rng.choice(pts, size=k, replace=False)
    mask = region.ravel().copy()
    mask[pts] = True
    if pts.size < k:
        free = np.flatnonzero(~mask)
        mask[rng.choice(free, size=k - pts.size, replace=False)] = True
    return _finish(mask.reshape(shape), centered)


def cartesian(lines: np.ndarray, shape: Sequence[int], axis: int = 0) -> np.ndarray:
    """Broadcast a 1-D line mask along ``axis`` of ``shape`` to a full Cartesian mask."""
    lines = np.asarray(lines)
    shape = _shape(shape)
    axis = axis % len(shape)
    if lines.dtype != np.bool_ or lines.ndim != 1 or lines.size != shape[axis]:
        raise ValueError(
            f"lines must be a 1-D boolean array of length shape[{axis}] = {shape[axis]}, "
            f"got dtype {lines.dtype} and shape {lines.shape}"
        )
    view = [1] * len(shape)
    view[axis] = -1
    return np.broadcast_to(lines.reshape(view), shape).copy()


def point_spread_function(mask: np.ndarray, *, centered: bool = True) -> np.ndarray:
    """Normalised magnitude PSF of a mask: ``|F^H mask|`` with its peak at 1, centred."""
    m = np.asarray(mask, dtype=float)
    if centered:
        m = np.fft.ifftshift(m)
    psf = np.abs(np.fft.fftshift(np.fft.ifftn(m)))
    return psf / psf.max()
