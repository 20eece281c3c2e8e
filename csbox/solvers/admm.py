r"""ADMM with penalty splitting and an x-update strategy (the design of BART's ``pics``).

Solves

.. math:: \min_x f(A x; y) + \sum_i g_i(K_i x)

for a data term ``f`` (:mod:`csbox.penalties`: least squares by default, weighted least
squares, or the constraint ``||Ax - y|| <= eps``) by splitting ``z_i = K_i x`` (scaled
form, Boyd et al. 2011):

.. math::
   x^{k+1} &= \arg\min_x f(Ax; y) + \tfrac\rho2 \sum_i \|K_i x - z_i^k + u_i^k\|^2,\\
   z_i^{k+1} &= \operatorname{prox}_{g_i/\rho}\big(\alpha K_i x^{k+1} + (1-\alpha) z_i^k + u_i^k\big),\\
   u_i^{k+1} &= u_i^k + \alpha K_i x^{k+1} + (1-\alpha) z_i^k - z_i^{k+1},

with over-relaxation ``alpha`` in ``[1, 2)``. Each penalty is written ``g(K x)`` with an
exact prox: TV as the group l2,1 norm of the :class:`~csbox.operators.Gradient`,
``P.in_basis(W)`` as ``P`` of the coefficients (``W^H W = I``), others on ``K = I``. A
least-squares data term stays in the x-update, the linear system
``(A^H W A + rho sum_i K_i^H K_i) x = A^H W y + rho sum_i K_i^H (z_i - u_i)``; the
constraint is one more split, ``z_0 = A x`` with the projection onto the ball as its prox.
The x-update is a strategy (:mod:`csbox.solvers._xupdate`): exact where the system is
diagonal in k-space (:class:`~csbox.operators.PartialFourier` or an identity with identity
or orthonormal-transform splits), warm-started CG otherwise.
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
from ..penalties import DataFidelity, Penalty
from ._problem import InverseResult, adjoint_data, check_problem, check_x0, sqnorm
from ._splitting import check_penalties, data_metrics, data_term, split
from ._xupdate import data_normal, make_x_update

__all__ = ["ADMM", "ADMMResult", "admm"]


@dataclass(repr=False)
class ADMMResult(InverseResult):
    """Result of :func:`admm` / :class:`ADMM`.

    Attributes
    ----------
    residual : float
        Final ``||A x - y|| / ||y||`` (whitened for weighted least squares).
    data : DataFidelity
        The data term solved.
    rho : float
        The penalty parameter at the end.
    primal_residual, dual_residual : float
        Final ``||K x - z||`` and ``rho ||K^H (z - z_prev)||`` (Boyd et al.'s residuals).
    x_update : str
        The x-update strategy used: ``"exact"`` or ``"cg"``.
    inner_iterations : int
        CG steps run in all x-updates (0 for the exact update).
    """

    rho: float = math.nan
    primal_residual: float = math.nan
    dual_residual: float = math.nan
    x_update: str = ""
    inner_iterations: int = 0


class ADMM(IterativeSolver):
    """Scaled ADMM as an :class:`~csbox.iterative.IterativeSolver`, step by step (see :func:`admm`).

    ``ADMM(A, y, penalties, ...).solve()`` is :func:`admm`; ``step()`` runs one iteration.

    Parameters
    ----------
    A, y, penalties, data, rho, relax, x_update, inner_max_iter, inner_tol, adaptive, adapt_every, x0
        As in :func:`admm`.
    **contract
        ``max_iter, tol, check_every, callback, progress, stop``; ``tol`` bounds ``rel_change``.
    """

    name = "admm"
    tol_metric = "rel_change"

    def __init__(self, A: LinearOperator | Array, y: Array, penalties: Penalty | Sequence[Penalty], *,
                 data: DataFidelity | None = None, rho: float | None = None, relax: float = 1.0,
                 x_update: str = "auto", inner_max_iter: int = 5, inner_tol: float | None = None,
                 adaptive: bool = True, adapt_every: int = 10, x0: Array | None = None, **contract: Any):
        super().__init__(**contract)
        prob = self.problem = check_problem(A, y, data, solver="admm")
        pens = check_penalties(penalties, "ADMM")
        self.relax = check_scalar("relax", relax, low=1.0, high=2.0, high_open=True)
        inner_max_iter = check_int("inner_max_iter", inner_max_iter, low=1)
        inner_tol = None if inner_tol is None else check_scalar("inner_tol", inner_tol, low=0.0)
        if not isinstance(adaptive, bool):
            raise TypeError(f"adaptive must be a bool, got {type(adaptive).__name__}")
        self.adapt_every = check_int("adapt_every", adapt_every, low=1) if adaptive else 0
        self.A, self.y, self.xp, self.n_adapt = prob.A, prob.y, prob.xp, 0
        self.terms = [split(p, prob.A.ishape) for p in pens]
        if not prob.data.quadratic:  # the constraint: one more split, z_0 = A x
            self.terms.insert(0, data_term(prob))
        self.rho = self._default_rho(rho)
        self.N = data_normal(prob)
        self.AHy = adjoint_data(prob) if self.N is not None else None
        self.x = self.x_prev = check_x0(x0, prob)
        self.Kx = [t.K._apply(self.x) for t in self.terms]
        self.z = list(self.Kx)
        self.z_prev = list(self.z)
        self.u = [self.xp.zeros_like(z) for z in self.z]
        self.xu = make_x_update(x_update, self, inner_max_iter, inner_tol)
        self.xu.setup(self, self.x)

    def _default_rho(self, rho: float | None) -> float:
        if rho is None:
            p = self.problem
            L = p.data.lipschitz if p.data.quadratic else 1.0
            L *= p.A.lipschitz(xp=p.xp, device=p.device)
            rho = 0.5 * L if L > 0 else 1.0
        return check_scalar("rho", rho, low=0.0, low_open=True)

    def _rhs(self) -> Array:
        b = self.AHy
        for t, z, u in zip(self.terms, self.z, self.u, strict=True):
            v = self.rho * t.K._adjoint(z - u)
            b = v if b is None else b + v
        return b

    def step(self) -> None:
        a = self.relax
        self.x_prev, self.x = self.x, self.xu.solve(self._rhs())
        self.z_prev = self.z
        self.Kx = [t.K._apply(self.x) for t in self.terms]
        z_new, u_new = [], []
        for t, Kx, z, u in zip(self.terms, self.Kx, self.z, self.u, strict=True):
            Kx_hat = Kx if a == 1.0 else a * Kx + (1.0 - a) * z
            v = Kx_hat + u
            zn = t.g.prox(v, 1.0 / self.rho)
            z_new.append(zn)
            u_new.append(v - zn)
        self.z, self.u = z_new, u_new
        if self.adapt_every and self.iteration % self.adapt_every == 0:
            self._adapt()

    def _adapt(self) -> None:
        """Residual balancing (He et al.; Boyd et al. Sec. 3.4.1), on Wohlberg's relative residuals.

        ``r = ||Kx - z|| / max(||Kx||, ||z||)`` and ``s = rho ||K^H (z - z_prev)|| / ||rho K^H u||``:
        when one exceeds 10 times the other, ``rho`` is doubled or halved (and
        the scaled dual ``u`` rescaled by the inverse), at most 20 times. When the data
        term is split too (a constraint) nothing smooth is left in ``x`` and ``sum_i K_i^H u_i``
        tends to 0 at the solution, so the dual scale is then ``(sum_i ||rho K_i^H u_i||^2)^{1/2}``.
        """
        if self.n_adapt >= 20:
            return
        xp = self.xp
        r, s = self.residuals()
        kx = z = ku = None
        split_data = self.N is None
        for t, Kx_i, z_i, u_i in zip(self.terms, self.Kx, self.z, self.u, strict=True):
            a, b, c = sqnorm(xp, Kx_i), sqnorm(xp, z_i), t.K._adjoint(u_i)
            if split_data:
                c = sqnorm(xp, c)
            kx = a if kx is None else kx + a
            z = b if z is None else z + b
            ku = c if ku is None else ku + c
        r_den = float(to_numpy(xp.sqrt(xp.maximum(kx, z))))
        s_den = float(to_numpy(self.rho * xp.sqrt(ku if split_data else sqnorm(xp, ku))))
        if not (r_den > 0 and s_den > 0):
            return
        r_rel, s_rel = float(to_numpy(r)) / r_den, float(to_numpy(s)) / s_den
        if r_rel > 10.0 * s_rel:
            c = 2.0
        elif s_rel > 10.0 * r_rel:
            c = 0.5
        else:
            return
        self.rho *= c
        self.u = [u / c for u in self.u]
        self.n_adapt += 1
        self.xu.rho_changed()

    def residuals(self) -> tuple[Array, Array]:
        """Boyd et al.'s primal ``||K x - z||`` and dual ``rho ||K^H (z - z_prev)||`` residuals (0-d)."""
        xp = self.xp
        r = s = None
        for t, Kx, z, zp in zip(self.terms, self.Kx, self.z, self.z_prev, strict=True):
            e, d = sqnorm(xp, Kx - z), t.K._adjoint(z - zp)
            r = e if r is None else r + e
            s = d if s is None else s + d
        return xp.sqrt(r), self.rho * xp.sqrt(sqnorm(xp, s))

    def metrics(self) -> dict[str, Any]:
        r, s = self.residuals()
        Ax = self.Kx[0] if self.terms[0].K is self.A else self.A._apply(self.x)
        out = data_metrics(self.problem, Ax, zip(self.terms, self.Kx, strict=True))
        out.update(rel_change=relative_change(self.x, self.x_prev), primal_residual=r, dual_residual=s)
        return out

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> ADMMResult:
        r, s = self.residuals()
        p = self.problem
        res = math.nan if base.x is None else float(to_numpy(p.data.residual(p.A._apply(base.x), p.y)))
        return ADMMResult(**base._base(), residual=res, data=p.data, rho=self.rho,
                          primal_residual=float(to_numpy(r)), dual_residual=float(to_numpy(s)),
                          x_update=self.xu.name, inner_iterations=self.xu.inner_iterations)


def admm(
    A: LinearOperator | Array, y: Array, penalties: Penalty | Sequence[Penalty], *,
    data: DataFidelity | None = None, rho: float | None = None, relax: float = 1.0, x_update: str = "auto",
    inner_max_iter: int = 5, inner_tol: float | None = None, adaptive: bool = True, adapt_every: int = 10,
    x0: Array | None = None, max_iter: int = 100, tol: float | None = 1e-5, check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None, progress: bool = False,
    stop: StoppingRule | None = None,
) -> ADMMResult:
    r"""ADMM for ``min_x f(A x; y) + sum_i P_i(x)`` with convex penalties ``P_i``.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a matrix is wrapped in :class:`~csbox.operators.MatrixOperator`).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent problems.
    penalties : Penalty or list of Penalty
        Convex penalties (``TV``, ``L1(lam).in_basis(W)``, ``L1``, ``GroupL21``, ``NuclearNorm``,
        ``LocallyLowRank``, ``Indicator``, ``Tikhonov``...), each split as ``g(K x)``.
    data : DataFidelity, optional
        ``LeastSquares()`` (default), ``WeightedLeastSquares(w)`` or ``ResidualBall(eps)``
        (the constraint ``||Ax - y|| <= eps``, split as ``z_0 = A x``).
    rho : float, optional
        Penalty parameter; default ``L / 2`` with ``L = data.lipschitz * A.lipschitz()``
        (``rho K^H K`` comparable with ``A^H W A``).
    relax : float
        Over-relaxation ``alpha`` in ``[1, 2)`` (1: plain ADMM; 1.5-1.8 often faster).
    x_update : {"auto", "exact", "cg"}
        ``"exact"``: solve the x-update in closed form (``A`` a ``PartialFourier`` or an
        identity, every split an identity or orthonormal transform; else ``ValueError``);
        ``"cg"``: warm-started CG; ``"auto"``: exact where it applies, else CG.
    inner_max_iter, inner_tol
        CG steps per x-update (BART uses a few; exactness is not needed for convergence in
        practice) and an optional relative tolerance that ends them early (a host sync per step).
    adaptive : bool
        Residual balancing of ``rho`` every ``adapt_every`` iterations (doubling or halving when
        the relative primal and dual residuals differ tenfold; at most 20 changes).
    x0 : array, optional
        Warm start.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract; ``tol`` bounds ``||x_k - x_{k-1}|| / ||x_k||``.

    Returns
    -------
    ADMMResult
        ``x``; history of ``objective`` (``f(Ax; y) + sum_i P_i(x)``; a constraint counts 0 and
        ``infeasibility`` reports its violation), ``residual``, ``rel_change``, ``primal_residual``,
        ``dual_residual``; ``rho``, ``x_update``.

    References
    ----------
    S. Boyd et al., "Distributed optimization and statistical learning via the alternating
    direction method of multipliers", Found. Trends Mach. Learn. 2011. M. Uecker et al., BART
    (``pics``). S. Ramani, J. Fessler, "Parallel MR image reconstruction using augmented
    Lagrangian methods", IEEE TMI 2011.

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
    return ADMM(A, y, penalties, data=data, rho=rho, relax=relax, x_update=x_update,
                inner_max_iter=inner_max_iter, inner_tol=inner_tol, adaptive=adaptive,
                adapt_every=adapt_every, x0=x0, max_iter=max_iter, tol=tol, check_every=check_every,
                callback=callback, progress=progress, stop=stop).solve()
