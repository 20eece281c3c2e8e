r"""Proximal-gradient solvers: ISTA and FISTA on the one solver loop.

Both solve

.. math:: \min_x f(A x; y) + \lambda \phi(x), \qquad f = \tfrac12 \|A x - y\|_2^2 \ \text{(default)}

with a smooth data term ``f`` (:class:`~csbox.penalties.LeastSquares`,
:class:`~csbox.penalties.WeightedLeastSquares`) and a :class:`~csbox.penalties.Penalty` ``lam * phi`` (default
:class:`~csbox.penalties.L1`); analysis sparsity in an orthonormal basis is the
penalty ``L1(lam).in_basis(W, cycle_spin=...)``. The MRI problem
``min 0.5||M F x - y||^2 + lam ||W x||_1`` is one call:
``fista(PartialFourier(...), y, penalty=L1().in_basis(Wavelet(...)), lam_rel=0.01)``.

The pieces follow SCICO's PGM (``scico/optimize/_pgm.py``, ``_pgmaux.py``):
the step size is a strategy object (:class:`FixedStep`, :class:`Backtracking`),
FISTA's momentum with O'Donoghue-Candès restart is one small function, and
:class:`ProximalGradient` is an :class:`~csbox.iterative.IterativeSolver` whose
``step()`` is a few lines; :func:`fista` and :func:`ista` are thin wrappers.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import Array, array_namespace, real_dtype, to_numpy
from ..iterative import IterativeSolver, Result, StoppingRule, relative_change
from ..linop import LinearOperator
from ..penalties import L1, DataFidelity, InBasis, Penalty
from ._problem import InverseResult, adjoint_data, check_problem, check_x0, normal_op

__all__ = ["Backtracking", "FixedStep", "ProxGradResult", "ProximalGradient", "fista", "ista"]


@dataclass(kw_only=True, repr=False)
class ProxGradResult(InverseResult):
    """Result of :func:`fista` / :func:`ista`.

    Attributes
    ----------
    residual : float
        Final ``||A x - y|| / ||y||`` (whitened for weighted least squares).
    data : DataFidelity
        The data term solved.
    lam : float
        The penalty weight used (resolved from ``lam_rel`` when given).
    step : float
        The last step size ``1 / L``.
    lipschitz : float
        The last Lipschitz estimate ``L`` (fixed, or grown by backtracking).
    n_restarts : int
        Momentum restarts (summed over right-hand sides; 0 for ISTA).
    penalty : Penalty
        The penalty, with ``lam`` set.
    """

    lam: float
    step: float
    lipschitz: float
    n_restarts: int
    penalty: Penalty


def _check_number(name: str, v: Any, *, positive: bool) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__} {v!r}")
    v = float(v)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {v!r}")
    return v


def _resolve_lam(penalty: Penalty, lam: Any, lam_rel: Any, AHy: Array) -> float:
    """``lam``, or ``lam_rel * ||T A^H W y||_inf`` with ``T`` the penalty's basis (``W`` the data
    weights), or the penalty's own."""
    if lam is not None and lam_rel is not None:
        raise ValueError("give at most one of lam and lam_rel")
    if lam_rel is not None:
        lam_rel = _check_number("lam_rel", lam_rel, positive=False)
        c = penalty.W @ AHy if isinstance(penalty, InBasis) else AHy
        xp = array_namespace(c)
        return lam_rel * float(to_numpy(xp.max(xp.abs(c))))
    if lam is not None:
        return _check_number("lam", lam, positive=False)
    return penalty.lam


# ---------------------------------------------------------------------------- step sizes
class FixedStep:
    """A fixed step ``g`` (default ``1 / L`` with ``L = A.lipschitz()``).

    A step above ``1/L`` may diverge; the run then stops with ``"diverged"`` or ``"nan"``.

    Parameters
    ----------
    step : float or None, default None
        The step ``g > 0``; ``None`` takes ``1 / L`` with ``L = data.lipschitz * A.lipschitz()``
        (the data term's Lipschitz factor: 1 for least squares, ``max(w)`` weighted) when the
        solve starts (a ``ValueError`` if that estimate is not positive: a zero operator).
    """

    def __init__(self, step: float | None = None):
        self.step = None if step is None else _check_number("step", step, positive=True)

    def setup(self, solver: ProximalGradient) -> None:
        if self.step is None:
            L = solver.data.lipschitz * solver.A.lipschitz(xp=solver.xp, device=solver.device)
            if not L > 0:
                raise ValueError(f"{solver.A!r} has Lipschitz estimate {L}: the operator is zero")
            self.L = L
            self.g = 1.0 / L
        else:
            self.g = self.step
            self.L = 1.0 / self.step

    def prox_step(self, solver: ProximalGradient, z: Array) -> Array:
        grad = solver.N(z) - solver.AHy  # A^H W (A z - y) through the normal operator's fast form
        return solver.penalty.prox(z - self.g * grad, self.g)


class Backtracking:
    """Beck-Teboulle backtracking: grow ``L`` by ``factor`` until the quadratic model majorises.

    Accepts ``x+ = prox_{1/L}(z - grad/L)`` once ``f(x+) <= f(z) + <grad, x+ - z>
    + (L/2)||x+ - z||^2``; ``L`` never decreases. One host sync per trial.

    Parameters
    ----------
    L0 : float
        Initial Lipschitz estimate ``> 0``.
    factor : float
        Growth factor ``> 1``.
    """

    def __init__(self, L0: float = 1.0, factor: float = 2.0):
        self.L0 = _check_number("L0", L0, positive=True)
        self.factor = _check_number("factor", factor, positive=True)
        if not self.factor > 1:
            raise ValueError(f"factor must be > 1, got {factor!r}")

    def setup(self, solver: ProximalGradient) -> None:
        self.L = self.L0
        self.g = 1.0 / self.L

    def prox_step(self, solver: ProximalGradient, z: Array) -> Array:
        xp, A, y, data = solver.xp, solver.A, solver.y, solver.data
        Az = A._apply(z)
        fz = data.value(Az, y)
        grad = A._adjoint(data.grad(Az, y))
        while True:
            x_new = solver.penalty.prox(z - (1.0 / self.L) * grad, 1.0 / self.L)
            d = x_new - z
            fx = data.value(A._apply(x_new), y)
            quad = fz + xp.sum(xp.real(xp.conj(grad) * d)) + 0.5 * self.L * xp.sum(xp.real(d * xp.conj(d)))
            if float(to_numpy(fx)) <= float(to_numpy(quad)) * (1 + 1e-12) or self.L > 1e30:
                break
            self.L *= self.factor
        self.g = 1.0 / self.L
        return x_new


def _momentum(xp: Any, t: Array, z: Array, x: Array, x_new: Array, n_core: int, restart: bool) -> tuple:
    """FISTA's extrapolation with O'Donoghue-Candès gradient restart (per right-hand side).

    Returns ``(z_next, t_next, restarts)``: the momentum is reset where
    ``Re<z - x_new, x_new - x> > 0``.
    """
    t_new = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * t * t))
    beta = (t - 1.0) / t_new
    restarts = None
    step = x_new - x
    if restart:
        u = z - x_new
        if n_core:  # one reduction per right-hand side, no elementwise temporaries
            flat = (*u.shape[: u.ndim - n_core], -1)
            prod = xp.real(xp.vecdot(xp.reshape(u, flat), xp.reshape(step, flat), axis=-1))
        else:
            prod = xp.real(xp.conj(u) * step)
        cond = prod > 0
        beta = xp.where(cond, xp.zeros_like(beta), beta)
        t_new = xp.where(cond, xp.ones_like(t_new), t_new)
        restarts = xp.sum(xp.astype(cond, t.dtype))
    bshape = (*t.shape, *([1] * n_core))
    return x_new + xp.reshape(beta, bshape) * step, t_new, restarts


# ---------------------------------------------------------------------------- the solver
class ProximalGradient(IterativeSolver):
    """ISTA / FISTA as an :class:`~csbox.iterative.IterativeSolver` (see :func:`fista`).

    ``ProximalGradient(A, y, penalty, lam=..., ...).solve()`` is :func:`fista`
    (``accelerate=True``) or :func:`ista`; ``step()`` runs one iteration. The weight is
    resolved (``lam``, ``lam_rel`` or the penalty's own) when the solver is built, once.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a matrix is wrapped in :class:`~csbox.operators.MatrixOperator`).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent right-hand sides.
    penalty : Penalty
        ``lam * phi``; an :class:`~csbox.penalties.InBasis` penalty's basis must act on ``A.ishape``.
    lam, lam_rel : float, optional
        The weight (at most one), as in :func:`fista`; default the penalty's own ``lam``.
    data : DataFidelity, optional
        The smooth data term (default least squares; ``ResidualBall`` raises ``ValueError``).
    step_size : FixedStep or Backtracking
        Step-size strategy (default ``FixedStep()``).
    accelerate : bool
        FISTA momentum (True) or plain ISTA (False).
    restart : bool
        Adaptive gradient restart (only with ``accelerate``).
    x0 : array or None
        Warm start of shape ``A.ishape`` or ``(..., *A.ishape)``.
    **contract
        ``max_iter, tol, check_every, callback, progress, stop``: the iterative-solver
        contract, see :class:`csbox.iterative.IterativeSolver`; ``tol`` bounds ``rel_change``.
    """

    tol_metric = "rel_change"

    def __init__(
        self,
        A: Any,
        y: Array,
        penalty: Penalty,
        *,
        lam: float | None = None,
        lam_rel: float | None = None,
        data: DataFidelity | None = None,
        step_size: FixedStep | Backtracking | None = None,
        accelerate: bool = True,
        restart: bool = True,
        x0: Array | None = None,
        **contract: Any,
    ):
        super().__init__(**contract)
        self.name = "fista" if accelerate else "ista"
        if not isinstance(penalty, Penalty):
            raise TypeError(f"penalty must be a csbox.penalties.Penalty, got {type(penalty).__name__}")
        prob = self.problem = check_problem(A, y, data, solver=self.name, smooth=True)
        self.A, self.y, self.data, self.xp, self.device = prob.A, prob.y, prob.data, prob.xp, prob.device
        if isinstance(penalty, InBasis) and penalty.W.ishape != self.A.ishape:
            raise ValueError(
                f"the penalty's basis acts on {penalty.W.ishape}, but A's input is {self.A.ishape}"
            )
        self.AHy = adjoint_data(prob)
        # with_lam gives a fresh copy (and a fresh cycle-spinning generator), so runs are reproducible
        self.penalty = penalty.with_lam(_resolve_lam(penalty, lam, lam_rel, self.AHy))
        self.accelerate, self.restart = accelerate, accelerate and restart
        self.nx = len(self.A.ishape)
        self.N = normal_op(prob)
        self.x = check_x0(x0, prob)
        self.x_prev, self.z = self.x, self.x
        xp, rdt = self.xp, real_dtype(self.xp, prob.dtype)
        self.t = xp.ones(prob.batch, dtype=rdt, device=self.device)
        self.restarts = xp.zeros((), dtype=rdt, device=self.device)
        self.step_size = FixedStep() if step_size is None else step_size
        if not isinstance(self.step_size, (FixedStep, Backtracking)):
            raise TypeError(f"step_size must be a FixedStep or Backtracking, got {type(step_size).__name__}")
        self.step_size.setup(self)  # the Lipschitz estimate (or backtracking's start), once

    def step(self) -> None:
        x_new = self.step_size.prox_step(self, self.z)
        if self.accelerate:
            self.z, self.t, r = _momentum(self.xp, self.t, self.z, self.x, x_new, self.nx, self.restart)
            if r is not None:
                self.restarts = self.restarts + r
        else:
            self.z = x_new
        self.x_prev, self.x = self.x, x_new

    def metrics(self) -> dict[str, Any]:
        Ax = self.A._apply(self.x)
        return {
            "objective": self.data.value(Ax, self.y) + self.penalty.value(self.x),
            "residual": self.data.residual(Ax, self.y),
            "rel_change": relative_change(self.x, self.x_prev),
        }

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> ProxGradResult:
        res = math.nan if base.x is None else float(to_numpy(self.data.residual(self.A._apply(base.x),
                                                                                self.y)))
        return ProxGradResult(
            **base._base(),
            residual=res,
            data=self.data,
            lam=self.penalty.lam,
            step=self.step_size.g,
            lipschitz=self.step_size.L,
            n_restarts=int(float(to_numpy(self.restarts))),
            penalty=self.penalty,
        )


def _run(
    A: Any,
    y: Array,
    lam: float | None,
    *,
    accelerate: bool,
    penalty: Penalty | None = None,
    step: float | FixedStep | Backtracking | None = None,
    **kw: Any,
) -> ProxGradResult:
    if penalty is None:
        if lam is None and kw.get("lam_rel") is None:
            raise ValueError("give lam, lam_rel or a penalty with its lam")
        penalty = L1()
    strategy = step if isinstance(step, (FixedStep, Backtracking)) else FixedStep(step)
    return ProximalGradient(A, y, penalty, lam=lam, step_size=strategy, accelerate=accelerate, **kw).solve()


def fista(
    A: LinearOperator | Array, y: Array, lam: float | None = None, *, penalty: Penalty | None = None,
    lam_rel: float | None = None, data: DataFidelity | None = None,
    step: float | FixedStep | Backtracking | None = None, restart: bool = True, x0: Array | None = None,
    max_iter: int = 100, tol: float | None = 1e-6, check_every: int = 10, callback: Any = None,
    progress: bool = False, stop: StoppingRule | None = None,
) -> ProxGradResult:
    r"""FISTA (Beck-Teboulle) for ``min_x f(A x; y) + lam phi(x)``, ``f = 0.5||Ax - y||^2`` by default.

    .. math::
        x_{k+1} = \operatorname{prox}_{g \lambda\phi}(z_k - g A^H \nabla f(A z_k; y)),\quad
        z_{k+1} = x_{k+1} + \tfrac{t_k - 1}{t_{k+1}}(x_{k+1} - x_k).

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a matrix is wrapped in :class:`~csbox.operators.MatrixOperator`);
        ``A.normal()`` gives the gradient (fast for :class:`~csbox.operators.PartialFourier`).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent right-hand sides solved together.
        Integer data are cast to float64.
    lam : float, optional
        Penalty weight ``>= 0`` (overrides the penalty's own ``lam``).
    penalty : Penalty, optional
        ``lam * phi`` (:mod:`csbox.penalties`: ``L1`` default, ``L0``, ``Half``,
        ``MCP``, ``CEL0``, or ``P.in_basis(W, cycle_spin=...)`` for an orthonormal ``W``).
    lam_rel : float, optional
        ``lam`` as a fraction of ``||T A^H W y||_inf`` (``T`` the penalty's basis, identity if
        none; ``W`` the data weights): the smallest ``lam`` for which ``x = 0`` solves the l1 problem.
    data : DataFidelity, optional
        ``LeastSquares()`` (default) or ``WeightedLeastSquares(w)``; ``ResidualBall`` raises ``ValueError``.
    step : float, FixedStep or Backtracking, optional
        Step size strategy; a float is a fixed step; default ``FixedStep()``
        (``1 / (data.lipschitz * A.lipschitz())``); ``Backtracking()`` for a line search.
    restart : bool
        O'Donoghue-Candès adaptive restart (gradient scheme), per right-hand side.
    x0 : array, optional
        Warm start.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract (:class:`~csbox.iterative.IterativeSolver`): ``tol`` bounds the
        relative change ``||x_k - x_{k-1}|| / ||x_k||``.

    Returns
    -------
    ProxGradResult
        ``x`` in ``y``'s namespace/device/precision; history of ``objective``,
        ``residual`` (``||Ax - y|| / ||y||``) and ``rel_change``; ``residual``, ``data``, ``lam``.

    References
    ----------
    A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci. 2009. B. O'Donoghue, E.
    Candès, "Adaptive restart for accelerated gradient schemes", Found. Comput.
    Math. 2015. M. Lustig, D. Donoho, J. Pauly, "Sparse MRI", MRM 2007.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((60, 128)) / np.sqrt(60)
    >>> x = np.zeros(128); x[[5, 40, 99]] = [1.0, -2.0, 1.5]
    >>> y = A @ x
    >>> from csbox.solvers import fista
    >>> res = fista(A, y, lam=1e-3, max_iter=1000, tol=1e-9)
    >>> res.converged, res.stop_reason
    (True, 'tol')
    >>> np.flatnonzero(np.abs(res.x) > 0.1)
    array([ 5, 40, 99])
    >>> bool(np.linalg.norm(res.x - x) < 1e-2 * np.linalg.norm(x))
    True
    """
    return _run(A, y, lam, accelerate=True, penalty=penalty, lam_rel=lam_rel, data=data, step=step,
                restart=restart, x0=x0, max_iter=max_iter, tol=tol, check_every=check_every,
                callback=callback, progress=progress, stop=stop)


def ista(A: LinearOperator | Array, y: Array, lam: float | None = None, **kwargs: Any) -> ProxGradResult:
    """ISTA (proximal gradient) for ``min_x f(A x; y) + lam phi(x)``.

    Same keywords as :func:`fista` except ``restart``, without momentum:
    ``x_{k+1} = prox(x_k - g A^H grad f(A x_k; y))``. Monotone in the objective for
    convex penalties with ``g <= 1/L``; ``O(1/k)`` against FISTA's ``O(1/k^2)``.

    Parameters
    ----------
    A, y, lam, penalty, lam_rel, data, step, x0
        As in :func:`fista`.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract (:class:`~csbox.iterative.IterativeSolver`; defaults ``max_iter=100``,
        ``tol=1e-6`` on the relative change ``||x_k - x_{k-1}|| / ||x_k||``).

    Returns
    -------
    ProxGradResult
        As in :func:`fista` (``n_restarts`` is 0).

    References
    ----------
    I. Daubechies, M. Defrise, C. De Mol, "An iterative thresholding algorithm
    for linear inverse problems with a sparsity constraint", CPAM 2004.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((60, 128)) / np.sqrt(60)
    >>> x = np.zeros(128); x[[5, 40, 99]] = [1.0, -2.0, 1.5]
    >>> y = A @ x
    >>> from csbox.solvers import ista
    >>> res = ista(A, y, lam=1e-2, max_iter=3000, tol=1e-7)
    >>> np.flatnonzero(np.abs(res.x) > 0.1)
    array([ 5, 40, 99])
    """
    if "restart" in kwargs:
        raise TypeError("ista has no momentum and takes no restart")
    kwargs.setdefault("max_iter", 100)
    kwargs.setdefault("tol", 1e-6)
    return _run(A, y, lam, accelerate=False, **kwargs)


# ista takes fista's keywords (less restart): one list, shown by help() and inspect
ista.__signature__ = inspect.signature(fista).replace(  # type: ignore[attr-defined]
    parameters=[p for p in inspect.signature(fista).parameters.values() if p.name != "restart"]
)
