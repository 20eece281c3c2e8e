"""Theory curves: the l1 phase transition from the statistical dimension (Amelunxen et al. 2014)."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import erfc

from ._validation import check_int, check_scalar

__all__ = ["l1_phase_transition", "l1_statistical_dimension_fraction"]

MAX_POINTS = 100_000  # l1_phase_transition's largest curve: ~40 s of scalar minimisations


def _psi_objective(tau: float, s: float) -> float:
    # E[dist^2(g, tau * subdifferential)] / n for a fraction s of non-zeros:
    # s (1 + tau^2) + (1 - s) * 2 [ (1 + tau^2) Q(tau) - tau phi(tau) ]
    q = 0.5 * erfc(tau / math.sqrt(2.0))
    phi = math.exp(-0.5 * tau * tau) / math.sqrt(2.0 * math.pi)
    return s * (1.0 + tau * tau) + (1.0 - s) * 2.0 * ((1.0 + tau * tau) * q - tau * phi)


def l1_statistical_dimension_fraction(s: float) -> float:
    """``psi(s) = delta(D(||.||_1, x)) / n`` for an ``s n``-sparse ``x`` (Amelunxen et al., Prop. 4.5).

    .. math:: \\psi(s) = \\inf_{\\tau \\ge 0}\\; s(1+\\tau^2) + (1-s)\\sqrt{2/\\pi}
              \\int_\\tau^\\infty (u-\\tau)^2 e^{-u^2/2}\\,du .

    l1 minimisation recovers the vector from ``m`` Gaussian measurements with
    high probability when ``m > n psi(s)`` and fails when ``m < n psi(s)``.

    Parameters
    ----------
    s : float
        Sparsity fraction ``k / n``, ``0 <= s <= 1``.

    Returns
    -------
    float
        ``psi(s)`` in ``[0, 1]`` (``psi(0) = 0``, ``psi(1) = 1``), by bounded scalar minimisation
        over ``tau`` in ``[0, 10]``.

    Examples
    --------
    >>> from csbox.theory import l1_statistical_dimension_fraction
    >>> round(l1_statistical_dimension_fraction(0.1), 3)
    0.329
    """
    s = check_scalar("s", s, low=0.0, high=1.0)
    if s in (0.0, 1.0):
        return s
    res = minimize_scalar(_psi_objective, bounds=(0.0, 10.0), args=(s,), method="bounded",
                          options={"xatol": 1e-12})
    return float(res.fun)


def l1_phase_transition(num: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The Donoho-Tanner curve ``rho(delta)`` in ``(delta = m/n, rho = k/m)`` coordinates.

    Parametrised by ``s = k/n``: ``delta = psi(s)``, ``rho = s / psi(s)``.

    Parameters
    ----------
    num : int, default 200
        Number of curve points (values of ``s`` in ``(0, 1)``, denser near 0), ``1 <= num <=
        100000`` (each point is one bounded scalar minimisation, about 0.4 ms).

    Returns
    -------
    delta, rho : ndarray
        Increasing ``delta`` in (0, 1) and the critical ``rho`` at each.

    References
    ----------
    D. Amelunxen, M. Lotz, M. McCoy, J. Tropp, "Living on the edge: phase
    transitions in convex programs with random data", Inf. Inference 2014.
    D. Donoho, J. Tanner, "Counting faces of randomly projected polytopes when
    the projection radically lowers dimension", J. AMS 2009.
    """
    num = check_int("num", num, low=1, high=MAX_POINTS)
    s = np.linspace(1e-4, 1 - 1e-4, num) ** 1.5  # denser near small s
    psi = np.array([l1_statistical_dimension_fraction(float(v)) for v in s])
    return psi, s / psi
