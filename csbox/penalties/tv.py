r"""Total variation: ``lam TV(x)`` with the forward-difference gradient and Neumann boundary.

.. math:: \mathrm{TV}(x) = \sum_i \sqrt{\textstyle\sum_a |(D_a x)_i|^2}
          \quad\text{(isotropic)}, \qquad
          \sum_{a, i} |(D_a x)_i| \quad\text{(anisotropic)},

with ``D`` the :class:`~csbox.operators.Gradient` over ``axes``. Its prox is
TV denoising (:func:`~csbox.solvers.tv_denoise`, the FGP dual method), run
here for ``inner_max_iter`` iterations from the dual of the previous call in the
same thread (warm start): a prox inexact by a controlled amount, as in
Beck-Teboulle's FISTA-TV.
ADMM and PDHG never call it: they split ``TV = GroupL21 o D`` (see
:meth:`TV.split`) and use the exact prox of the group norm.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_axes, check_bool, check_int, check_scalar
from ..backend import Array, array_namespace, device, tv_dual_kernel
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
    isotropic = check_bool("isotropic", isotropic)
    stack_axis = check_axes("stack_axis", stack_axis, Dx.ndim)[0]
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


def _range_mask(G: Gradient) -> Any:
    """NumPy mask of the range of ``D`` in its output: zero at the far edge of each component's axis."""
    mask = np.ones(G.oshape, dtype=bool)
    for j, a in enumerate(G.axes):
        idx = [slice(None)] * len(G.ishape)
        idx[a] = slice(-1, None)
        mask[(j, *idx)] = False
    return mask


class FGP(IterativeSolver):
    """Fast gradient projection on the TV dual (Beck-Teboulle): the solver behind TV's prox.

    ``step`` is one projected Nesterov step on ``min_{|q_i| <= lam} 0.5||b - D^H q||^2``;
    :func:`csbox.solvers.tv_denoise` runs it to a duality-gap tolerance and :class:`TV`'s prox
    runs a fixed number of warm-started steps. On NumPy (Neumann differences) the step is the
    fused in-place kernel :class:`csbox.backend.TVDualKernel`; elsewhere it is written with
    array-API calls. Both iterate the same map.

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
        Warm start of the dual field, shaped ``G.oshape``; its entries outside the range of
        ``D`` (the far edge of each component's axis) are set to zero, the rest projected.
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
        if not isinstance(G, Gradient):
            raise TypeError(f"G must be a csbox Gradient operator, got {type(G).__name__}")
        lam, isotropic = check_scalar("lam", lam, low=0.0), check_bool("isotropic", isotropic)
        self.xp, self.b, self.lam, self.G, self.iso = xp, b, lam, G, isotropic
        self.stack_axis = -len(G.oshape)
        self.step_size = 1.0 / G.norm_bound
        self.t = 1.0
        neg = tuple(a - len(G.ishape) for a in G.axes)
        self.kernel = (tv_dual_kernel(b, neg, lam, isotropic, self.step_size, q0)
                       if G.boundary == "neumann" else None)
        if self.kernel is None:
            q = xp.zeros(tuple(G.oshape), dtype=b.dtype, device=device(b))
            if q0 is not None:
                q = xp.where(xp.asarray(_range_mask(G), device=device(b)), q0, q)
            self._q = _ball_project(xp, q, lam, isotropic, self.stack_axis)
            self.r = self._q
        self.x: Array | None = None

    @property
    def q(self) -> Array:
        """The current dual field (shaped ``G.oshape``, ``b``'s dtype)."""
        return self._q if self.kernel is None else self.kernel.dual()

    def step(self) -> None:
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * self.t * self.t))
        c = (self.t - 1.0) / t_new
        self.t, self.x = t_new, None
        if self.kernel is not None:
            self.kernel.step(c)
            return
        xp, G = self.xp, self.G
        x_r = self.b - G._adjoint(self.r)
        q_new = self.r + self.step_size * G._apply(x_r)
        q_new = _ball_project(xp, q_new, self.lam, self.iso, self.stack_axis)
        self.r = q_new + c * (q_new - self._q)
        self._q = q_new

    def estimate(self) -> Array:
        if self.x is None:
            self.x = self.kernel.primal() if self.kernel is not None else self.b - self.G._adjoint(self._q)
        return self.x

    def primal_dual(self) -> tuple[Any, Any]:
        """Primal objective at ``x = b - D^H q`` and the dual objective at ``q``."""
        x = self.estimate()
        if self.kernel is not None:
            return self.kernel.objectives(x)
        xp = self.xp
        d = x - self.b
        primal = 0.5 * xp.sum(xp.real(xp.conj(d) * d)) + self.lam * tv_value(
            self.G._apply(x), self.iso, self.stack_axis
        )
        dual = 0.5 * xp.sum(xp.real(xp.conj(self.b) * self.b)) - 0.5 * xp.sum(xp.real(xp.conj(x) * x))
        return primal, dual

    def metrics(self) -> dict[str, Any]:
        primal, dual = self.primal_dual()
        if self.kernel is not None:  # host floats already
            gap = max(primal - dual, 0.0)
            return {"objective": primal, "gap": gap, "rel_gap": gap / primal if primal > 0 else 0.0}
        xp = self.xp
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
    inner_max_iter : int
        FGP iterations per :meth:`~csbox.penalties.Penalty.prox` call, warm-started from the dual
        of this penalty's previous call in the same thread on an array of the same shape, dtype
        and device (the solvers call the prox of their own copy, :meth:`with_lam`, so concurrent
        solves sharing a penalty never see each other's dual).

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
        inner_max_iter: int = 50,
    ):
        super().__init__(lam)
        if not isinstance(isotropic, bool):
            raise TypeError(f"isotropic must be a bool, got {type(isotropic).__name__}")
        self.isotropic = isotropic
        if axes is not None and not isinstance(axes, (int, Sequence)):
            raise TypeError(f"axes must be an int, a sequence of ints or None, got {type(axes).__name__}")
        self.axes = axes
        self.inner_max_iter = check_int("inner_max_iter", inner_max_iter, low=1)
        self._warm = threading.local()

    # the warm start is per thread: a penalty shared by threads (Dask's threaded workers) never
    # hands one thread's dual to another; copies and pickles start without one
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_warm"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._warm = threading.local()

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
        key = (type(v), tuple(v.shape), str(v.dtype), str(device(v)))
        last = getattr(self._warm, "last", None)
        dual = last[1] if last is not None and last[0] == key else None
        solver = FGP(v, t, G, self.isotropic, dual, max_iter=self.inner_max_iter)
        for _ in range(self.inner_max_iter):
            solver.step()
        self._warm.last = (key, solver.q)
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
        return TV(lam, self.isotropic, self.axes, inner_max_iter=self.inner_max_iter)

    def _params(self) -> str:
        return f"isotropic={self.isotropic}" + ("" if self.axes is None else f", axes={self.axes}")
