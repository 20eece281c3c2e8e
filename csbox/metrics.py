r"""Quality metrics of reconstructions (host side: arrays of any namespace are copied to NumPy).

* :func:`psnr`: ``10 log10(peak^2 / mean |x - ref|^2)`` (dB);
* :func:`nmse_db`: ``10 log10(||x - ref||^2 / ||ref||^2)`` (dB);
* :func:`support_recovery`: ``|S_hat ∩ S| / |S_hat ∪ S|`` of the significant entries;
* :func:`to_db`: magnitude in dB relative to its maximum, for display;
* :func:`lobe_width`: width of a main lobe at a level, for point-spread functions.

By default :func:`psnr` and :func:`nmse_db` compare the magnitude ``|x|`` with a
real reference image (MRI convention: the reconstruction is complex, the
phantom real); ``magnitude=False`` compares the values themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_bool, check_int, check_scalar
from .backend import to_numpy

__all__ = ["lobe_width", "nmse_db", "psnr", "support_recovery", "to_db"]


def _host(name: str, a: Any, *, real: bool = False, nonempty: bool = True) -> np.ndarray:
    """``a`` as a finite numeric NumPy array (booleans and integers allowed), else an error naming it."""
    h = to_numpy(a)
    if h.dtype.kind not in ("biuf" if real else "biufc"):
        what = "real numeric" if real else "numeric"
        raise TypeError(f"{name} must be a {what} array, got dtype {h.dtype}")
    if nonempty and h.size == 0:
        raise ValueError(f"{name} is empty (shape {h.shape})")
    if h.dtype.kind in "fc" and not np.all(np.isfinite(h)):
        raise ValueError(f"{name} contains NaN or Inf; it must be finite")
    return h


def _pair(x: Any, ref: Any, magnitude: bool) -> tuple[np.ndarray, np.ndarray]:
    magnitude = check_bool("magnitude", magnitude)
    a, r = to_numpy(x), to_numpy(ref)
    if a.shape != r.shape:
        raise ValueError(f"x has shape {a.shape} but ref has shape {r.shape}; they must match")
    if a.size == 0:
        raise ValueError("x and ref are empty")
    a, r = _host("x", a), _host("ref", r)
    return (np.abs(a) if magnitude else a), r


def psnr(x: Any, ref: Any, *, peak: float | None = None, magnitude: bool = True) -> float:
    r"""Peak signal-to-noise ratio (dB) of ``x`` against ``ref``.

    .. math:: \mathrm{PSNR} = 10 \log_{10} \frac{p^2}{\mathrm{mean}\, |x - \mathrm{ref}|^2}

    Parameters
    ----------
    x, ref : arrays of one shape
    peak : float, optional
        ``p > 0``; default ``max |ref|`` (then ``ref`` must not be all zero).
    magnitude : bool
        Compare ``|x|`` (default) or ``x`` with ``ref``.

    Returns
    -------
    float
        ``inf`` when ``x`` equals ``ref``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.metrics import psnr
    >>> ref = np.zeros((8, 8)); ref[2:6, 2:6] = 1.0
    >>> round(psnr(ref + 0.01, ref), 3)
    40.0
    """
    a, r = _pair(x, ref, magnitude)
    p = float(np.max(np.abs(r))) if peak is None else check_scalar("peak", peak, low=0.0, low_open=True)
    if p == 0:
        raise ValueError("ref is all zero, so its peak is 0 and the PSNR is undefined; give peak")
    mse = float(np.mean(np.abs(a - r) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(p**2 / mse))


def nmse_db(x: Any, ref: Any, *, magnitude: bool = True) -> float:
    r"""Normalised mean-squared error (dB): ``10 log10(||x - ref||^2 / ||ref||^2)``.

    ``x`` is replaced by ``|x|`` unless ``magnitude=False``; ``ref`` must not be all zero.

    Parameters
    ----------
    x, ref : arrays of one shape
        Estimate and reference (any namespace), finite and non-empty.
    magnitude : bool, default True
        Compare ``|x|`` with ``ref`` (for magnitude references of complex images).

    Returns
    -------
    float
        The NMSE (dB); ``-inf`` for an exact match.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.metrics import nmse_db
    >>> ref = np.ones(100)
    >>> round(nmse_db(ref + 0.1, ref), 3)
    -20.0
    """
    a, r = _pair(x, ref, magnitude)
    den = float(np.sum(np.abs(r) ** 2))
    if den == 0:
        raise ValueError("ref is all zero; the NMSE is undefined")
    num = float(np.sum(np.abs(a - r) ** 2))
    return float("-inf") if num == 0 else float(10 * np.log10(num / den))


def support_recovery(x_hat: Any, x: Any, *, rel_threshold: float = 1e-3) -> float:
    r"""Support recovery rate ``|S_hat ∩ S| / |S_hat ∪ S|`` (1 when equal, 0 when disjoint).

    ``S = {i : x_i != 0}``, ``S_hat = {i : |x_hat_i| > rel_threshold max |x_hat|}``.

    Parameters
    ----------
    x_hat : array
        The estimate (any namespace and shape; flattened), finite and non-empty: a NaN estimate
        (a diverged solver) raises instead of being scored.
    x : array
        The true signal, finite, with as many entries as ``x_hat``.
    rel_threshold : float, default 1e-3
        Threshold relative to ``max |x_hat|``, in ``[0, 1)`` (at 1 nothing would count as
        significant).

    Returns
    -------
    float
        The Jaccard index in ``[0, 1]`` (1 when both supports are empty).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.metrics import support_recovery
    >>> x = np.array([0.0, 1.0, 0.0, 2.0])
    >>> support_recovery(np.array([0.0, 0.9, 0.0, 2.1]), x)
    1.0
    >>> round(support_recovery(np.array([0.5, 1.0, 0.0, 0.0]), x), 4)
    0.3333
    """
    xh, x0 = _host("x_hat", x_hat).ravel(), _host("x", x).ravel()
    if xh.shape != x0.shape:
        raise ValueError(f"x_hat has {xh.size} entries but x has {x0.size}; they must match")
    thr = check_scalar("rel_threshold", rel_threshold, low=0.0, high=1.0, high_open=True)
    a = np.abs(xh)
    s_hat = set(np.flatnonzero(a > thr * a.max())) if a.size and a.max() > 0 else set()
    s = set(np.flatnonzero(x0))
    return len(s_hat & s) / max(len(s_hat | s), 1)


def to_db(x: Any, *, floor: float = 1e-12) -> np.ndarray:
    """``20 log10(|x| / max |x| + floor)``: a magnitude image in dB below its peak (for display).

    Parameters
    ----------
    x : array
        Numeric (real, complex or boolean) array, any namespace; finite, not empty or all zero.
    floor : float, default 1e-12
        Added to the normalised magnitude before the log, ``> 0`` (so zeros map to
        ``20 log10(floor)``, -240 dB by default).

    Returns
    -------
    numpy.ndarray of float64, shape ``x.shape``
        Values ``<= 20 log10(1 + floor)``, about 0 dB at the peak.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.metrics import to_db
    >>> to_db(np.array([1.0, 10.0, 100.0])).round(3)
    array([-40., -20.,   0.])
    """
    floor = check_scalar("floor", floor, low=0.0, low_open=True)
    a = to_numpy(x)
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"x must be a numeric array, got dtype {a.dtype}")
    a = np.abs(a)
    if not np.all(np.isfinite(a)):
        raise ValueError("x contains NaN or Inf")
    m = a.max() if a.size else 0.0
    if not m > 0:
        raise ValueError("x is empty or all zero; it has no dB scale")
    return 20 * np.log10(a / m + floor)


def lobe_width(profile: np.ndarray, coords: np.ndarray, peak: int, level: float) -> float:
    """Width of the lobe of ``profile`` around index ``peak`` at ``level`` (same units as ``profile``).

    Walks out from the peak to the first samples at or below ``level`` on each side and
    interpolates the crossings linearly between samples (``coords`` gives their positions).
    A side that stays above ``level`` up to the end of the profile is extrapolated from its
    last two samples.

    Parameters
    ----------
    profile : array, shape ``(n,)``
        A 1-D cut through the lobe, ``n >= 2``, finite (e.g. a magnitude).
    coords : array, shape ``(n,)``
        Sample positions (any length unit), finite.
    peak : int
        Index of the lobe's maximum, ``0 <= peak < n``.
    level : float
        Level in the units of ``profile``, below ``profile[peak]``.

    Returns
    -------
    float
        The width in the units of ``coords``.
    """
    profile = _host("profile", np.asarray(profile), real=True).astype(float)
    coords = _host("coords", np.asarray(coords), real=True).astype(float)
    if profile.ndim != 1 or profile.size < 2:
        raise ValueError(f"profile must be a 1-D array of at least 2 samples, got shape {profile.shape}")
    if coords.shape != profile.shape:
        raise ValueError(f"coords has shape {coords.shape} but profile has {profile.shape}; they must match")
    if not (np.all(np.isfinite(profile)) and np.all(np.isfinite(coords))):
        raise ValueError("profile and coords must be finite")
    peak = check_int("peak", peak, low=0, high=profile.size - 1)
    level = check_scalar("level", level)
    if not profile[peak] > level:
        raise ValueError(f"level ({level:g}) must be below the profile at peak ({profile[peak]:g})")
    lo = peak
    while lo > 0 and profile[lo] > level:
        lo -= 1
    hi = peak
    while hi < profile.size - 1 and profile[hi] > level:
        hi += 1

    def cross(a: int, b: int) -> float:
        if profile[a] == profile[b]:
            return float(coords[a])
        t = (level - profile[a]) / (profile[b] - profile[a])
        return float(coords[a] + t * (coords[b] - coords[a]))

    return cross(hi, hi - 1) - cross(lo, lo + 1)
