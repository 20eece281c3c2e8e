"""B-mode display: an image grid fine enough for speckle, envelope log compression."""

from __future__ import annotations

import numpy as np

from .._validation import check_scalar
from ..backend import Array, to_numpy
from .probe import C_SOUND, Probe

__all__ = ["bmode", "image_grid"]


def image_grid(
    probe: Probe,
    xlim: tuple[float, float] | None = None,
    zlim: tuple[float, float] = (5e-3, 40e-3),
    *,
    c: float = C_SOUND,
    axial_step: float | None = None,
    lateral_step: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(x, z)`` (m) for B-mode: ``lambda / 4`` axially, ``lambda / 2`` laterally.

    The beamformed IQ oscillates axially at the two-way carrier, ``e^{j 4 pi fc z / c}``
    (period ``lambda / 2``) and the envelope varies on the pulse length: a grid coarser
    than ``lambda / 4`` axially aliases the speckle into streaks. ``axial_step`` larger
    than ``lambda / 4`` is rejected. ``xlim`` defaults to the probe's aperture.

    Parameters
    ----------
    probe : Probe
        Gives ``lambda = c / fc`` and the default lateral extent.
    xlim : pair of float, optional
        Lateral extent (m), increasing; default: first to last element centre.
    zlim : pair of float, default (5e-3, 40e-3)
        Depth extent (m), ``0 < zlim[0] < zlim[1]``.
    c : float, default 1540.0
        Speed of sound (m/s).
    axial_step : float, optional
        Depth spacing (m), ``0 < axial_step <= lambda / 4`` (default ``lambda / 4``).
    lateral_step : float, optional
        Lateral spacing (m), ``> 0`` (default ``lambda / 2``).

    Returns
    -------
    x, z : numpy.ndarray of float64
        1-D pixel coordinates (m) from ``xlim[0]`` and ``zlim[0]`` to the upper limits (included
        within half a step).
    """
    lam = probe.wavelength(c)
    dz = check_scalar("axial_step", axial_step if axial_step is not None else lam / 4, low=0, low_open=True)
    if dz > lam / 4 * (1 + 1e-9):
        raise ValueError(
            f"axial_step must be <= lambda / 4 = {lam / 4:.3g} m for a B-mode display, got {dz:.3g}"
        )
    dx = check_scalar(
        "lateral_step", lateral_step if lateral_step is not None else lam / 2, low=0, low_open=True
    )
    if xlim is None:
        xlim = (float(probe.x[0]), float(probe.x[-1]))
    x0, x1 = (check_scalar("xlim", v) for v in xlim)
    z0, z1 = (check_scalar("zlim", v) for v in zlim)
    if not (x1 > x0 and z1 > z0 > 0):
        raise ValueError(f"need xlim increasing and 0 < zlim[0] < zlim[1], got {xlim}, {zlim}")
    return np.arange(x0, x1 + dx / 2, dx), np.arange(z0, z1 + dz / 2, dz)


def bmode(img: Array, dynamic_range: float = 60.0) -> np.ndarray:
    """Log-compressed envelope ``20 log10(|img| / max |img|)`` (dB), clipped at ``-dynamic_range``.

    Parameters
    ----------
    img : array
        Beamformed image (complex IQ or real envelope), any shape and namespace; finite.
    dynamic_range : float, default 60.0
        Displayed range (dB), ``> 0``.

    Returns
    -------
    numpy.ndarray of float64, shape ``img.shape``
        Values in ``[-dynamic_range, 0]`` dB, 0 dB at the brightest pixel (all
        ``-dynamic_range`` for an all-zero image).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.ultrasound import bmode
    >>> img = bmode(np.array([[1.0, 0.1], [0.01, 1e-5]]), dynamic_range=60.0)
    >>> img.round(1)
    array([[  0., -20.],
           [-40., -60.]])
    """
    dynamic_range = check_scalar("dynamic_range", dynamic_range, low=0, low_open=True)
    a = np.abs(to_numpy(img))
    if a.size == 0:
        raise ValueError(f"img is empty (shape {a.shape}): there is no peak to refer the dB to")
    peak = a.max()
    if not np.isfinite(peak):
        raise ValueError("img contains NaN or Inf")
    if peak == 0:
        return np.full(a.shape, -dynamic_range)
    return np.clip(20 * np.log10(a / peak + 1e-300), -dynamic_range, 0)
