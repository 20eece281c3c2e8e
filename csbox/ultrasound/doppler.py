r"""Colour and power Doppler: SVD clutter filter and the Kasai / Loupas autocorrelation estimators.

A scatterer at depth ``z(t)`` contributes ``e^{-j 4 pi f z / c}`` to the beamformed
IQ (csbox's convention, :mod:`~csbox.ultrasound.pulse_echo`), so between two
pulses ``1/PRF`` apart the phase advances by ``-4 pi f v_away / (c PRF)``. With the
lag-one slow-time autocorrelation ``R1 = sum_n s_n^* s_{n+1}`` and ``R0 = sum_n
|s_n|^2`` (both summed over a spatial window and within one ensemble):

.. math:: v = \pm \frac{c\, \mathrm{PRF}}{4 \pi \bar f}\, \angle R_1, \qquad
          \sigma_f^2 = \frac{\mathrm{PRF}^2}{2 \pi^2}\Big(1 - \frac{|R_1|}{R_0}\Big),

the sign ``+`` for ``positive="toward"`` (the clinical convention: flow toward the
probe is positive, red) and ``-`` for ``"away"``. Velocities beyond the Nyquist
velocity ``c PRF / (4 f)`` alias (wrap to the opposite sign). ``f`` is ``fc``, or
with ``dz`` given the per-pixel mean frequency from the axial lag-one
autocorrelation (Loupas): the beamformed image of a scatterer turns by ``4 pi f dz
/ c`` per axial pixel, so ``f = fc + c angle(R(1,0) e^{-j 4 pi fc dz / c}) / (4 pi dz)``.

References
----------
C. Kasai, K. Namekawa, A. Koyano, R. Omoto, "Real-time two-dimensional blood flow imaging
using an autocorrelation technique", IEEE Trans. Sonics Ultrason. 1985. T. Loupas, J. T.
Powers, R. W. Gill, "An axial velocity estimator for ultrasound blood flow imaging, based on
a full evaluation of the Doppler equation by means of a two-dimensional autocorrelation
approach", IEEE TUFFC 1995. C. Demené et al., "Spatiotemporal clutter filtering of ultrafast
ultrasound data", IEEE TMI 2015.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._validation import check_axes, check_choice, check_int, check_scalar
from ..backend import Array, array_namespace, device
from .probe import C_SOUND

__all__ = ["DopplerMaps", "clutter_filter_svd", "kasai"]


def clutter_filter_svd(ensemble: Array, rank: int) -> Array:
    """Remove the ``rank`` largest singular components of a slow-time ensemble ``(nz, nx, n_pulses)``.

    Tissue (clutter) is slow and spatially coherent: it dominates the leading singular
    vectors of the Casorati matrix ``(pixels x pulses)`` (Demené et al. 2015).

    Parameters
    ----------
    ensemble : array, shape ``(nz, nx, n_pulses)``
        Beamformed IQ frames along slow time (real or complex).
    rank : int
        Number of leading singular components removed, ``0 <= rank <= n_pulses - 1``.

    Returns
    -------
    array, shape ``(nz, nx, n_pulses)``
        The filtered ensemble, in the input's namespace, device and dtype.

    References
    ----------
    C. Demené et al., "Spatiotemporal clutter filtering of ultrafast ultrasound data highly
    increases Doppler and fUltrasound sensitivity", IEEE TMI 34(11), 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.ultrasound import clutter_filter_svd
    >>> rng = np.random.default_rng(0)
    >>> tissue = np.ones((20, 16, 16)) * (3.0 + 2.0j)
    >>> noise = rng.standard_normal((2, 20, 16, 16))
    >>> blood = 0.01 * (noise[0] + 1j * noise[1])
    >>> out = clutter_filter_svd(tissue + blood, rank=1)
    >>> out.shape, bool(np.linalg.norm(out) < 2 * np.linalg.norm(blood))
    ((20, 16, 16), True)
    """
    if not hasattr(ensemble, "shape") or ensemble.ndim != 3:
        raise ValueError(
            f"ensemble must have shape (nz, nx, n_pulses), got {getattr(ensemble, 'shape', None)}"
        )
    xp = array_namespace(ensemble)
    nz, nx, n = ensemble.shape
    if nz * nx == 0 or n < 2:
        raise ValueError(
            f"ensemble must hold at least one pixel and two pulses, got shape {tuple(ensemble.shape)}"
        )
    if not xp.all(xp.isfinite(ensemble)):
        raise ValueError("ensemble contains NaN or Inf")
    rank = check_int("rank", rank, low=0, high=n - 1)
    Cm = xp.reshape(ensemble, (nz * nx, n))
    U, S, Vh = xp.linalg.svd(Cm, full_matrices=False)
    keep = xp.astype(xp.arange(S.shape[0], device=device(S)) >= rank, S.dtype)
    filt = (U * xp.astype(S * keep, U.dtype)[None, :]) @ Vh
    return xp.reshape(filt, (nz, nx, n))


@dataclass
class DopplerMaps:
    """Result of :func:`kasai`.

    Attributes
    ----------
    velocity : array
        Axial velocity (m/s), signed as ``positive`` says.
    power : array
        Power Doppler ``mean_n |s_n|^2`` per pixel (and ensemble).
    variance : array
        Kasai's Doppler-frequency variance ``(PRF^2 / (2 pi^2)) (1 - |R1| / R0)`` (Hz^2);
        ``variance * 2 pi^2 / PRF^2`` is the normalised turbulence index in [0, 1].
    nyquist : float
        Nyquist velocity ``c PRF / (4 fc)`` (m/s): faster flow aliases.
    near_nyquist : array of bool
        Pixels whose phase step exceeds ``3 pi / 4`` (speed above 75 % of Nyquist): there
        aliasing is likely; a single lag cannot tell an aliased velocity from a true one.
    positive : str
        ``"toward"`` (flow toward the probe positive) or ``"away"``.
    """

    velocity: Array
    power: Array
    variance: Array
    nyquist: float
    near_nyquist: Array
    positive: str

    @property
    def aliased_fraction(self) -> float:
        """Fraction of pixels flagged ``near_nyquist``."""
        xp = array_namespace(self.near_nyquist)
        return float(xp.mean(xp.astype(self.near_nyquist, xp.float64)))


def _box_sum(a: Array, axis: int, width: int) -> Array:
    """Centred moving sum of ``width`` samples along ``axis`` (zero-padded edges, same length)."""
    if width <= 1:
        return a
    xp = array_namespace(a)
    n = a.shape[axis]
    lo = (width - 1) // 2
    hi = width - 1 - lo
    cs = xp.cumulative_sum(a, axis=axis, include_initial=True)  # length n + 1
    idx_hi = xp.asarray([min(i + hi + 1, n) for i in range(n)], device=device(a))
    idx_lo = xp.asarray([max(i - lo, 0) for i in range(n)], device=device(a))
    return xp.take(cs, idx_hi, axis=axis) - xp.take(cs, idx_lo, axis=axis)


def _windowed(r: Array, window: tuple[int, int] | None, spatial: tuple[int, int]) -> Array:
    if window is None:
        return r
    out = _box_sum(r, spatial[0], window[0])
    return _box_sum(out, spatial[1], window[1])


def _check_window(window: Any) -> tuple[int, int] | None:
    if window is None:
        return None
    if isinstance(window, int) and not isinstance(window, bool):
        window = (window, 1)
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise ValueError(f"window must be an int (axial) or (axial, lateral) pixels, got {window!r}")
    return (check_int("window[0]", window[0], low=1), check_int("window[1]", window[1], low=1))


def kasai(
    ensemble: Array,
    *,
    prf: float,
    fc: float,
    c: float = C_SOUND,
    positive: str = "toward",
    window: int | tuple[int, int] | None = None,
    ensemble_size: int | None = None,
    dz: float | None = None,
    average_axes: tuple[int, ...] | None = None,
) -> DopplerMaps:
    """Axial velocity, power and variance of beamformed IQ ``(..., nz, nx, n_pulses)`` (Kasai / Loupas).

    Parameters
    ----------
    ensemble : array (..., nz, nx, n_pulses)
        Beamformed IQ over slow time (clutter-filtered for colour Doppler).
    prf : float
        Pulse repetition frequency (Hz): the slow-time sampling rate.
    fc : float
        Centre frequency (Hz).
    c : float
        Speed of sound (m/s).
    positive : {'toward', 'away'}
        Sign convention: ``'toward'`` (default, clinical) gives flow toward the probe a positive velocity.
    window : int or (int, int), optional
        Spatial window (axial, lateral) in pixels over which ``R1`` and ``R0`` are summed
        (Loupas-style averaging: lower variance, coarser map). An int is axial only.
    ensemble_size : int, optional
        Pulses per estimate: the slow-time axis is cut into ``n_pulses // ensemble_size``
        consecutive ensembles and every output gains a trailing axis, one entry each.
    dz : float, optional
        Axial pixel spacing (m): estimate the mean frequency per pixel from the axial lag
        (Loupas) instead of using ``fc`` (``dz <= lambda / 4``), clipped to ``[fc / 2, 3 fc / 2]``;
        use it with a ``window``: one pixel's axial lag is too noisy in speckle.
    average_axes : tuple of int, optional
        Axes of ``ensemble`` (spatial) over which ``R1``, ``R0`` are also summed (kept as size 1).

    Returns
    -------
    DopplerMaps
        ``velocity``, ``power``, ``variance``, ``nyquist``, ``near_nyquist``, ``positive``.

    References
    ----------
    Kasai et al., IEEE TSU 1985; Loupas, Powers & Gill, IEEE TUFFC 1995.
    """
    xp, prf, fc, c, window = _check_kasai(ensemble, prf, fc, c, positive, window, dz)
    s = _split_ensembles(ensemble, ensemble_size, xp)
    r1, r0, power = _autocorrelations(s, window, average_axes, ensemble.ndim - 1, xp)
    f_mean: Any = fc
    if dz is not None:
        f_mean = _loupas_frequency(s, fc, c, check_scalar("dz", dz, low=0, low_open=True), window, xp)
    v, var, near = _kasai_estimates(r1, r0, f_mean, prf, c, positive, xp)
    if ensemble_size is not None:
        v, power, var, near = (
            xp.moveaxis(a, 0, -1) if a.ndim == power.ndim else a for a in (v, power, var, near)
        )
    return DopplerMaps(
        velocity=v,
        power=power,
        variance=var,
        nyquist=c * prf / (4 * fc),
        near_nyquist=near,
        positive=positive,
    )


def _check_kasai(ensemble: Any, prf: Any, fc: Any, c: Any, positive: Any, window: Any,
                 dz: Any) -> tuple[Any, float, float, float, tuple[int, int] | None]:
    """:func:`kasai`'s inputs checked: ``(xp, prf, fc, c, window)``."""
    if not hasattr(ensemble, "shape") or ensemble.ndim < 1 or ensemble.shape[-1] < 2:
        raise ValueError(
            f"ensemble must have shape (..., n_pulses) with n_pulses >= 2, "
            f"got {getattr(ensemble, 'shape', type(ensemble).__name__)}"
        )
    xp = array_namespace(ensemble)
    if not xp.isdtype(ensemble.dtype, "complex floating"):
        raise TypeError(f"ensemble must be complex beamformed IQ, got dtype {ensemble.dtype}")
    prf = check_scalar("prf", prf, low=0, low_open=True)
    fc = check_scalar("fc", fc, low=0, low_open=True)
    c = check_scalar("c", c, low=0, low_open=True)
    check_choice("positive", positive, ("toward", "away"))
    window = _check_window(window)
    if (window is not None or dz is not None) and ensemble.ndim < 3:
        raise ValueError(
            f"window and dz need an ensemble (..., nz, nx, n_pulses), got shape {ensemble.shape}"
        )
    if dz is not None and ensemble.shape[-3] < 2:
        raise ValueError(f"dz (the axial lag) needs nz >= 2 axial pixels, got shape {ensemble.shape}")
    return xp, prf, fc, c, window


def _kasai_estimates(r1: Array, r0: Array, f_mean: Any, prf: float, c: float, positive: str,
                     xp: Any) -> tuple[Array, Array, Array]:
    """Velocity ``c PRF arg(R1) / (4 pi f)``, variance ``PRF^2 / (2 pi^2) (1 - |R1| / R0)`` and the
    near-aliasing mask ``|arg R1| > 0.75 pi`` from the lag-1 and lag-0 autocorrelations."""
    phase = xp.atan2(xp.imag(r1), xp.real(r1))
    sign = 1.0 if positive == "toward" else -1.0
    v = sign * c * prf * phase / (4 * math.pi * f_mean)
    # pixels without signal (R0 ~ 0) get the variance of white noise, PRF^2 / (2 pi^2)
    has = r0 > xp.finfo(r0.dtype).smallest_normal
    ratio = xp.where(has, xp.abs(r1) / xp.where(has, r0, 1.0), 0.0)
    var = (prf**2 / (2 * math.pi**2)) * (1.0 - xp.clip(ratio, min=0.0, max=1.0))
    near = xp.abs(phase) > 0.75 * math.pi
    return v, var, near


def _split_ensembles(ensemble: Array, ensemble_size: int | None, xp: Any) -> Array:
    """``(..., n)`` -> ``(k, ..., m)``: ``k = n // m`` consecutive ensembles first, spatial axes in place."""
    if ensemble_size is None:
        return ensemble
    n = ensemble.shape[-1]
    m = check_int("ensemble_size", ensemble_size, low=2, high=n)
    k = n // m
    s = xp.reshape(ensemble[..., : k * m], (*ensemble.shape[:-1], k, m))
    return xp.moveaxis(s, -2, 0)


def _autocorrelations(s: Array, window: tuple[int, int] | None, average_axes: Any, nd: int,
                      xp: Any) -> tuple[Array, Array, Array]:
    """Lag-one ``R1`` and ``R0`` (slow-time means, then summed over the window and ``average_axes``)
    and the per-pixel power. ``nd`` is the number of spatial axes of the original ensemble."""
    r1 = xp.mean(xp.conj(s[..., :-1]) * s[..., 1:], axis=-1)  # means: |R1| / R0 = 1 for a pure tone
    r0 = xp.mean(xp.real(s * xp.conj(s)), axis=-1)
    power = r0
    spatial = (r1.ndim - 2, r1.ndim - 1)
    r1 = _windowed(r1, window, spatial)
    r0 = _windowed(r0, window, spatial)
    if average_axes:
        axes = check_axes("average_axes", average_axes, nd)
        axes = tuple(a + r1.ndim - nd for a in axes)
        r1 = xp.sum(r1, axis=axes, keepdims=True)
        r0 = xp.sum(r0, axis=axes, keepdims=True)
    return r1, r0, power


def _loupas_frequency(
    s: Array, fc: float, c: float, dz: float, window: tuple[int, int] | None, xp: Any
) -> Array:
    """Per-pixel mean RF frequency from the axial lag-one autocorrelation (Loupas 1995)."""
    ax = s.ndim - 3  # the axial axis of (..., nz, nx, m)
    nz = s.shape[ax]
    a = xp.take(s, xp.arange(0, nz - 1, device=device(s)), axis=ax)
    b = xp.take(s, xp.arange(1, nz, device=device(s)), axis=ax)
    r10 = xp.sum(xp.conj(a) * b, axis=-1)
    # repeat the last row so the map keeps nz rows
    r10 = xp.concat([r10, xp.take(r10, xp.asarray([nz - 2], device=device(s)), axis=ax)], axis=ax)
    r10 = _windowed(r10, window, (r10.ndim - 2, r10.ndim - 1))
    carrier = complex(math.cos(4 * math.pi * fc * dz / c), -math.sin(4 * math.pi * fc * dz / c))
    r10 = r10 * carrier
    f = fc + c * xp.atan2(xp.imag(r10), xp.real(r10)) / (4 * math.pi * dz)
    # a single pixel's axial lag is noisy in speckle: keep the estimate within the pulse band
    return xp.clip(f, min=0.5 * fc, max=1.5 * fc)
