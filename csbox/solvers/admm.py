r"""ADMM with penalty splitting and a conjugate-gradient inner solve (the design of BART's ``pics``).

Solves

.. math:: \min_x \tfrac12\|A x - y\|_2^2 + \sum_i g_i(K_i x)

by splitting ``z_i = K_i x`` (scaled form, Boyd et al. 2011):

.. math::
   x^{k+1} &= \arg\min_x \tfrac12\|Ax - y\|^2 + \tfrac\rho2 \sum_i \|K_i x - z_i^k + u_i^k\|^2
            \ \text{(CG on } (A^HA + \rho\textstyle\sum K_i^HK_i)\,x = A^Hy + \rho\sum K_i^H(z_i - u_i)),\\
   z_i^{k+1} &= \operatorname{prox}_{g_i/\rho}\big(\alpha K_i x^{k+1} + (1-\alpha) z_i^k + u_i^k\big),\\
   u_i^{k+1} &= u_i^k + \alpha K_i x^{k+1} + (1-\alpha) z_i^k - z_i^{k+1},

with over-relaxation ``alpha`` in ``[1, 2)``. Each penalty is written
``g(K x)`` with an exact prox: TV as the group l2,1 norm of the
:class:`~csbox.operators.Gradient`, ``P.in_basis(W)`` as ``P`` of the
coefficients (``W^H W = I`` so it adds ``rho I`` to the CG system), others on
``K = I``.
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
from ..penalties.base import Penalty
from ._splitting import Term, check_penalties, check_problem, split, sqnorm
from .linear import _CG, _check_x0

__all__ = ["ADMMResult", "admm"]


@dataclass
class ADMMResult(Result):
    """Result of :func:`admm`.

    Attributes
    ----------
    rho : float
        The penalty parameter used.
    primal_residual, dual_residual : float
        Final ``||K x - z||`` and ``rho ||K^H (z - z_prev)||`` (Boyd et al.'s residuals).
    """

    rho: float = math.nan
    primal_residual: float = math.nan
    dual_residual: float = math.nan


class _ADMM(IterativeSolver):
    name = "admm"
    tol_metric = "rel_change"

    def __init__(self, A: LinearOperator, y: Array, x0: Array, terms: list[Term], rho: float, relax: float,
                 inner_iter: int, xp: Any, adapt_every: int, **contract: Any):
        super().__init__(**contract)
        self.adapt_every, self.n_adapt = adapt_every, 0
        self.A, self.y, self.terms, self.rho, self.relax = A, y, terms, rho, relax
        self.inner_iter, self.xp = inner_iter, xp
        self.N = A.normal()
        self.AHy = A._adjoint(y)
        self.x = x0
        self.x_prev = x0
        self.Kx = [t.K._apply(x0) for t in terms]
        self.z = list(self.Kx)
        self.z_prev = list(self.z)
        self.u = [xp.zeros_like(z) for z in self.z]
        self.n_core = len(A.ishape)

    def _normal(self, v: Array) -> Array:
        out = self.N._apply(v)
        for t in self.terms:
            out = out + self.rho * t.normal(v)
        return out

    def step(self) -> None:
        rho, a = self.rho, self.relax
        b = self.AHy
        for t, z, u in zip(self.terms, self.z, self.u, strict=True):
            b = b + rho * t.K._adjoint(z - u)
        inner = _CG(self._normal, b, self.x, self.n_core, max_iter=self.inner_iter)
        for _ in range(self.inner_iter):
            inner.step()
        self.x_prev, self.x = self.x, inner.x
        self.z_prev = self.z
        self.Kx = [t.K._apply(self.x) for t in self.terms]
        z_new, u_new = [], []
        for t, Kx, z, u in zip(self.terms, self.Kx, self.z, self.u, strict=True):
            Kx_hat = Kx if a == 1.0 else a * Kx + (1.0 - a) * z
            zn = t.g.prox(Kx_hat + u, 1.0 / rho)
            z_new.append(zn)
            u_new.append(u + Kx_hat - zn)
        self.z, self.u = z_new, u_new
        if self.adapt_every and self.iteration % self.adapt_every == 0:
            self._adapt()

    def _adapt(self) -> None:
        """Residual balancing (He et al.; Boyd et al. Sec. 3.4.1), on Wohlberg's relative residuals.

        ``r = ||Kx - z|| / max(||Kx||, ||z||)`` and ``s = rho ||K^H (z - z_prev)|| / ||rho K^H u||``:
        when one exceeds 10 times the other, ``rho`` is doubled or halved (and
        the scaled dual ``u`` rescaled by the inverse), at most 20 times.
        """
        if self.n_adapt >= 20:
            return
        xp = self.xp
        r, s = self.residuals()
        kx = z = ku = None
        for t, Kx_i, z_i, u_i in zip(self.terms, self.Kx, self.z, self.u, strict=True):
            a, b, c = sqnorm(xp, Kx_i), sqnorm(xp, z_i), t.K._adjoint(u_i)
            kx = a if kx is None else kx + a
            z = b if z is None else z + b
            ku = c if ku is None else ku + c
        r_den = float(to_numpy(xp.sqrt(xp.maximum(kx, z))))
        s_den = float(to_numpy(self.rho * xp.sqrt(sqnorm(xp, ku))))
        if not (r_den > 0 and s_den > 0):
            return
        r_rel = float(to_numpy(r)) / r_den
        s_rel = float(to_numpy(s)) / s_den
        if r_rel > 10.0 * s_rel:
            c = 2.0
        elif s_rel > 10.0 * r_rel:
            c = 0.5
        else:
            return
        self.rho *= c
        self.u = [u / c for u in self.u]
        self.n_adapt += 1

    def objective(self) -> Array:
        xp = self.xp
        r = self.A._apply(self.x) - self.y
        obj = 0.5 * sqnorm(xp, r)
        for t, Kx in zip(self.terms, self.Kx, strict=True):
            obj = obj + t.g.value(Kx)
        return obj

    def residuals(self) -> tuple[Array, Array]:
        xp = self.xp
        r = s = None
        for Kx, z in zip(self.Kx, self.z, strict=True):
            e = sqnorm(xp, Kx - z)
            r = e if r is None else r + e
        for t, z, zp in zip(self.terms, self.z, self.z_prev, strict=True):
            d = t.K._adjoint(z - zp)
            s = d if s is None else s + d
        return xp.sqrt(r), self.rho * xp.sqrt(sqnorm(xp, s))

    def metrics(self) -> dict[str, Any]:
        r, s = self.residuals()
        return {
            "objective": self.objective,
            "rel_change": relative_change(self.x, self.x_prev),
            "primal_residual": r,
            "dual_residual": s,
        }

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> ADMMResult:
        r, s = self.residuals()
        return ADMMResult(**base._base(), rho=self.rho, primal_residual=float(to_numpy(r)),
                          dual_residual=float(to_numpy(s)))


def admm(
    A: LinearOperator, y: Array, penalties: Penalty | Sequence[Penalty], *, rho: float | None = None,
    relax: float = 1.0, inner_iter: int = 5, adaptive: bool = True, adapt_every: int = 10,
    x0: Array | None = None, max_iter: int = 100, tol: float | None = 1e-5, check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None, progress: bool = False,
    stop: StoppingRule | None = None,
) -> ADMMResult:
    r"""ADMM for ``min_x 0.5||A x - y||^2 + sum_i P_i(x)`` with convex penalties ``P_i``.

    Parameters
    ----------
    A : LinearOperator
        Forward operator (its ``normal()`` is used by the inner CG).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent problems.
    penalties : Penalty or list of Penalty
        Convex penalties: ``TV``, ``L1(lam).in_basis(W)``, ``L1``,
        ``GroupL21``, ``NuclearNorm``, ``LocallyLowRank``, ``Indicator``,
        ``Tikhonov``... each split as ``g(K x)`` (see the module docstring).
    rho : float, optional
        ADMM penalty parameter; default ``A.lipschitz() / 2`` (so ``rho K^H K`` is
        comparable with ``A^H A``; the iteration is invariant to a common
        scaling of ``y`` and the penalty weights).
    relax : float
        Over-relaxation ``alpha`` in ``[1, 2)`` (1: plain ADMM; 1.5-1.8 often faster).
    inner_iter : int
        CG iterations per ``x`` update, warm-started from the previous ``x`` (BART
        uses a few; exactness is not needed for convergence in practice).
    adaptive : bool
        Residual balancing of ``rho`` every ``adapt_every`` iterations (doubling
        or halving when the relative primal and dual residuals differ tenfold;
        at most 20 changes, so the iteration ends as plain ADMM).
    x0 : array, optional
        Warm start.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract; ``tol`` bounds ``||x_k - x_{k-1}|| / ||x_k||``.

    Returns
    -------
    ADMMResult
        ``x``; history of ``objective`` (``0.5||Ax - y||^2 + sum_i P_i(x)``),
        ``rel_change``, ``primal_residual``, ``dual_residual``; ``rho``.

    References
    ----------
    S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed
    optimization and statistical learning via the alternating direction method
    of multipliers", Found. Trends Mach. Learn. 2011. M. Uecker et al., BART
    (``pics``). S. Ramani, J. Fessler, "Parallel MR image reconstruction using
    augmented Lagrangian methods", IEEE TMI 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Identity
    >>> from csbox.penalties import TV
    >>> from csbox.solvers import admm
    >>> x = np.zeros((16, 16)); x[4:12, 4:12] = 1.0
    >>> y = x + 0.1 * np.random.default_rng(0).standard_normal(x.shape)
    >>> res = admm(Identity((16, 16)), y, TV(0.1), max_iter=200)
    >>> bool(np.linalg.norm(res.x - x) < 0.5 * np.linalg.norm(y - x))
    True
    """
    xp, batch, xdt = check_problem(A, y)
    pens = check_penalties(penalties)
    relax = check_scalar("relax", relax, low=1.0, high=2.0, high_open=True)
    inner_iter = check_int("inner_iter", inner_iter, low=1)
    if rho is None:
        L = A.lipschitz(xp=xp, device=device(y))
        rho = 0.5 * L if L > 0 else 1.0
    rho = check_scalar("rho", rho, low=0.0, low_open=True)
    x = _check_x0(x0, xp, (*batch, *A.ishape), xdt, device(y))
    y_c = xp.astype(y, xdt) if y.dtype != xdt else y
    terms = [split(p, A.ishape) for p in pens]
    if not isinstance(adaptive, bool):
        raise TypeError(f"adaptive must be a bool, got {type(adaptive).__name__}")
    adapt_every = check_int("adapt_every", adapt_every, low=1) if adaptive else 0
    solver = _ADMM(A, y_c, x, terms, rho, relax, inner_iter, xp, adapt_every, max_iter=max_iter, tol=tol,
                   check_every=check_every, callback=callback, progress=progress, stop=stop)
    return solver.solve()
