r"""Proximal-gradient solvers: ISTA and FISTA (adaptive restart, backtracking, any penalty object).

Both solve

.. math:: \min_x \tfrac12 \|A x - y\|_2^2 + \lambda \phi(x)

with ``lam * phi`` a :class:`~csbox.penalties.Penalty` (``L1``, ``L0``, ``Half``,
``MCP``, ``CEL0``, ``P.in_basis(W)`` for analysis sparsity in an orthonormal
``W``, or any user penalty with a prox). The CS-MRI problem
``min 0.5||M F x - y||^2 + lam ||W x||_1`` is one call:
``fista(PartialFourier(...), y, L1(lam).in_basis(Wavelet(...)))``.

Design (SCICO's ``PGM`` and its step-size objects, on csbox's one loop): the
solver is an :class:`~csbox.solvers.IterativeSolver` whose ``step`` takes one
proximal-gradient step through a step-size strategy (:class:`FixedStep`,
:class:`Backtracking`) and, for FISTA, the momentum update with the
O'Donoghue-Candès restart (:func:`_momentum`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

from .._validation import check_array, check_scalar
from ..backend import Array, array_namespace, device, real_dtype, result_dtype, to_numpy
from ..linop import LinearOperator
from ..penalties import L1, InBasis, Penalty, Separable
from ..penalties.thresholds import Threshold, get_threshold
from ._core import IterativeSolver, Result, StoppingRule

__all__ = ["Backtracking", "FixedStep", "ProxGradResult", "fista", "ista"]


@dataclass(repr=False)
class ProxGradResult(Result):
    """Result of :func:`fista` / :func:`ista`.

    Attributes
    ----------
    lam : float
        The penalty weight used (resolved from ``lam_rel`` when given).
    step : float
        The last step size ``1 / L``.
    lipschitz : float
        The Lipschitz constant used (estimated, or reached by backtracking).
    n_restarts : int
        Momentum restarts (FISTA with ``restart=True``), summed over right-hand sides.
    penalty : Penalty
        The penalty object solved with.
    """

    lam: float = 0.0
    step: float = 0.0
    lipschitz: float = 0.0
    n_restarts: int = 0
    penalty: Any = None


# ---------------------------------------------------------------------------- step-size strategies
class FixedStep:
    """Constant step ``1 / L`` with ``L = A.lipschitz()`` (or a given ``step``)."""

    def __init__(self, step: float | None = None):
        self.step = None if step is None else check_scalar("step", step, low=0.0, low_open=True)
        self.L = 0.0

    def setup(self, solver: _ProximalGradient) -> None:
        if self.step is None:
            self.L = solver.A.lipschitz(xp=solver.xp, device=solver.dev)
            if not (self.L > 1e-300 and math.isfinite(self.L)):
                raise ValueError(
                    f"{solver.A!r} has Lipschitz constant estimate {self.L}: the operator is zero "
                    "or too small to be represented; rescale it or give step="
                )
            self.step = 1.0 / self.L
        else:
            self.L = 1.0 / self.step

    def take(self, solver: _ProximalGradient, z: Array) -> Array:
        grad = solver.N._apply(z) - solver.AHy
        return solver.penalty.prox(z - self.step * grad, self.step)


class Backtracking:
    """Beck-Teboulle backtracking: ``L`` grows by ``factor`` until the quadratic upper bound holds.

    Parameters
    ----------
    L0 : float
        Initial Lipschitz guess.
    factor : float
        Growth factor ``> 1``.
    """

    def __init__(self, L0: float = 1.0, factor: float = 2.0):
        self.L = check_scalar("L0", L0, low=0.0, low_open=True)
        self.factor = check_scalar("factor", factor, low=1.0, low_open=True)

    @property
    def step(self) -> float:
        return 1.0 / self.L

    def setup(self, solver: _ProximalGradient) -> None:
        pass

    def take(self, solver: _ProximalGradient, z: Array) -> Array:
        xp, A, y = solver.xp, solver.A, solver.y
        r = A @ z - y
        fz = 0.5 * xp.sum(xp.real(r * xp.conj(r)))
        grad = A.H @ r
        while True:
            x_new = solver.penalty.prox(z - (1.0 / self.L) * grad, 1.0 / self.L)
            d = x_new - z
            r_new = A @ x_new - y
            fx = 0.5 * xp.sum(xp.real(r_new * xp.conj(r_new)))
            quad = fz + xp.sum(xp.real(xp.conj(grad) * d)) + 0.5 * self.L * xp.sum(xp.real(d * xp.conj(d)))
            if float(to_numpy(fx)) <= float(to_numpy(quad)) * (1 + 1e-12) or self.L > 1e30:
                return x_new
            self.L *= self.factor


def _momentum(xp: Any, x: Array, x_new: Array, z: Array, t: Array, restart: bool, n_core: int) -> tuple:
    """FISTA's extrapolation with the O'Donoghue-Candès gradient restart, per right-hand side.

    Returns ``(z_next, t_next, n_restarted)``: the momentum is reset where
    ``Re<z - x_new, x_new - x> > 0``.
    """
    t_new = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * t * t))
    beta = (t - 1.0) / t_new
    restarted = xp.zeros_like(t)
    if restart:
        axes = tuple(range(x.ndim - n_core, x.ndim))
        cond = (
            xp.sum(xp.real(xp.conj(z - x_new) * (x_new - x)), axis=axes) > 0
            if n_core
            else (xp.real(xp.conj(z - x_new) * (x_new - x)) > 0)
        )
        beta = xp.where(cond, xp.zeros_like(beta), beta)
        t_new = xp.where(cond, xp.ones_like(t_new), t_new)
        restarted = xp.astype(cond, t.dtype)
    bshape = (*t.shape, *([1] * n_core))
    return x_new + xp.reshape(beta, bshape) * (x_new - x), t_new, xp.sum(restarted)


# ---------------------------------------------------------------------------- the solver
class _ProximalGradient(IterativeSolver):
    tol_metric = "rel_change"

    def __init__(
        self,
        A: Any,
        y: Array,
        penalty: Penalty,
        *,
        step_rule: Any,
        accelerate: bool,
        restart: bool,
        x0: Array | None,
        **contract: Any,
    ):
        super().__init__(**contract)
        self.name = "fista" if accelerate else "ista"
        self.A, self.y, self.penalty = A, y, penalty
        self.xp = xp = array_namespace(y)
        self.dev = device(y)
        n = len(A.oshape)
        self.batch = tuple(y.shape[: y.ndim - n])
        self.n_core = len(A.ishape)
        xdt = result_dtype(xp, y.dtype, A.is_complex)
        self.AHy = A.H @ y
        self.N = A.normal()
        self.rule = step_rule
        self.rule.setup(self)
        self.x = _initial(xp, x0, self.batch, A.ishape, xdt, self.dev)
        self.x_prev = self.x
        self.z = self.x
        self.t = xp.ones(self.batch, dtype=real_dtype(xp, xdt), device=self.dev)
        self.accelerate, self.restart = accelerate, restart and accelerate
        self.n_restarts = xp.zeros((), dtype=self.t.dtype, device=self.dev)
        y_norm = xp.linalg.vector_norm(y)
        self.y_norm = xp.where(y_norm > 0, y_norm, xp.ones_like(y_norm))

    def step(self) -> None:
        x_new = self.rule.take(self, self.z)
        if self.accelerate:
            self.z, self.t, n = _momentum(self.xp, self.x, x_new, self.z, self.t, self.restart, self.n_core)
            self.n_restarts = self.n_restarts + n
        else:
            self.z = x_new
        self.x_prev, self.x = self.x, x_new

    def metrics(self) -> dict[str, Any]:
        xp = self.xp
        r = self.A @ self.x - self.y
        data = 0.5 * xp.sum(xp.real(r * xp.conj(r)))
        nrm = xp.linalg.vector_norm(self.x)
        return {
            "objective": data + self.penalty.value(self.x),
            "residual": xp.sqrt(2.0 * data) / self.y_norm,
            "rel_change": xp.linalg.vector_norm(self.x - self.x_prev)
            / xp.where(nrm > 0, nrm, xp.ones_like(nrm)),
        }

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> ProxGradResult:
        return ProxGradResult(
            **base._base(),
            lam=self.penalty.lam,
            step=self.rule.step,
            lipschitz=self.rule.L,
            n_restarts=int(float(to_numpy(self.n_restarts))),
            penalty=self.penalty,
        )


def _initial(xp: Any, x0: Array | None, batch: tuple, ishape: tuple, dtype: Any, dev: Any) -> Array:
    zeros = xp.zeros((*batch, *ishape), dtype=dtype, device=dev)
    if x0 is None:
        return zeros
    x0 = check_array("x0", x0)
    if tuple(x0.shape) not in ((*batch, *ishape), tuple(ishape)):
        raise ValueError(f"x0 has shape {tuple(x0.shape)}, expected {(*batch, *ishape)} or {tuple(ishape)}")
    return xp.astype(x0, dtype) + zeros


def _check_problem(A: Any, y: Any) -> tuple[LinearOperator, Array]:
    """``A`` as an operator (plain 2-D arrays wrapped in MatrixOperator) and ``y`` validated against it."""
    from ..operators import MatrixOperator

    if not isinstance(A, LinearOperator):
        if hasattr(A, "shape") and len(A.shape) == 2:
            A = MatrixOperator(A)
        else:
            raise TypeError(f"A must be a csbox LinearOperator or a 2-D array, got {type(A).__name__}")
    y = check_array("y", y)
    n = len(A.oshape)
    if y.ndim < n or tuple(y.shape[y.ndim - n :]) != A.oshape:
        raise ValueError(f"y has shape {tuple(y.shape)}, expected (..., *{A.oshape}) for {A!r}")
    return A, y


def _resolve_penalty(
    penalty: Any, lam: Any, lam_rel: Any, legacy: dict, A: LinearOperator, y: Array
) -> Penalty:
    """The penalty from ``penalty`` (a Penalty or a number: the L1 weight), ``lam``, ``lam_rel``."""
    prox, transform, cycle_spin, seed = (legacy.get(k) for k in ("prox", "transform", "cycle_spin", "seed"))
    if prox is not None or transform is not None or cycle_spin:
        warnings.warn(
            "fista/ista: prox=, transform= and cycle_spin= are deprecated since 0.2; pass a "
            "penalty object, e.g. L1(lam).in_basis(W, cycle_spin=True)",
            DeprecationWarning,
            stacklevel=3,
        )
    if isinstance(penalty, bool) or (penalty is not None and not isinstance(penalty, (Penalty, int, float))):
        raise TypeError(
            f"penalty must be a csbox Penalty or a number (the L1 weight), got {type(penalty).__name__}"
        )
    if isinstance(penalty, (int, float)):
        if lam is not None:
            raise ValueError("give the weight once: as penalty (a number) or as lam")
        penalty, lam = None, penalty
    if penalty is None and lam is None and lam_rel is None:
        raise ValueError("give the penalty's weight: a penalty object such as L1(lam), or lam=, or lam_rel=")
    if penalty is None:
        thr = get_threshold(prox if prox is not None else "soft")
        penalty = L1() if type(thr).__name__ == "Soft" else Separable(thr)
        if transform is not None:
            penalty = penalty.in_basis(transform, cycle_spin=bool(cycle_spin), seed=seed or 0)
    elif prox is not None or transform is not None:
        raise ValueError("give either a penalty object or the deprecated prox=/transform=, not both")
    if isinstance(penalty, InBasis) and penalty.W.ishape != A.ishape:
        raise ValueError(f"the penalty's transform acts on {penalty.W.ishape}, but A's input is {A.ishape}")
    if lam is not None and lam_rel is not None:
        raise ValueError("give at most one of lam and lam_rel")
    if lam_rel is not None:
        lam_rel = check_scalar("lam_rel", lam_rel, low=0.0)
        AHy = A.H @ y
        c = penalty.W @ AHy if isinstance(penalty, InBasis) else AHy
        xp = array_namespace(c)
        lam = lam_rel * float(to_numpy(xp.max(xp.abs(c))))
    if lam is not None:
        penalty = penalty.with_lam(check_scalar("lam", lam, low=0.0))
    return penalty


def _solve(
    A: Any,
    y: Any,
    penalty: Any,
    lam: Any,
    lam_rel: Any,
    step: Any,
    backtracking: bool,
    accelerate: bool,
    restart: bool,
    x0: Any,
    contract: dict,
    legacy: dict,
) -> ProxGradResult:
    A, y = _check_problem(A, y)
    penalty = _resolve_penalty(penalty, lam, lam_rel, legacy, A, y)
    if isinstance(step, (FixedStep, Backtracking)):
        rule = step
    elif backtracking:
        if step is not None:
            raise ValueError("give step= or backtracking=True, not both")
        rule = Backtracking()
    else:
        rule = FixedStep(step)
    solver = _ProximalGradient(
        A, y, penalty, step_rule=rule, accelerate=accelerate, restart=restart, x0=x0, **contract
    )
    return solver.solve()


def fista(
    A: Any,
    y: Array,
    penalty: Penalty | float | None = None,
    *,
    lam: float | None = None,
    lam_rel: float | None = None,
    step: float | FixedStep | Backtracking | None = None,
    backtracking: bool = False,
    restart: bool = True,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    check_every: int = 10,
    callback: Any = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
    prox: str | Threshold | None = None,
    transform: LinearOperator | None = None,
    cycle_spin: bool = False,
    seed: int = 0,
) -> ProxGradResult:
    """FISTA (Beck-Teboulle) for ``min_x 0.5||A x - y||^2 + lam phi(x)``.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a plain matrix is wrapped in
        :class:`~csbox.operators.MatrixOperator`); ``A.normal()`` gives the
        gradient ``A^H A x - A^H y`` (fast for :class:`~csbox.operators.PartialFourier`).
    y : array, shape (..., *A.oshape)
        Data; leading axes are independent right-hand sides solved together.
    penalty : Penalty or float, optional
        ``lam * phi``: :class:`~csbox.penalties.L1` (default), ``L0``, ``Half``,
        ``MCP``, ``CEL0``, ``P.in_basis(W, cycle_spin=...)`` for sparsity in an
        orthonormal transform (prox ``W^H prox(W v)``), or any Penalty. A number
        means ``L1(number)``.
    lam, lam_rel : float, optional
        Override the penalty's weight: ``lam``, or ``lam_rel`` times
        ``||W A^H y||_inf`` (the smallest weight for which ``x = 0`` solves the
        l1 problem; ``W`` the penalty's basis, if any).
    step : float, FixedStep or Backtracking, optional
        Step size (default ``1 / A.lipschitz()``) or a step-size strategy. A
        step above ``1/L`` may diverge: the run then stops with ``stop_reason``
        ``"diverged"`` or ``"nan"``.
    backtracking : bool
        Shorthand for ``step=Backtracking()``.
    restart : bool
        O'Donoghue-Candès adaptive restart: the momentum is reset whenever
        ``Re<z_k - x_{k+1}, x_{k+1} - x_k> > 0`` (per right-hand side).
    x0 : array, optional
        Warm start, ``A.ishape`` or ``(..., *A.ishape)``.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract (see :doc:`/solvers`): ``tol`` bounds the relative
        change ``||x_k - x_{k-1}|| / ||x_k||`` (reason ``"tol"``).
    prox, transform, cycle_spin, seed
        Deprecated 0.1 keywords, mapped to a penalty object with a DeprecationWarning.

    Returns
    -------
    ProxGradResult
        ``x`` in ``y``'s namespace/device/precision; history of ``objective``,
        ``residual`` (``||Ax - y|| / ||y||``) and ``rel_change``; ``lam``,
        ``step``, ``lipschitz``, ``n_restarts``, ``penalty``.

    Raises
    ------
    TypeError, ValueError
        For a non-operator ``A``, bad ``y`` (shape, NaN/Inf, empty, non-numeric),
        negative ``lam``/``step``/``tol``, or a zero operator.

    References
    ----------
    A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci. 2009. B. O'Donoghue, E.
    Candès, "Adaptive restart for accelerated gradient schemes", Found. Comput.
    Math. 2015. M. Lustig, D. Donoho, J. Pauly, "Sparse MRI", MRM 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import L1
    >>> from csbox.solvers import fista
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((40, 100)); x = np.zeros(100); x[[3, 50]] = [1.0, -2.0]
    >>> res = fista(M, M @ x, L1(0.01), max_iter=500)
    >>> np.flatnonzero(np.abs(res.x) > 0.1).tolist()
    [3, 50]
    """
    contract = dict(
        max_iter=max_iter, tol=tol, check_every=check_every, callback=callback, progress=progress, stop=stop
    )
    legacy = dict(prox=prox, transform=transform, cycle_spin=cycle_spin, seed=seed)
    return _solve(A, y, penalty, lam, lam_rel, step, backtracking, True, restart, x0, contract, legacy)


def ista(
    A: Any,
    y: Array,
    penalty: Penalty | float | None = None,
    *,
    lam: float | None = None,
    lam_rel: float | None = None,
    step: float | FixedStep | Backtracking | None = None,
    backtracking: bool = False,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    check_every: int = 10,
    callback: Any = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
    prox: str | Threshold | None = None,
    transform: LinearOperator | None = None,
    cycle_spin: bool = False,
    seed: int = 0,
) -> ProxGradResult:
    """ISTA (proximal gradient) for ``min_x 0.5||A x - y||^2 + lam phi(x)``.

    Same arguments as :func:`fista`, without momentum: ``x_{k+1} = prox(x_k -
    g A^H (A x_k - y))``. Monotone in the objective for convex penalties with
    ``g <= 1/L``; ``O(1/k)`` against FISTA's ``O(1/k^2)``.

    References
    ----------
    I. Daubechies, M. Defrise, C. De Mol, "An iterative thresholding algorithm
    for linear inverse problems with a sparsity constraint", CPAM 2004.
    """
    contract = dict(
        max_iter=max_iter, tol=tol, check_every=check_every, callback=callback, progress=progress, stop=stop
    )
    legacy = dict(prox=prox, transform=transform, cycle_spin=cycle_spin, seed=seed)
    return _solve(A, y, penalty, lam, lam_rel, step, backtracking, False, False, x0, contract, legacy)


def column_norms(A: LinearOperator, *, max_probe: int = 4096) -> Any:
    """Deprecated since 0.2: use ``A.column_norms()``."""
    warnings.warn(
        "column_norms(A) is deprecated since 0.2; use A.column_norms()", DeprecationWarning, stacklevel=2
    )
    return A.column_norms(max_probe=max_probe)
