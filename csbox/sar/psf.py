"""Image-quality figures of SAR images: main-lobe widths of a point response, target-to-clutter ratio."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_numpy_mask, check_scalar
from ..backend import to_numpy
from ..metrics import lobe_width
from .geometry import ImageGrid

__all__ = ["psf_widths", "target_to_clutter_db"]


def psf_widths(image: Any, grid: ImageGrid, level_db: float = -3.0) -> dict[str, float]:
    """Widths (m) of the main lobe at ``level_db`` through the peak of ``|image|`` along each grid axis.

    Linear interpolation between samples on both sides of the peak
    (:func:`csbox.metrics.lobe_width`). Returns ``{"y": ..., "z": ...}`` (and
    ``"x"`` for volumes) plus the peak position ``peak_y``, ``peak_z`` (``peak_x``).
    An axis with a single sample (e.g. a one-plane x-y image at a known range) has no
    lobe to measure: its width is NaN.

    Parameters
    ----------
    image : array, shape ``grid.shape``
        Reconstructed image (any namespace; its magnitude is used), finite, not all zero.
    grid : ImageGrid
        The image's grid (``TypeError`` otherwise).
    level_db : float, default -3.0
        Level below the peak (dB), ``< 0``.

    Returns
    -------
    dict of str to float
        Widths (m) ``"y"``, ``"z"`` (and ``"x"``) and peak coordinates (m) ``"peak_y"``,
        ``"peak_z"`` (and ``"peak_x"``).
    """
    if not isinstance(grid, ImageGrid):
        raise TypeError(f"grid must be a csbox.sar.ImageGrid, got {type(grid).__name__}")
    level_db = check_scalar("level_db", level_db, high=0.0, high_open=True)
    mag = np.abs(to_numpy(image))
    if mag.shape != grid.shape:
        raise ValueError(f"image has shape {mag.shape}, expected the grid's {grid.shape}")
    if not np.all(np.isfinite(mag)) or not mag.max() > 0:
        raise ValueError("image must be finite and not all zero")
    peak = np.unravel_index(np.argmax(mag), mag.shape)
    level = mag[peak] * 10 ** (level_db / 20)
    axes = {"y": grid.y, "z": grid.z} if mag.ndim == 2 else {"x": grid.x, "y": grid.y, "z": grid.z}
    out: dict[str, float] = {}
    for ax, (name, coords) in enumerate(axes.items()):
        line = np.moveaxis(mag, ax, 0)[(slice(None), *[p for i, p in enumerate(peak) if i != ax])]
        i0 = peak[ax]
        out[name] = lobe_width(line, coords, i0, level) if line.size > 1 else float("nan")
        out[f"peak_{name}"] = float(coords[i0])
    return out


def target_to_clutter_db(image: Any, near: Any) -> float:
    r"""Target-to-clutter ratio (dB): energy of ``image`` on the ``near`` mask over the energy elsewhere.

    .. math:: \mathrm{TCR} = 10 \log_{10} \frac{\sum_{v \in near} |x_v|^2}{\sum_{v \notin near} |x_v|^2}

    ``near`` is a boolean mask of the image's shape (e.g. one resolution cell around
    each target). A clutter-free image gives a very large, finite value.

    Parameters
    ----------
    image : array
        Reconstructed image (any namespace and shape).
    near : array of bool (or 0/1), shape ``image.shape``
        The target region; it must mark some pixels and leave some unmarked.

    Returns
    -------
    float
        The ratio (dB).
    """
    e = np.abs(to_numpy(image)) ** 2
    mask = as_numpy_mask("near", near, e.shape)
    if not mask.any() or mask.all():
        raise ValueError("near must mark some pixels and leave some unmarked")
    return float(10 * np.log10(e[mask].sum() / max(e[~mask].sum(), 1e-300)))
