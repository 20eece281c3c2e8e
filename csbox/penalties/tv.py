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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._validation import check_axes, check_int
from ..backend import Array, array_namespace, device
from ..iterative import IterativeSolver, Result
from ..linop import LinearOperator
from ..operators.gradient import Gradient
from .base import Penalty
from .separable import L1
from .simple import GroupL21

__all__ = ["FGP", "TV", "TVResult", "tv_value"]


def _ball_project(xp: Any, q: Array, lam: float, isotropic: bool, stack_axis: int) -> Array:
    """Project the dual field onto ``{|q_i| <= lam}``: per pixel over the stacked axis, or per entry."""
    if lam == 0:
        return xp.zeros_like(q)
    if isotropic:
        sq = q * q if not xp.isdtype(q.dtype, "complex floating") else xp.real(xp.conj(q) * q)
        mag = xp.sqrt(xp.sum(sq, axis=stack_axis, keepdims=True))
    else:
        mag = xp.abs(q)
    # one pass over the small per-pixel array, one over the field
    return q * (1.0 / xp.maximum(mag * (1.0 / lam), xp.ones_like(mag)))


def tv_value(Dx: Array, isotropic: bool, stack_axis: int) -> Array:
    """``TV`` of an image from its gradient ``Dx``: sum of per-pixel norms (isotropic) or of ``|Dx|``.

    Parameters
    ----------
    Dx : array
        Finite differences, the gradient components stacked along ``stack_axis``
        (real or complex).
    isotropic : bool
        ``sum_pixels sqrt(sum_i |Dx_i|^2)`` (True) or ``sum |Dx|`` (False).
    stack_axis : int
        Axis of ``Dx`` holding the gradient components (used when ``isotropic``).

    Returns
    -------
    array
        0-d real array in ``Dx``'s namespace.
    """
    xp = array_namespace(Dx)
    if isotropic:
        sq = Dx * Dx if not xp.isdtype(Dx.dtype, "complex floating") else xp.real(xp.conj(Dx) * Dx)
        return xp.sum(xp.sqrt(xp.sum(sq, axis=stack_axis)))
    return xp.sum(xp.abs(Dx))


@dataclass
class TVResult(Result):
    """Result of :func:`~csbox.solvers.tv_denoise`.

    Attributes
    ----------
    dual : array
        The dual field ``q`` (shape ``(len(axes), *image.shape)``, ``|q_i| <= lam``),
        ``x = image - D^H q``; pass it back as ``dual0`` to warm-start a nearby problem.
    gap : float
        Final duality gap (an upper bound on ``objective - min``).
    """

    dual: Any = None
    gap: float = math.nan


class FGP(IterativeSolver):
    """Fast gradient projection on the TV dual (Beck-Teboulle): the solver behind TV's prox.

    ``step`` is one projected Nesterov step on ``min_{|q_i| <= lam} 0.5||b - D^H q||^2``;
    :func:`csbox.solvers.tv_denoise` runs it to a duality-gap tolerance and :class:`TV`'s prox
    runs a fixed number of warm-started steps.

    Parameters
    ----------
    b : array
        The image to denoise.
    lam : float
        TV weight ``>= 0``.
    G : Gradient
        Forward differences over the TV axes.
    isotropic : bool
        Per-pixel Euclidean ball (True) or per-entry box (False).
    q0 : array or None
        Warm start of the dual field, shaped ``G.oshape``.
    **contract
        The solver contract (``max_iter``, ``tol``, ``check_every``, ...).
    """

    name = "tv_denoise"
    tol_metric = "rel_gap"
    tol_reason = "gap"
    divergence = False  # the gap is the stopping test; the dual objective decreases

    def __init__(self, b: Array, lam: float, G: Gradient, isotropic: bool, q0: Array | None, **contract: Any):
        super().__init__(**contract)
        xp = array_namespace(b)
        self.xp, self.b, self.lam, self.G, self.iso = xp, b, lam, G, isotropic
        self.stack_axis = -len(G.oshape)
        self.step_size = 1.0 / G.norm_bound
        q = xp.zeros(tuple(G.oshape), dtype=b.dtype, device=device(b)) if q0 is None else q0
        self.q = _ball_project(xp, q, lam, isotropic, self.stack_axis)
        self.r = self.q
        self.t = 1.0
        self.x = b - G._adjoint(self.q)

    def step(self) -> None:
        xp, G = self.xp, self.G
        x_r = self.b - G._adjoint(self.r)
        q_new = self.r + self.step_size * G._apply(x_r)
        q_new = _ball_project(xp, q_new, self.lam, self.iso, self.stack_axis)
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * self.t * self.t))
        self.r = q_new + ((self.t - 1.0) / t_new) * (q_new - self.q)
        self.q, self.t = q_new, t_new
        self.x = None

    def estimate(self) -> Array:
        if self.x is None:
            self.x = self.b - self.G._adjoint(self.q)
        return self.x

    def primal_dual(self) -> tuple[Array, Array]:
        """Primal objective at ``x = b - D^H q`` and the dual objective at ``q``."""
        xp = self.xp
        x = self.estimate()
        d = x - self.b
        primal = 0.5 * xp.sum(xp.real(xp.conj(d) * d)) + self.lam * tv_value(
            self.G._apply(x), self.iso, self.stack_axis
        )
        dual = 0.5 * xp.sum(xp.real(xp.conj(self.b) * self.b)) - 0.5 * xp.sum(xp.real(xp.conj(x) * x))
        return primal, dual

    def metrics(self) -> dict[str, Any]:
        xp = self.xp
        primal, dual = self.primal_dual()
        gap = xp.maximum(primal - dual, xp.zeros_like(primal))
        pos = primal > 0
        rel = xp.where(pos, gap / xp.where(pos, primal, xp.ones_like(primal)), xp.zeros_like(gap))
        return {"objective": primal, "gap": gap, "rel_gap": rel}

    def result(self, base: Result) -> TVResult:
        gap = base.history.get("gap", [math.nan])
        return TVResult(**base._base(), dual=self.q, gap=gap[-1] if gap else math.nan)


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
        if t == 0:
            return v
        G = self.gradient(tuple(v.shape))
        dual = self._dual
        if dual is None or tuple(dual.shape) != G.oshape or dual.dtype != v.dtype:
            dual = None
        solver = FGP(v, t, G, self.isotropic, dual, max_iter=self.max_inner)
        for _ in range(self.max_inner):
            solver.step()
        self._dual = solver.q
        return solver.estimate()

    def _value(self, x: Array) -> Array:
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
