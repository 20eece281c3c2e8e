r"""Linear least squares: conjugate gradients on the normal equations and LSQR.

Both solve the Tikhonov-regularised (weighted) least-squares problem

.. math:: \min_x f(A x; y) + \tfrac{\lambda}{2}\|x\|_2^2
          \iff (A^H W A + \lambda I)\, x = A^H W y ,

with ``f`` the data term (:class:`~csbox.penalties.LeastSquares` ``0.5||Ax - y||^2``
by default, ``W = I``; :class:`~csbox.penalties.WeightedLeastSquares`
``0.5||W^{1/2}(Ax - y)||^2``) and ``lam >= 0``: the minimiser of
``||W^{1/2}(Ax - y)||^2 + lam ||x||^2``, the same ``lam`` as the penalty
:class:`~csbox.penalties.Tikhonov` (``(lam/2)||x||^2``). :class:`CG` runs conjugate
gradients on the normal equations (through ``A.normal()`` when unweighted: fast for
partial Fourier and SENSE operators; CG-SENSE is ``cg(A, y)``); :class:`LSQR` runs the
Paige-Saunders bidiagonalisation on ``W^{1/2} A`` and its adjoint (better conditioned:
it never forms ``A^H A``). Leading axes of ``y`` beyond ``A.oshape`` are independent
right-hand sides solved together: every scalar of the recursions (step lengths,
rotations) is an array over those axes.

SciPy's and PyLops's ``lsqr(damp=s)`` minimise ``||Ax - y||^2 + s^2 ||x||^2``: that is
``lam = s**2`` here (``s = sqrt(lam)``). csbox calls the weight ``lam`` everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._validation import check_scalar
from ..backend import Array, array_namespace, to_numpy
from ..iterative import IterativeSolver, IterState, StoppingRule
from ..linop import LinearOperator
from ..penalties import DataFidelity
from ._problem import InverseResult, adjoint_data, check_problem, check_x0, normal_op, sqnorm

__all__ = ["CG", "LSQR", "CGResult", "LSQRResult", "cg", "lsqr"]


# ----------------------------------------------------------------------------- shared helpers
def _inner(xp: Any, a: Array, b: Array, n_core: int) -> Array:
    """``Re <a, b>`` summed over the trailing ``n_core`` axes (one value per batch item).

    One ``vecdot`` over the flattened core (it conjugates ``a``): no elementwise temporaries,
    which the conjugate-product-and-sum form allocates twice per call.
    """
    flat = (*a.shape[: a.ndim - n_core], -1)
    return xp.real(xp.vecdot(xp.reshape(a, flat), xp.reshape(b, flat), axis=-1))


def _norm(xp: Any, a: Array, n_core: int) -> Array:
    """Euclidean norm over the trailing ``n_core`` axes (one value per batch item)."""
    return xp.sqrt(_inner(xp, a, a, n_core))


def _safe_div(xp: Any, num: Array, den: Array) -> Array:
    """``num / den`` where ``den != 0``, else 0 (a converged right-hand side stays put)."""
    ok = den != 0
    return xp.where(ok, num / xp.where(ok, den, xp.ones_like(den)), xp.zeros_like(num))


def _col(xp: Any, s: Array, n_core: int) -> Array:
    """Reshape per-batch scalars to broadcast against ``(*batch, *core)`` arrays."""
    return xp.reshape(s, (*tuple(s.shape), *([1] * n_core)))


def _as_preconditioner(M: Any, ishape: tuple[int, ...]) -> Callable[[Array], Array] | None:
    if M is None:
        return None
    if isinstance(M, LinearOperator):
        if M.ishape != ishape or M.oshape != ishape:
            raise ValueError(f"M must map {ishape} -> {ishape}, got {M.oshape} <- {M.ishape}")
        return M._apply
    if callable(M):
        return M
    raise TypeError(f"M must be a LinearOperator, a callable or None, got {type(M).__name__}")


# ----------------------------------------------------------------------------- CG
class _Recursion:
    """Preconditioned CG on ``N x = b`` (``N`` Hermitian positive semidefinite), one per batch item.

    Not a solver: :class:`CG` drives it through the loop and ADMM's CG x-update calls ``step``
    directly. ``restart(b, Nx)`` starts a new recursion from the current ``x`` for a new
    right-hand side; ``Nx`` (``N x`` when the caller knows it) saves one product.
    """

    def __init__(self, normal: Callable[[Array], Array], b: Array, x: Array, n_core: int,
                 precond: Callable[[Array], Array] | None = None):
        self.xp, self.N, self.n_core, self.M = array_namespace(b), normal, n_core, precond
        self.x = x
        self.restart(b)

    def restart(self, b: Array, Nx: Array | None = None) -> None:
        xp, nc = self.xp, self.n_core
        self.b = b
        self.r = b - (self.N(self.x) if Nx is None else Nx)
        self.z = self.r if self.M is None else self.M(self.r)
        self.p = self.z
        self.rz = _inner(xp, self.r, self.z, nc)
        # a recursion whose <r, M r> fell to rounding level (eps^2 of its start) is finished: it
        # stays put instead of dividing rounding noise by rounding noise (a singular, consistent
        # system diverges there), checked on the device, without a host sync
        eps = xp.finfo(self.rz.dtype).eps
        self.floor = (eps * eps) * self.rz

    def step(self) -> None:
        xp, nc = self.xp, self.n_core
        live = self.rz > self.floor
        q = self.N(self.p)
        alpha = xp.where(live, _safe_div(xp, self.rz, _inner(xp, self.p, q, nc)), xp.zeros_like(self.rz))
        a = _col(xp, alpha, nc)
        self.x = self.x + a * self.p
        self.r = self.r - a * q
        self.z = self.r if self.M is None else self.M(self.r)
        rz_new = _inner(xp, self.r, self.z, nc)
        beta = xp.where(live, _safe_div(xp, rz_new, self.rz), xp.zeros_like(self.rz))
        self.p = self.z + _col(xp, beta, nc) * self.p
        self.rz = rz_new

    def relative_residual(self) -> Array:
        """Largest ``||b - N x|| / ||b||`` over the batch (0-d)."""
        xp, nc = self.xp, self.n_core
        bn = _norm(xp, self.b, nc)
        return xp.max(_norm(xp, self.r, nc) / xp.where(bn > 0, bn, xp.ones_like(bn)))


@dataclass(repr=False)
class CGResult(InverseResult):
    """Result of :func:`cg` / :class:`CG`.

    Attributes
    ----------
    residual : float
        Final ``||A x - y|| / ||y||`` (whitened for weighted least squares), exact.
    normal_residual : float
        Largest relative normal-equation residual ``||A^H W y - (A^H W A + lam I) x|| / ||A^H W y||``
        over the right-hand sides at the end (from the CG recursion): what ``tol`` bounds.
    lam : float
        The Tikhonov weight used.
    data : DataFidelity
        The data term solved.
    """

    normal_residual: float = math.nan
    lam: float = 0.0


class CG(IterativeSolver):
    r"""Conjugate gradients on ``(A^H W A + lam I) x = A^H W y``, step by step (see :func:`cg`).

    ``CG(A, y, lam, ...).solve()`` is :func:`cg`; ``step()`` runs one iteration.

    Parameters
    ----------
    A, y, lam, data, M, x0
        As in :func:`cg`.
    **contract
        ``max_iter, tol, check_every, callback, progress, stop`` (:class:`~csbox.iterative.IterativeSolver`);
        ``tol`` bounds the ``normal_residual`` metric.
    """

    name = "cg"
    tol_metric = "normal_residual"
    divergence = False  # CG decreases the energy norm of the error monotonically

    def __init__(self, A: LinearOperator | Array, y: Array, lam: float = 0.0, *,
                 data: DataFidelity | None = None, M: LinearOperator | Callable[[Array], Array] | None = None,
                 x0: Array | None = None,
                 **contract: Any):
        super().__init__(**contract)
        self.lam = check_scalar("lam", lam, low=0.0)
        prob = self.problem = check_problem(A, y, data, solver="cg", quadratic=True)
        N, lam_ = normal_op(prob), self.lam
        normal = N if lam_ == 0 else (lambda v: N(v) + lam_ * v)
        self.xp, self.n_core = prob.xp, len(prob.A.ishape)
        self.cg = _Recursion(normal, adjoint_data(prob), check_x0(x0, prob), self.n_core,
                             _as_preconditioner(M, prob.A.ishape))
        self.y_sq = sqnorm(prob.xp, prob.data.whiten(prob.y))

    def step(self) -> None:
        self.cg.step()

    def metrics(self) -> dict[str, Any]:
        # with r = b - N x: 0.5 x^H N x - Re x^H b + 0.5 y^H W y = 0.5 y^H W y - 0.5 Re <x, b + r>,
        # and ||W^1/2 (Ax - y)||^2 = y^H W y - Re <x, b + r> - lam ||x||^2 (no product; its
        # cancellation leaves about sqrt(eps) of ||y|| in the residual, exact in the result)
        xp, cg = self.xp, self.cg
        energy = xp.sum(_inner(xp, cg.x, cg.b + cg.r, self.n_core))
        misfit = self.y_sq - energy - self.lam * sqnorm(xp, cg.x)
        y_n = xp.sqrt(self.y_sq)
        return {
            "normal_residual": cg.relative_residual(),
            "objective": 0.5 * self.y_sq - 0.5 * energy,
            "residual": xp.sqrt(xp.clip(misfit, 0.0, None)) / xp.where(y_n > 0, y_n, xp.ones_like(y_n)),
        }

    def estimate(self) -> Array:
        return self.cg.x

    def result(self, base: Any) -> CGResult:
        p = self.problem
        res = p.data.residual(p.A._apply(self.cg.x), p.y)
        return CGResult(**base._base(), residual=float(to_numpy(res)), data=p.data,
                        normal_residual=float(to_numpy(self.cg.relative_residual())), lam=self.lam)


def cg(
    A: LinearOperator | Array,
    y: Array,
    lam: float = 0.0,
    *,
    data: DataFidelity | None = None,
    M: LinearOperator | Callable[[Array], Array] | None = None,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> CGResult:
    r"""Conjugate gradients on the normal equations ``(A^H W A + lam I) x = A^H W y``.

    Minimises ``f(Ax; y) + (lam/2) ||x||^2`` (Hestenes-Stiefel CG on the normal
    equations, "CGNR"); CG-SENSE (Pruessmann et al.) is ``cg(E, y)`` with ``E`` the SENSE
    encoding operator. Each iteration applies ``A.normal()`` once (unweighted data), so
    operators with a fast normal form (partial Fourier: no gathers) pay for one product.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a matrix is wrapped in :class:`~csbox.operators.MatrixOperator`).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent right-hand sides, each with its own CG
        recursion (solved together, one product per iteration).
    lam : float
        Tikhonov weight ``>= 0`` (``lam ||x||^2`` against ``||W^{1/2}(Ax - y)||^2``;
        SciPy's ``lsqr(damp=s)`` is ``lam = s**2``).
    data : DataFidelity, optional
        :class:`~csbox.penalties.LeastSquares` (default) or
        :class:`~csbox.penalties.WeightedLeastSquares`; the constraint
        :class:`~csbox.penalties.ResidualBall` raises ``ValueError``.
    M : LinearOperator or callable, optional
        Preconditioner, an approximation of ``(A^H W A + lam I)^{-1}`` (Hermitian
        positive definite), applied to residuals shaped ``(..., *A.ishape)``.
    x0 : array, optional
        Warm start, shaped ``(..., *A.ishape)`` or ``A.ishape``.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract (:class:`~csbox.iterative.IterativeSolver`); ``tol`` stops when
        ``||A^H W y - (A^H W A + lam I) x|| <= tol ||A^H W y||`` for every right-hand side
        (SciPy's ``rtol``; reason ``"tol"``), checked every ``check_every`` iterations.

    Returns
    -------
    CGResult
        ``x`` shaped ``(..., *A.ishape)`` in ``y``'s namespace and device; history of
        ``normal_residual``, ``objective`` (``f(Ax; y) + (lam/2)||x||^2`` summed over the
        right-hand sides) and ``residual`` (``||Ax - y|| / ||y||``), both from the
        recursion without extra products.

    References
    ----------
    M. R. Hestenes, E. Stiefel, "Methods of conjugate gradients for solving
    linear systems", J. Res. NBS 1952. K. P. Pruessmann, M. Weiger, P. Börnert,
    P. Boesiger, "Advances in sensitivity encoding with arbitrary k-space
    trajectories", MRM 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.solvers import cg
    >>> rng = np.random.default_rng(0)
    >>> res = cg(rng.standard_normal((30, 10)), rng.standard_normal(30), lam=0.1, tol=1e-10)
    >>> res.converged, res.stop_reason
    (True, 'tol')
    """
    return CG(A, y, lam, data=data, M=M, x0=x0, max_iter=max_iter, tol=tol, check_every=check_every,
              callback=callback, progress=progress, stop=stop).solve()


# ----------------------------------------------------------------------------- LSQR
@dataclass(repr=False)
class LSQRResult(InverseResult):
    """Result of :func:`lsqr` / :class:`LSQR`.

    Attributes
    ----------
    residual : float
        Final ``||A x - y|| / ||y||`` (whitened for weighted least squares), exact.
    normal_residual_norm : float
        Largest ``||A^H W (y - A x) - lam x||`` over the right-hand sides (Paige-Saunders'
        estimate; SciPy's ``arnorm``).
    norm_estimate : float
        Largest Frobenius-norm estimate of ``[W^{1/2} A; sqrt(lam) I]`` from the
        bidiagonalisation (grows with the iterations, below the true norm; SciPy's ``anorm``).
    lam : float
        The Tikhonov weight used.
    data : DataFidelity
        The data term solved.
    """

    normal_residual_norm: float = math.nan
    norm_estimate: float = math.nan
    lam: float = 0.0


class LSQR(IterativeSolver):
    r"""Paige-Saunders LSQR for ``min f(Ax; y) + (lam/2)||x||^2``, step by step (see :func:`lsqr`).

    One recursion per batch item (every scalar is a batch array), on the whitened system
    ``W^{1/2} A x ~ W^{1/2} y``.

    Parameters
    ----------
    A, y, lam, data, x0
        As in :func:`lsqr`.
    **contract
        ``max_iter, tol, check_every, callback, progress, stop``; ``tol`` bounds ``optimality``.
    """

    name = "lsqr"
    tol_metric = "optimality"
    divergence = False  # the residual norm decreases monotonically

    def __init__(self, A: LinearOperator | Array, y: Array, lam: float = 0.0, *,
                 data: DataFidelity | None = None, x0: Array | None = None, **contract: Any):
        super().__init__(**contract)
        self.lam = check_scalar("lam", lam, low=0.0)
        prob = self.problem = check_problem(A, y, data, solver="lsqr", quadratic=True)
        xp, A, w = prob.xp, prob.A, prob.data
        self.xp, self.no, self.ni = xp, len(A.oshape), len(A.ishape)
        self._A = lambda v: w.whiten(A._apply(v))
        self._AH = lambda u: A._adjoint(w.whiten(u))
        self.sdamp = math.sqrt(self.lam)
        self.x = check_x0(x0, prob)
        self.y_norm = xp.sqrt(sqnorm(xp, w.whiten(prob.y)))
        self._start(w.whiten(prob.y) - self._A(self.x))

    def _start(self, u: Array) -> None:
        xp = self.xp
        self.beta = _norm(xp, u, self.no)
        self.u = u * _col(xp, _safe_div(xp, xp.ones_like(self.beta), self.beta), self.no)
        v = self._AH(self.u)
        self.alpha = _norm(xp, v, self.ni)
        self.v = v * _col(xp, _safe_div(xp, xp.ones_like(self.alpha), self.alpha), self.ni)
        self.w = self.v
        self.phibar, self.rhobar, self.bnorm = self.beta, self.alpha, self.beta
        self.anorm_sq = xp.zeros_like(self.beta)
        self.res2 = xp.zeros_like(self.beta)
        self.arnorm = self.alpha * self.beta
        self.rnorm = self.beta

    def _bidiagonalise(self) -> Array:
        """One Golub-Kahan step: the new ``u``, ``v``, ``alpha``; returns ``beta``."""
        xp, no, ni = self.xp, self.no, self.ni
        u = self._A(self.v) - _col(xp, self.alpha, no) * self.u
        beta = _norm(xp, u, no)
        self.u = u * _col(xp, _safe_div(xp, xp.ones_like(beta), beta), no)
        self.anorm_sq = self.anorm_sq + self.alpha * self.alpha + beta * beta + self.lam
        v = self._AH(self.u) - _col(xp, beta, ni) * self.v
        self.alpha_new = _norm(xp, v, ni)
        self.v = v * _col(xp, _safe_div(xp, xp.ones_like(self.alpha_new), self.alpha_new), ni)
        return beta

    def step(self) -> None:
        xp, ni, s = self.xp, self.ni, self.sdamp
        beta = self._bidiagonalise()
        alpha = self.alpha_new
        # eliminate the damping row with a plane rotation
        if s > 0:
            rhobar1 = xp.sqrt(self.rhobar * self.rhobar + self.lam)
            cs1 = _safe_div(xp, self.rhobar, rhobar1)
            sn1 = _safe_div(xp, s * xp.ones_like(rhobar1), rhobar1)
            psi, phibar = sn1 * self.phibar, cs1 * self.phibar
        else:
            rhobar1, psi, phibar = self.rhobar, xp.zeros_like(self.phibar), self.phibar
        # eliminate the subdiagonal beta of the bidiagonal matrix
        rho = xp.sqrt(rhobar1 * rhobar1 + beta * beta)
        cs, sn = _safe_div(xp, rhobar1, rho), _safe_div(xp, beta, rho)
        theta = sn * alpha
        self.rhobar = -cs * alpha
        phi = cs * phibar
        self.phibar = sn * phibar
        t1, t2 = _safe_div(xp, phi, rho), -_safe_div(xp, theta, rho)
        self.x = self.x + _col(xp, t1, ni) * self.w
        self.w = self.v + _col(xp, t2, ni) * self.w
        self.res2 = self.res2 + psi * psi
        self.rnorm = xp.sqrt(self.phibar * self.phibar + self.res2)
        self.arnorm = alpha * xp.abs(sn * phi)
        self.alpha = alpha

    def _optimality(self) -> Array:
        """Per right-hand side: ``min(test1 / (1 + |A| |x| / |b|), test2)`` (Paige-Saunders' tests).

        Below ``tol`` means ``||r|| <= tol (||b|| + |A| |x|)`` (a compatible
        system solved) or ``||A^H r|| <= tol |A| ||r||`` (a least-squares
        solution), SciPy's ``istop`` 1 and 2 with ``atol = btol = tol``.
        """
        xp = self.xp
        anorm = xp.sqrt(self.anorm_sq)
        xnorm = _norm(xp, self.x, self.ni)
        bn = xp.where(self.bnorm > 0, self.bnorm, xp.ones_like(self.bnorm))
        test1 = self.rnorm / (bn + anorm * xnorm)
        test2 = _safe_div(xp, self.arnorm, anorm * self.rnorm)
        done = (self.rnorm == 0) | (self.arnorm == 0)
        return xp.where(done, xp.zeros_like(test1), xp.minimum(test1, test2))

    def metrics(self) -> dict[str, Any]:
        xp = self.xp
        r_sq = xp.sum(self.rnorm * self.rnorm)  # ||W^1/2 (Ax - y)||^2 + lam ||x||^2 (recursion)
        misfit = xp.clip(r_sq - self.lam * sqnorm(xp, self.x), 0.0, None)
        y_n = self.y_norm
        return {
            "objective": 0.5 * r_sq,
            "optimality": xp.max(self._optimality()),
            "residual": xp.sqrt(misfit) / xp.where(y_n > 0, y_n, xp.ones_like(y_n)),
        }

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Any) -> LSQRResult:
        xp, p = self.xp, self.problem

        def mx(a: Array) -> float:
            return float(to_numpy(xp.max(a)))

        res = float(to_numpy(p.data.residual(p.A._apply(self.x), p.y)))
        return LSQRResult(**base._base(), residual=res, data=p.data, normal_residual_norm=mx(self.arnorm),
                          norm_estimate=mx(xp.sqrt(self.anorm_sq)), lam=self.lam)


def lsqr(
    A: LinearOperator | Array,
    y: Array,
    lam: float = 0.0,
    *,
    data: DataFidelity | None = None,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-8,
    check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> LSQRResult:
    r"""LSQR (Paige-Saunders) for ``min_x f(Ax; y) + (lam/2) ||x||^2``.

    Golub-Kahan bidiagonalisation of ``W^{1/2} A`` with plane rotations: one ``A`` and
    one ``A^H`` product per iteration, mathematically equivalent to CG on the normal
    equations but without forming ``A^H A`` (its accuracy degrades with ``cond(A)``,
    not ``cond(A)^2``). The Tikhonov term is eliminated as the extra rows
    ``sqrt(lam) I`` of the least-squares system.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (a matrix is wrapped in :class:`~csbox.operators.MatrixOperator`).
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent right-hand sides.
    lam : float
        Tikhonov weight ``>= 0``: ``lam ||x||^2`` against ``||W^{1/2}(Ax - y)||^2``.
        SciPy's ``lsqr(damp=s)`` minimises ``||Ax - y||^2 + s^2 ||x||^2``, i.e. ``lam = s**2``.
    data : DataFidelity, optional
        :class:`~csbox.penalties.LeastSquares` (default) or
        :class:`~csbox.penalties.WeightedLeastSquares` (solved on the whitened system);
        :class:`~csbox.penalties.ResidualBall` raises ``ValueError``.
    x0 : array, optional
        Warm start (the recursion solves for the correction ``x - x0``; with
        ``lam > 0`` that penalises ``||x - x0||``, as in SciPy).
    max_iter, tol, check_every, callback, progress, stop
        The solver contract (:class:`~csbox.iterative.IterativeSolver`); ``tol`` is
        Paige-Saunders' ``atol = btol = tol``: stop when ``||r|| <= tol (||y|| + ||A|| ||x||)``
        or ``||A^H r - lam x|| <= tol ||A|| ||r||`` for every right-hand side (reason ``"tol"``).

    Returns
    -------
    LSQRResult
        ``x``; history of ``objective`` (``0.5 (||W^{1/2}(Ax - y)||^2 + lam ||x||^2)`` summed
        over the right-hand sides, from the recursion), ``optimality`` (the largest of the
        per-right-hand-side tests above) and ``residual`` (``||Ax - y|| / ||y||``).

    References
    ----------
    C. C. Paige, M. A. Saunders, "LSQR: an algorithm for sparse linear
    equations and sparse least squares", ACM TOMS 8(1), 1982.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.solvers import lsqr
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((30, 10)); y = rng.standard_normal(30)
    >>> res = lsqr(M, y, tol=1e-12, max_iter=100)
    >>> bool(np.allclose(res.x, np.linalg.lstsq(M, y, rcond=None)[0]))
    True
    """
    return LSQR(A, y, lam, data=data, x0=x0, max_iter=max_iter, tol=tol, check_every=check_every,
                callback=callback, progress=progress, stop=stop).solve()
