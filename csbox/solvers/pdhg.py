r"""Primal-dual hybrid gradient (Chambolle-Pock) for data fit plus split convex penalties.

Solves

.. math:: \min_x f(x) + \tfrac12\|A x - y\|_2^2 + \sum_i g_i(K_i x)

as the saddle-point problem ``min_x max_w f(x) + <K x, w> - sum_i h_i^*(w_i)``
with ``K = [A; K_1; ..]``, ``h_0 = 0.5||. - y||^2`` and ``h_i = g_i``:

.. math::
   x^{k+1} &= \operatorname{prox}_{\tau f}(x^k - \tau K^H w^k),\\
   \bar v &= K x^{k+1} + \theta\,(K x^{k+1} - K x^k),\\
   w_i^{k+1} &= \operatorname{prox}_{\sigma_i h_i^*}(w_i^k + \sigma_i \bar v_i),

with ``prox_{s h^*}(v) = v - s prox_{h/s}(v/s)`` (Moreau) and, for the data
block, ``(v - sigma y) / (1 + sigma)``. ``K x`` is kept between iterations
(the extrapolation is taken on it, by linearity), so one iteration costs one
product and one adjoint per block. Step sizes: block-diagonal dual steps
``sigma_i = 1 / (b ||K_i||^2)`` and ``tau = b / m`` for ``m`` dual blocks, so
``tau sum_i sigma_i ||K_i||^2 = 1`` (Pock-Chambolle's condition for diagonal
preconditioning); ``b`` (``balance``) trades primal against dual progress.
A penalty with ``K = I`` (an indicator, a separable penalty in the image
domain) is used as ``f``, through its prox, when it is the only one such.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._validation import check_int, check_scalar
from ..backend import Array, device, to_numpy
from ..iterative import IterativeSolver, IterState, Result, StoppingRule, relative_change
from ..linop import LinearOperator
from ..operators.basic import Identity
from ..operators.gradient import Gradient
from ..penalties.base import Penalty
from ._splitting import Term, check_penalties, check_problem, split, sqnorm
from .linear import _check_x0

__all__ = ["PDHGResult", "pdhg"]


@dataclass
class PDHGResult(Result):
    """Result of :func:`pdhg`.

    Attributes
    ----------
    tau : float
        Primal step.
    sigma : list of float
        Dual steps, data block first, then one per dual penalty block.
    dual : list of arrays
        Final dual variables (same order as ``sigma``).
    """

    tau: float = math.nan
    sigma: list = None  # type: ignore[assignment]
    dual: list = None  # type: ignore[assignment]


def _norm_sq(K: LinearOperator, xp: Any, dev: Any) -> float:
    """``||K||^2``: 1 for identities, ``4 len(axes)`` for a gradient, else power iteration + 1 %."""
    if isinstance(K, Identity):
        return 1.0
    if isinstance(K, Gradient):
        return K.norm_bound
    return 1.01 * K.lipschitz(xp=xp, device=dev)


def _primal_term(terms: list[Term]) -> tuple[Term | None, list[Term]]:
    """The one term on ``x`` itself (``K = I``), proxed in the primal step, and the dual terms."""
    ident = [t for t in terms if isinstance(t.K, Identity)]
    if len(ident) != 1:
        return None, terms
    return ident[0], [t for t in terms if t is not ident[0]]


def _step_sizes(ops: list[LinearOperator], sigma: Sequence[float] | None, tau: float | None,
                balance: float, xp: Any, dev: Any) -> tuple[list[float], float]:
    """Dual steps ``sigma_i = 1 / (balance ||K_i||^2)`` and ``tau = balance / n_blocks`` unless given.

    Then ``tau sigma_i ||K_i||^2 = 1 / n_blocks``, so ``tau * sum_i sigma_i ||K_i||^2 = 1``.
    """
    if sigma is None:
        norms = [_norm_sq(K, xp, dev) for K in ops]
        if not norms[0] > 0:
            raise ValueError(f"{ops[0]!r} is zero (||A||^2 = {norms[0]})")
        sigma = [1.0 / (balance * n) for n in norms]
    else:
        sigma = [check_scalar(f"sigma[{i}]", s, low=0.0, low_open=True) for i, s in enumerate(sigma)]
        if len(sigma) != len(ops):
            raise ValueError(f"sigma must have {len(ops)} entries (data block first), got {len(sigma)}")
    tau = balance / len(ops) if tau is None else check_scalar("tau", tau, low=0.0, low_open=True)
    return sigma, tau


class _PDHG(IterativeSolver):
    name = "pdhg"
    tol_metric = "rel_change"

    def __init__(self, A: LinearOperator, y: Array, x0: Array, f: Term | None, terms: list[Term],
                 tau: float, sigma: list[float], theta: float, xp: Any, adapt_every: int, **contract: Any):
        super().__init__(**contract)
        self.adapt_every, self.alpha, self.n_adapt = adapt_every, 0.5, 0
        self.A, self.y, self.f, self.terms = A, y, f, terms
        self.tau, self.sigma, self.theta, self.xp = tau, sigma, theta, xp
        self.ops = [A] + [t.K for t in terms]
        self.x = x0
        self.x_prev = x0
        self.Kx = [K._apply(x0) for K in self.ops]
        self.w = [xp.zeros_like(v) for v in self.Kx]
        self.KHw = xp.zeros_like(x0)

    def step(self) -> None:
        tau, th = self.tau, self.theta
        x_new = self.x - tau * self.KHw
        if self.f is not None:
            x_new = self.f.g.prox(x_new, tau)
        Kx_new = [K._apply(x_new) for K in self.ops]
        w_new = []
        KHw = None
        blocks = zip(self.ops, self.sigma, self.w, Kx_new, self.Kx, strict=True)
        for i, (K, s, w, v, v_old) in enumerate(blocks):
            vbar = v + th * (v - v_old) if th != 0 else v
            u = w + s * vbar
            if i == 0:
                wn = (u - s * self.y) / (1.0 + s)
            else:
                wn = u - s * self.terms[i - 1].g.prox(u / s, 1.0 / s)
            w_new.append(wn)
            t = K._adjoint(wn)
            KHw = t if KHw is None else KHw + t
        if self.adapt_every and self.iteration % self.adapt_every == 0:
            self._adapt(x_new, Kx_new, w_new, KHw)
        self.x_prev, self.x, self.Kx, self.w, self.KHw = self.x, x_new, Kx_new, w_new, KHw

    def _adapt(self, x_new: Array, Kx_new: list[Array], w_new: list[Array], KHw: Array) -> None:
        """Goldstein et al.'s residual balancing: rescale ``tau`` up and every ``sigma_i`` down (or back).

        Primal residual ``(x_k - x_{k+1}) / tau - K^H (w_k - w_{k+1})``, dual residual
        ``(w_k - w_{k+1}) / sigma + theta K (x_{k+1} - x_k)`` (blockwise, from the
        extrapolated point); the product
        ``tau sigma_i`` is kept, so the step condition still holds; the
        adaptation strength decays (``alpha *= 0.95``) so the steps settle.
        """
        xp = self.xp
        p = sqnorm(xp, (self.x - x_new) / self.tau - (self.KHw - KHw))
        d = None
        for s, w, wn, v, vn in zip(self.sigma, self.w, w_new, self.Kx, Kx_new, strict=True):
            e = sqnorm(xp, (w - wn) / s + self.theta * (vn - v))
            d = e if d is None else d + e
        p, d = math.sqrt(float(to_numpy(p))), math.sqrt(float(to_numpy(d)))
        if p > 2.0 * d:
            c = 1.0 / (1.0 - self.alpha)
        elif d > 2.0 * p:
            c = 1.0 - self.alpha
        else:
            return
        self.tau *= c
        self.sigma = [s / c for s in self.sigma]
        self.alpha *= 0.95
        self.n_adapt += 1

    def objective(self) -> Array:
        xp = self.xp
        obj = 0.5 * sqnorm(xp, self.Kx[0] - self.y)
        for t, v in zip(self.terms, self.Kx[1:], strict=True):
            obj = obj + t.g.value(v)
        if self.f is not None:
            obj = obj + self.f.g.value(self.x)
        return obj

    def metrics(self) -> dict[str, Any]:
        return {"objective": self.objective(), "rel_change": relative_change(self.x, self.x_prev)}

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> PDHGResult:
        return PDHGResult(**base._base(), tau=self.tau, sigma=list(self.sigma), dual=self.w)


def pdhg(
    A: LinearOperator, y: Array, penalties: Penalty | Sequence[Penalty], *, balance: float = 1.0,
    tau: float | None = None, sigma: Sequence[float] | None = None, theta: float = 1.0,
    adaptive: bool = True, adapt_every: int = 10, x0: Array | None = None, max_iter: int = 100,
    tol: float | None = 1e-5, check_every: int = 10, callback: Callable[[IterState], Any] | None = None,
    progress: bool = False, stop: StoppingRule | None = None,
) -> PDHGResult:
    r"""Chambolle-Pock primal-dual method for ``min_x 0.5||A x - y||^2 + sum_i P_i(x)``.

    Parameters
    ----------
    A : LinearOperator
        Forward operator.
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent problems.
    penalties : Penalty or list of Penalty
        Convex penalties, each split as ``g(K x)`` (TV: group l2,1 of the
        gradient; ``P.in_basis(W)``: ``P`` of ``W x``; others on ``K = I``).
    balance : float
        ``b > 0`` of the step sizes ``sigma_i = 1 / (b ||K_i||^2)``, ``tau = b / m``
        (larger: bigger primal steps).
    tau, sigma : optional
        Explicit steps (``sigma``: data block first); they must satisfy
        ``tau sum_i sigma_i ||K_i||^2 <= 1``.
    theta : float
        Over-relaxation of the extrapolation, in ``[0, 1]`` (1: Chambolle-Pock).
    adaptive : bool
        Goldstein-Li-Yuan residual balancing every ``adapt_every`` iterations:
        when the primal residual exceeds twice the dual one, ``tau`` grows and
        every ``sigma_i`` shrinks by the same factor (and conversely), with a
        decaying factor so that the steps settle (one host sync per adaptation).
    x0 : array, optional
        Warm start.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract; ``tol`` bounds ``||x_k - x_{k-1}|| / ||x_k||``.

    Returns
    -------
    PDHGResult
        ``x``; history of ``objective`` (the primal ``0.5||Ax - y||^2 + sum_i P_i(x)``,
        from the kept ``K x``: no extra products) and ``rel_change``; the steps
        and the dual variables.

    References
    ----------
    A. Chambolle, T. Pock, "A first-order primal-dual algorithm for convex
    problems with applications to imaging", JMIV 2011. T. Pock, A. Chambolle,
    "Diagonal preconditioning for first order primal-dual algorithms in convex
    optimization", ICCV 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Identity
    >>> from csbox.penalties import TV
    >>> from csbox.solvers import pdhg
    >>> x = np.zeros((16, 16)); x[4:12, 4:12] = 1.0
    >>> y = x + 0.1 * np.random.default_rng(0).standard_normal(x.shape)
    >>> res = pdhg(Identity((16, 16)), y, TV(0.1), max_iter=300)
    >>> bool(np.linalg.norm(res.x - x) < 0.5 * np.linalg.norm(y - x))
    True
    """
    xp, batch, xdt = check_problem(A, y)
    pens = check_penalties(penalties)
    balance = check_scalar("balance", balance, low=0.0, low_open=True)
    theta = check_scalar("theta", theta, low=0.0, high=1.0)
    dev = device(y)
    f, terms = _primal_term([split(p, A.ishape) for p in pens])
    sigma, tau = _step_sizes([A] + [t.K for t in terms], sigma, tau, balance, xp, dev)
    x = _check_x0(x0, xp, (*batch, *A.ishape), xdt, dev)
    y_c = xp.astype(y, xdt) if y.dtype != xdt else y
    if not isinstance(adaptive, bool):
        raise TypeError(f"adaptive must be a bool, got {type(adaptive).__name__}")
    adapt_every = check_int("adapt_every", adapt_every, low=1) if adaptive else 0
    solver = _PDHG(A, y_c, x, f, terms, tau, sigma, theta, xp, adapt_every, max_iter=max_iter, tol=tol,
                   check_every=check_every, callback=callback, progress=progress, stop=stop)
    return solver.solve()
