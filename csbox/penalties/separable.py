r"""Separable penalties ``lam * sum_i phi(|x_i|)``: l1, l0, l1/2, MCP, CEL0.

Each prox acts on magnitudes and keeps the phase of complex entries (the
exact prox of ``phi(|x|)``); the scalar maps are those of
:mod:`csbox.penalties.thresholds` (soft, hard, half, firm, CEL0 thresholding).
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
    """A separable penalty given by a scalar threshold (the prox of ``phi`` on magnitudes).

    The base of :class:`L1`, :class:`L0`, :class:`Half`, :class:`MCP`, :class:`CEL0`;
    a subclass sets ``_threshold`` (a :class:`csbox.penalties.thresholds.Threshold`).

    Parameters
    ----------
    lam : float, default 1.0
        Weight ``lam``, finite and ``>= 0`` (``TypeError`` for a non-number, ``ValueError``
        otherwise); :func:`~csbox.solvers.fista` given ``lam=`` or ``lam_rel=`` replaces it.
    """

    separable = True
    _threshold: Threshold

    def _prox(self, v: Array, t: float) -> Array:
        return self._threshold.prox(v, t, 1.0) if t > 0 else v

    @property
    def threshold(self) -> Threshold:
        """The scalar threshold (prox on magnitudes) of this penalty."""
        return self._threshold

    def _value(self, x: Array) -> Array:
        xp = array_namespace(x)
        return xp.sum(self._threshold.penalty_mag(xp.abs(x), 1.0))


class L1(Separable):
    """``lam ||x||_1``; prox: soft thresholding ``x (1 - t / max(|x|, t))``.

    Parameters
    ----------
    lam : float, default 1.0
        Weight ``lam``, finite and ``>= 0`` (``TypeError`` for a non-number, ``ValueError``
        otherwise); :func:`~csbox.solvers.fista` given ``lam=`` or ``lam_rel=`` replaces it.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import L1
    >>> p = L1(0.5)
    >>> p.prox(np.array([-2.0, 0.3, 1.0]))
    array([-1.5,  0. ,  0.5])
    >>> float(p.value(np.array([-2.0, 0.3, 1.0])))
    1.65
    >>> p.prox(np.array([3 + 4j]), step=2.0)
    array([2.4+3.2j])
    """

    convex = True

    def __init__(self, lam: float = 1.0):
        super().__init__(lam)
        self._threshold = _Soft()


class L0(Separable):
    """``lam ||x||_0`` (count of non-zeros); prox: hard thresholding at ``sqrt(2 t)``.

    Parameters
    ----------
    lam : float, default 1.0
        Weight ``lam``, finite and ``>= 0`` (``TypeError`` for a non-number, ``ValueError``
        otherwise); :func:`~csbox.solvers.fista` given ``lam=`` or ``lam_rel=`` replaces it.
    """

    convex = False

    def __init__(self, lam: float = 1.0):
        super().__init__(lam)
        self._threshold = _Hard()


class Half(Separable):
    """``lam sum |x|^{1/2}``; prox: half thresholding (Xu et al. 2012).

    Parameters
    ----------
    lam : float, default 1.0
        Weight ``lam``, finite and ``>= 0`` (``TypeError`` for a non-number, ``ValueError``
        otherwise); :func:`~csbox.solvers.fista` given ``lam=`` or ``lam_rel=`` replaces it.

    References
    ----------
    Z. Xu, X. Chang, F. Xu, H. Zhang, "L1/2 regularization: a thresholding representation
    theory and a fast solver", IEEE Trans. Neural Netw. Learn. Syst. 2012.
    """

    convex = False

    def __init__(self, lam: float = 1.0):
        super().__init__(lam)
        self._threshold = _Half()


class MCP(Separable):
    """Minimax concave penalty with concavity ``gamma`` (firm thresholding); needs ``gamma > step``.

    ``lam phi(x)`` with ``phi(x) = |x| - x^2 / (2 gamma lam)`` for ``|x| <= gamma lam``,
    else ``gamma lam / 2``.

    Parameters
    ----------
    lam : float, default 1.0
        Weight, finite and ``>= 0``.
    gamma : float, default 3.0
        Concavity, ``> 0``; ``prox(v, step)`` raises ``ValueError`` unless ``gamma > step``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import MCP
    >>> p = MCP(1.0, gamma=3.0)
    >>> p.prox(np.array([0.5, 2.0, 5.0]))
    array([0. , 1.5, 5. ])
    """

    convex = False

    def __init__(self, lam: float = 1.0, gamma: float = 3.0):
        super().__init__(lam)
        self._threshold = _MCP(gamma)
        self.gamma = self._threshold.gamma

    def _prox(self, v: Array, t: float) -> Array:
        # MCP's prox depends on the step and lam separately: t = step * lam
        step = t / self.lam if self.lam > 0 else 1.0
        return self._threshold.prox(v, self.lam, step) if t > 0 else v

    def _value(self, x: Array) -> Array:
        xp = array_namespace(x)
        return xp.sum(self._threshold.penalty_mag(xp.abs(x), self.lam)) / self.lam if self.lam > 0 else (
            xp.sum(xp.zeros_like(xp.abs(x))))

    def _params(self) -> str:
        return f"gamma={self.gamma:g}"


class CEL0(Separable):
    """CEL0, the continuous exact l0 relaxation for ``0.5||Ax - y||^2 + lam ||x||_0`` (Soubies et al. 2015).

    Parameters
    ----------
    lam : float, default 1.0
        Weight of the l0 term, finite and ``>= 0``.
    col_norms : float or array, default 1.0
        Column norms ``a_i = ||A e_i||`` of the forward operator (``A.column_norms()``).
    """

    convex = False

    def __init__(self, lam: float = 1.0, col_norms: Any = 1.0):
        super().__init__(lam)
        self._threshold = _CEL0(col_norms)
        self.col_norms = col_norms

    def _prox(self, v: Array, t: float) -> Array:
        step = t / self.lam if self.lam > 0 else 1.0
        return self._threshold.prox(v, self.lam, step) if t > 0 else v

    def _value(self, x: Array) -> Array:
        xp = array_namespace(x)
        if self.lam == 0:
            return xp.sum(xp.zeros_like(xp.abs(x)))
        return xp.sum(self._threshold.penalty_mag(xp.abs(x), self.lam)) / self.lam
