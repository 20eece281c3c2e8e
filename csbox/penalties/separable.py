r"""Separable penalties ``lam * sum_i phi(|x_i|)``: l1, l0, l1/2, MCP, CEL0.

Each prox acts on magnitudes and keeps the phase of complex entries (the
exact prox of ``phi(|x|)``); the scalar maps are those of
:mod:`csbox.solvers.thresholds` (soft, hard, half, firm, CEL0 thresholding).
"""

from __future__ import annotations

from typing import Any

from ..backend import Array, array_namespace
from .base import Penalty
from .thresholds import CEL0 as _CEL0
from .thresholds import MCP as _MCP
from .thresholds import Half as _Half
from .thresholds import Hard as _Hard
from .thresholds import Soft as _Soft
from .thresholds import Threshold

__all__ = ["CEL0", "L0", "L1", "MCP", "Half", "Separable"]


class Separable(Penalty):
    """A separable penalty ``lam * sum phi(|x_i|)`` given by its scalar threshold (the prox on magnitudes).

    ``Separable(threshold, lam)`` wraps any :class:`~csbox.solvers.thresholds.Threshold`
    (the 0.1 ``prox=`` objects, or your own ``shrink``/``penalty_mag``).
    """

    separable = True

    def __init__(self, threshold: Threshold, lam: float = 1.0):
        super().__init__(lam)
        if not isinstance(threshold, Threshold):
            raise TypeError(f"threshold must be a Threshold, got {type(threshold).__name__}")
        self._threshold = threshold
        self.convex = bool(getattr(threshold, "convex", False))

    def _prox(self, v: Array, t: float) -> Array:
        # thresholds take (lam, step) separately (MCP and CEL0 depend on both); t = step * lam
        return self._threshold.prox(v, self.lam, t / self.lam) if t > 0 else v

    def _value(self, x: Array) -> Array:
        xp = array_namespace(x)
        if self.lam == 0:
            return xp.sum(xp.zeros_like(xp.abs(x)))
        return xp.sum(self._threshold.penalty_mag(xp.abs(x), self.lam)) / self.lam

    def _params(self) -> str:
        return "" if type(self) is not Separable else repr(self._threshold)


class L1(Separable):
    """``lam ||x||_1``; prox: soft thresholding ``x (1 - t / max(|x|, t))``."""

    convex = True

    def __init__(self, lam: float = 1.0):
        super().__init__(_Soft(), lam)


class L0(Separable):
    """``lam ||x||_0`` (count of non-zeros); prox: hard thresholding at ``sqrt(2 t)``."""

    convex = False

    def __init__(self, lam: float = 1.0):
        super().__init__(_Hard(), lam)


class Half(Separable):
    """``lam sum |x|^{1/2}``; prox: half thresholding (Xu et al. 2012)."""

    convex = False

    def __init__(self, lam: float = 1.0):
        super().__init__(_Half(), lam)


class MCP(Separable):
    """Minimax concave penalty with concavity ``gamma`` (firm thresholding); needs ``gamma > step``."""

    convex = False

    def __init__(self, lam: float = 1.0, gamma: float = 3.0):
        super().__init__(_MCP(gamma), lam)
        self.gamma = self._threshold.gamma

    def _params(self) -> str:
        return f"gamma={self.gamma:g}"


class CEL0(Separable):
    """CEL0, the continuous exact l0 relaxation for ``0.5||Ax - y||^2 + lam ||x||_0`` (Soubies et al. 2015).

    Parameters
    ----------
    lam : float
    col_norms : float or array
        Column norms ``a_i = ||A e_i||`` of the forward operator (``A.column_norms()``).
    """

    convex = False

    def __init__(self, lam: float = 1.0, col_norms: Any = 1.0):
        super().__init__(_CEL0(col_norms), lam)
        self.col_norms = col_norms
