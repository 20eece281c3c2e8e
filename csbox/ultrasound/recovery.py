"""Compressed-sensing recovery of a slow-time ensemble from a subset of its pulses (FISTA)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import as_numpy_mask, check_int, check_scalar
from ..backend import Array, array_namespace, device
from ..operators.basic import MatrixOperator
from ..solvers import fista

__all__ = ["slow_time_recovery"]


def slow_time_recovery(
    kept: Array,
    mask: np.ndarray,
    *,
    oversampling: int = 4,
    lam_rel: float = 0.01,
    max_iter: int = 300,
    tol: float = 1e-7,
) -> Array:
    """Recover a slow-time ensemble ``(..., n_pulses)`` from the pulses kept by ``mask``.

    Solves ``min_z 0.5 ||S D z - y||^2 + lam ||z||_1`` per pixel with FISTA (all pixels as
    one batch): ``D`` an ``oversampling``-times redundant Fourier dictionary
    (``D[n, f] = exp(2j pi n f / (os N)) / sqrt(N)``, off-grid Doppler frequencies stay
    nearly sparse) and ``S`` the pulse selection; clutter and flow each occupy a few
    Doppler frequencies. ``lam = lam_rel ||(S D)^H y||_inf``. Returns ``D z``.

    Parameters
    ----------
    kept : array, shape ``(..., n_kept)``
        The kept pulses of every pixel (real or complex; ``n_kept = mask.sum()``).
    mask : array of bool (or 0/1), shape ``(n_pulses,)``
        Which pulses of the full ensemble were kept; at least one.
    oversampling : int, default 4
        Redundancy ``os >= 1`` of the Fourier dictionary (``os * n_pulses`` atoms).
    lam_rel : float, default 0.01
        ``lam`` relative to ``||(S D)^H y||_inf``, ``0 < lam_rel < 1`` (at 1 and above the l1
        solution is ``z = 0``: every coefficient zeroed).
    max_iter, tol : int, float, default 300, 1e-7
        FISTA's iteration budget and relative-change tolerance (see :func:`~csbox.solvers.fista`).

    Returns
    -------
    array, shape ``(..., n_pulses)``
        The recovered ensemble ``D z``, complex64 for single-precision input, else complex128,
        in ``kept``'s namespace and device.

    References
    ----------
    A. Beck, M. Teboulle, SIAM J. Imaging Sci. 2009 (FISTA); J. Richy et al., "Blood velocity
    estimation using compressive sensing", IEEE TMI 2013.
    """
    xp = array_namespace(kept)
    mask = as_numpy_mask("mask", mask)
    if mask.ndim != 1 or not mask.any():
        raise ValueError(f"mask must be 1-D and keep at least one pulse, got shape {mask.shape}")
    oversampling = check_int("oversampling", oversampling, low=1)
    # lam >= ||(S D)^H y||_inf makes z = 0 the l1 solution: lam_rel >= 1 zeroes every coefficient
    check_scalar("lam_rel", lam_rel, low=0, low_open=True, high=1, high_open=True)
    n = mask.size
    if not hasattr(kept, "shape") or kept.ndim < 1 or kept.shape[-1] != int(mask.sum()):
        raise ValueError(
            f"kept must have shape (..., {int(mask.sum())}) (the pulses the mask keeps), "
            f"got {getattr(kept, 'shape', type(kept).__name__)}"
        )
    if math.prod(kept.shape) == 0:
        raise ValueError(f"kept is empty (shape {tuple(kept.shape)})")
    if not xp.all(xp.isfinite(kept)):
        raise ValueError("kept contains NaN or Inf")
    m = oversampling * n
    D = np.exp(2j * math.pi * np.outer(np.arange(n), np.arange(m)) / m) / math.sqrt(n)
    cdt = xp.complex64 if kept.dtype in (xp.complex64, xp.float32) else xp.complex128
    res = fista(MatrixOperator(D[mask]), xp.astype(kept, cdt), lam_rel=lam_rel, max_iter=max_iter, tol=tol)
    return res.x @ xp.asarray(D.T, dtype=cdt, device=device(kept))
