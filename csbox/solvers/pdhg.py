r"""Primal-dual hybrid gradient (Chambolle-Pock) for a data term plus split convex penalties.

Solves

.. math:: \min_x f(x) + h_0(A x; y) + \sum_i g_i(K_i x)

as the saddle-point problem ``min_x max_w f(x) + <K x, w> - sum_i h_i^*(w_i)``
with ``K = [A; K_1; ..]``, ``h_0`` the data term (:mod:`csbox.penalties`: least squares
``0.5||. - y||^2`` by default, weighted least squares, or the constraint
``||. - y|| <= eps``, all used through their prox) and ``h_i = g_i``:

.. math::
   x^{k+1} &= \operatorname{prox}_{\tau f}(x^k - \tau K^H w^k),\\
   \bar v &= K x^{k+1} + \theta\,(K x^{k+1} - K x^k),\\
   w_i^{k+1} &= \operatorname{prox}_{\sigma_i h_i^*}(w_i^k + \sigma_i \bar v_i),

with ``prox_{s h^*}(v) = v - s prox_{h/s}(v/s)`` (Moreau; for least squares
``(v - sigma y) / (1 + sigma)``). ``K x`` is kept between iterations
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
from ..backend import Array, to_numpy
from ..iterative import IterativeSolver, IterState, Result, StoppingRule, relative_change
from ..linop import LinearOperator
from ..operators import Gradient, Identity
from ..penalties import DataFidelity, LeastSquares, Penalty
from ._problem import InverseResult, check_problem, check_x0, sqnorm
from ._splitting import Term, check_penalties, data_metrics, split

__all__ = ["PDHG", "PDHGResult", "pdhg"]


@dataclass(repr=False)
class PDHGResult(InverseResult):
    """Result of :func:`pdhg` / :class:`PDHG`.

    Attributes
    ----------
    residual : float
        Final ``||A x - y|| / ||y||`` (whitened for weighted least squares).
    data : DataFidelity
        The data term solved.
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


class PDHG(IterativeSolver):
    """Chambolle-Pock as an :class:`~csbox.iterative.IterativeSolver`, step by step (see :func:`pdhg`).

    ``PDHG(A, y, penalties, ...).solve()`` is :func:`pdhg`; ``step()`` runs one iteration.

    Parameters
    ----------
    A, y, penalties, data, balance, tau, sigma, theta, adaptive, adapt_every, x0
        As in :func:`pdhg`.
    **contract
        ``max_iter, tol, check_every, callback, progress, stop``; ``tol`` bounds ``rel_change``.
    """

    name = "pdhg"
    tol_metric = "rel_change"

    def __init__(self, A: LinearOperator | Array, y: Array, penalties: Penalty | Sequence[Penalty], *,
                 data: DataFidelity | None = None, balance: float = 1.0, tau: float | None = None,
                 sigma: Sequence[float] | None = None, theta: float = 1.0, adaptive: bool = True,
                 adapt_every: int = 10, x0: Array | None = None, **contract: Any):
        super().__init__(**contract)
        prob = self.problem = check_problem(A, y, data, solver="pdhg")
        pens = check_penalties(penalties, "PDHG")
        balance = check_scalar("balance", balance, low=0.0, low_open=True)
        self.theta = check_scalar("theta", theta, low=0.0, high=1.0)
        if not isinstance(adaptive, bool):
            raise TypeError(f"adaptive must be a bool, got {type(adaptive).__name__}")
        self.adapt_every = check_int("adapt_every", adapt_every, low=1) if adaptive else 0
        self.f, self.terms = _primal_term([split(p, prob.A.ishape) for p in pens])
        self.A, self.y, self.data, self.xp = prob.A, prob.y, prob.data, prob.xp
        self.ops = [self.A] + [t.K for t in self.terms]
        self.sigma, self.tau = _step_sizes(self.ops, sigma, tau, balance, prob.xp, prob.device)
        self.alpha, self.n_adapt = 0.5, 0
        self.x = self.x_prev = check_x0(x0, prob)
        self.Kx = [K._apply(self.x) for K in self.ops]
        self.w = [self.xp.zeros_like(v) for v in self.Kx]
        self.KHw = self.xp.zeros_like(self.x)

    def _data_dual(self, u: Array, s: float) -> Array:
        """``prox_{s h_0^*}(u) = u - s prox_{h_0/s}(u / s)`` (Moreau; least squares in closed form)."""
        if type(self.data) is LeastSquares:
            return (u - s * self.y) / (1.0 + s)
        return u - s * self.data.prox(u / s, self.y, 1.0 / s)

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
                wn = self._data_dual(u, s)
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

    def metrics(self) -> dict[str, Any]:
        # the kept K x: no extra products
        out = data_metrics(self.problem, self.Kx[0], zip(self.terms, self.Kx[1:], strict=True))
        if self.f is not None:
            fv, obj = self.f.g.value(self.x), out["objective"]
            out["objective"] = fv if obj is None else obj + fv
        out["rel_change"] = relative_change(self.x, self.x_prev)
        return out

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> PDHGResult:
        p = self.problem
        res = math.nan if base.x is None else float(to_numpy(p.data.residual(p.A._apply(base.x), p.y)))
        return PDHGResult(**base._base(), residual=res, data=p.data, tau=self.tau, sigma=list(self.sigma),
                          dual=self.w)


def pdhg(
    A: LinearOperator | Array, y: Array, penalties: Penalty | Sequence[Penalty], *,
    data: DataFidelity | None = None, balance: float = 1.0, tau: float | None = None,
    sigma: Sequence[float] | None = None, theta: float = 1.0, adaptive: bool = True, adapt_every: int = 10,
    x0: Array | None = None, max_iter: int = 100, tol: float | None = 1e-5, check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None, progress: bool = False,
    stop: StoppingRule | None = None,
) -> PDHGResult:
    r"""Chambolle-Pock primal-dual method for ``min_x f(A x; y) + sum_i P_i(x)``.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a matrix is wrapped in :class:`~csbox.operators.MatrixOperator`).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent problems.
    penalties : Penalty or list of Penalty
        Convex penalties, each split as ``g(K x)`` (TV: group l2,1 of the
        gradient; ``P.in_basis(W)``: ``P`` of ``W x``; others on ``K = I``).
    data : DataFidelity, optional
        ``LeastSquares()`` (default), ``WeightedLeastSquares(w)`` or ``ResidualBall(eps)``
        (the constraint ``||Ax - y|| <= eps``), dualised through its prox.
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
        ``x``; history of ``objective`` (the primal ``f(Ax; y) + sum_i P_i(x)`` from the kept
        ``K x``: no extra products; a constraint counts 0 and ``infeasibility`` reports its
        violation), ``residual`` and ``rel_change``; the steps and the dual variables.

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
    return PDHG(A, y, penalties, data=data, balance=balance, tau=tau, sigma=sigma, theta=theta,
                adaptive=adaptive, adapt_every=adapt_every, x0=x0, max_iter=max_iter, tol=tol,
                check_every=check_every, callback=callback, progress=progress, stop=stop).solve()
