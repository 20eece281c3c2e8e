r"""Total variation: ``lam TV(x)`` with the forward-difference gradient and Neumann boundary.

.. math:: \mathrm{TV}(x) = \sum_i \sqrt{\textstyle\sum_a |(D_a x)_i|^2}
          \quad\text{(isotropic)}, \qquad
          \sum_{a, i} |(D_a x)_i| \quad\text{(anisotropic)},

with ``D`` the :class:`~csbox.operators.Gradient` over ``axes``. Its prox is
TV denoising (:func:`~csbox.solvers.tv_denoise`, the FGP dual method), run
here for ``max_inner`` iterations from the dual of the previous call (warm
start): a prox inexact by a controlled amount, as in Beck-Teboulle's FISTA-TV.
ADMM and PDHG never call it: they split ``TV = GroupL21 o D`` (see
:meth:`TV.split`) and use the exact prox of the group norm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._validation import check_axes, check_int
from ..backend import Array
from ..linop import LinearOperator
from ..operators.gradient import Gradient
from .base import Penalty
from .separable import L1
from .simple import GroupL21

__all__ = ["TV"]


class TV(Penalty):
    """``lam TV(x)``, isotropic (default) or anisotropic, over ``axes`` (default: all axes of ``x``).

    Parameters
    ----------
    lam : float
        Weight ``>= 0``.
    isotropic : bool
        Per-pixel Euclidean norm of the gradient, or l1 of all differences.
    axes : int or tuple of int, optional
        Axes of ``x`` to difference, counted on the array the penalty sees
        (default: all of them; give e.g. ``axes=(-2, -1)`` for batches of 2-D images).
    max_inner : int
        FGP iterations per :meth:`~csbox.penalties.Penalty.prox` call (warm-started from the previous dual).

    References
    ----------
    L. Rudin, S. Osher, E. Fatemi, "Nonlinear total variation based noise
    removal algorithms", Physica D 1992. A. Beck, M. Teboulle, IEEE TIP 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import TV
    >>> x = np.zeros((8, 8)); x[:, 4:] = 1.0
    >>> round(float(TV(0.1).value(x)), 6)
    0.8
    >>> noisy = x + 0.1 * np.random.default_rng(0).standard_normal(x.shape)
    >>> bool(TV(1.0).value(TV(0.1).prox(noisy)) < TV(1.0).value(noisy))
    True
    """

    separable = False

    def __init__(
        self,
        lam: float = 1.0,
        isotropic: bool = True,
        axes: int | Sequence[int] | None = None,
        *,
        max_inner: int = 50,
    ):
        super().__init__(lam)
        if not isinstance(isotropic, bool):
            raise TypeError(f"isotropic must be a bool, got {type(isotropic).__name__}")
        self.isotropic = isotropic
        if axes is not None and not isinstance(axes, (int, Sequence)):
            raise TypeError(f"axes must be an int, a sequence of ints or None, got {type(axes).__name__}")
        self.axes = axes
        self.max_inner = check_int("max_inner", max_inner, low=1)
        self._dual: Any = None

    def gradient(self, shape: tuple[int, ...]) -> Gradient:
        """The :class:`~csbox.operators.Gradient` this penalty uses on arrays of ``shape``."""
        ax = tuple(range(len(shape))) if self.axes is None else check_axes("axes", self.axes, len(shape))
        return Gradient(shape, ax)

    def split(self, shape: tuple[int, ...]) -> tuple[LinearOperator, Penalty]:
        """``(D, g)`` with ``lam TV(x) = g(D x)``: ``g`` the group l2,1 norm over the stacked axis (or l1)."""
        D = self.gradient(shape)
        g = GroupL21(self.lam, axis=-len(D.oshape)) if self.isotropic else L1(self.lam)
        return D, g

    def _prox(self, v: Array, t: float) -> Array:
        from ..solvers.tv import _FGP

        if t == 0:
            return v
        G = self.gradient(tuple(v.shape))
        dual = self._dual
        if dual is None or tuple(dual.shape) != G.oshape or dual.dtype != v.dtype:
            dual = None
        solver = _FGP(v, t, G, self.isotropic, dual, max_iter=self.max_inner)
        for _ in range(self.max_inner):
            solver.step()
        self._dual = solver.q
        return solver.estimate()

    def _value(self, x: Array) -> Array:
        from ..solvers.tv import tv_value

        G = self.gradient(tuple(x.shape))
        return tv_value(G._apply(x), self.isotropic, -len(G.oshape))

    def with_lam(self, lam: float) -> TV:
        """A copy with weight ``lam`` (same isotropy, axes and inner iterations).

        Parameters
        ----------
        lam : float
            New weight ``>= 0``.

        Returns
        -------
        TV
        """
        return TV(lam, self.isotropic, self.axes, max_inner=self.max_inner)

    def _params(self) -> str:
        return f"isotropic={self.isotropic}" + ("" if self.axes is None else f", axes={self.axes}")
