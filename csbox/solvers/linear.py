r"""Linear least squares: conjugate gradients on the normal equations and LSQR.

Both solve the Tikhonov-damped least-squares problem

.. math:: \min_x \tfrac12\|A x - y\|_2^2 + \tfrac{d}{2}\|x\|_2^2
          \iff (A^H A + d I)\, x = A^H y ,

with ``d = damp >= 0``. :func:`cg` runs conjugate gradients on the normal
equations through ``A.normal()`` (fast for partial Fourier and SENSE
operators: CG-SENSE is ``cg(A, y)``); :func:`lsqr` runs the Paige-Saunders
bidiagonalisation on ``A`` and ``A^H`` (better conditioned: it never forms
``A^H A``). Leading axes of ``y`` beyond ``A.oshape`` are independent
right-hand sides solved together: every scalar of the recursions (step
lengths, rotations) is an array over those axes.

``damp`` means the same thing in both (the weight ``d`` above); SciPy's and
PyLops's ``lsqr(damp=s)`` minimise ``||Ax - y||^2 + s^2 ||x||^2``, which is
``lsqr(damp=s**2)`` here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._validation import check_array, check_scalar
from ..backend import Array, array_namespace, device, result_dtype, to_numpy
from ..iterative import IterativeSolver, IterState, Result, StoppingRule
from ..linop import LinearOperator

__all__ = ["CGResult", "LSQRResult", "cg", "lsqr"]


# ----------------------------------------------------------------------------- shared helpers
def _check_problem(A: Any, y: Any) -> tuple[Any, tuple[int, ...], Any]:
    """Validate ``A`` and ``y``; return the namespace, the batch shape and the dtype of ``x``."""
    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    y = check_array("y", y, shape=A.oshape, cast_int=False)
    xp = array_namespace(y)
    batch = tuple(y.shape[: y.ndim - len(A.oshape)])
    return xp, batch, result_dtype(xp, y.dtype, A.is_complex)


def _check_x0(x0: Any, xp: Any, shape: tuple[int, ...], dtype: Any, dev: Any) -> Array:
    """A warm start of ``shape`` (or of the core shape, broadcast over the batch), or zeros."""
    if x0 is None:
        return xp.zeros(shape, dtype=dtype, device=dev)
    x0 = check_array("x0", x0, cast_int=False, complex_ok=xp.isdtype(dtype, "complex floating"))
    if array_namespace(x0) is not xp:
        raise TypeError(f"x0 comes from {type(x0).__module__}, but y from another namespace")
    core = shape[len(shape) - x0.ndim :] if x0.ndim <= len(shape) else None
    if core is None or tuple(x0.shape) != tuple(core):
        raise ValueError(f"x0 has shape {tuple(x0.shape)}, expected {shape} or a trailing part of it")
    return xp.astype(x0, dtype) + xp.zeros(shape, dtype=dtype, device=dev)


def _inner(xp: Any, a: Array, b: Array, n_core: int) -> Array:
    """``Re <a, b>`` summed over the trailing ``n_core`` axes (one value per batch item)."""
    prod = xp.real(xp.conj(a) * b)
    return xp.sum(prod, axis=tuple(range(prod.ndim - n_core, prod.ndim)))


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
@dataclass
class CGResult(Result):
    """Result of :func:`cg`.

    Attributes
    ----------
    residual_norm : float
        Largest relative residual ``||A^H y - (A^H A + d I) x|| / ||A^H y||`` over
        the right-hand sides at the end (from the CG recursion).
    damp : float
        The damping ``d`` used.
    """

    residual_norm: float = math.nan
    damp: float = 0.0


class _CG(IterativeSolver):
    """Preconditioned CG for ``N x = b`` with ``N`` Hermitian positive (semi)definite.

    ``N`` is a callable on ``(*batch, *core)`` arrays; one CG recursion per
    batch item. ``y_sq`` (``||y||^2`` summed over the batch), when given, turns
    the energy ``0.5 x^H N x - Re x^H b`` into the least-squares objective
    ``0.5||Ax - y||^2 + 0.5 d||x||^2`` without another product: with the
    recursive residual ``r = b - N x`` it is ``0.5 ||y||^2 - 0.5 Re <x, b + r>``.
    Also the inner solver of :func:`~csbox.solvers.admm`, which calls ``step``
    directly.
    """

    name = "cg"
    tol_metric = "residual"
    tol_reason = "residual"
    divergence = False  # CG decreases the energy norm of the error monotonically

    def __init__(
        self,
        normal: Callable[[Array], Array],
        b: Array,
        x0: Array,
        n_core: int,
        *,
        precond: Callable[[Array], Array] | None = None,
        y_sq: Array | None = None,
        damp: float = 0.0,
        **contract: Any,
    ):
        super().__init__(**contract)
        xp = array_namespace(b)
        self.xp, self.N, self.b, self.n_core, self.M = xp, normal, b, n_core, precond
        self.y_sq, self.damp = y_sq, damp
        self.x = x0
        self.restart()

    def restart(self, b: Array | None = None) -> None:
        """Start a new recursion from the current ``x`` (optionally with a new right-hand side)."""
        xp, nc = self.xp, self.n_core
        if b is not None:
            self.b = b
        self.r = self.b - self.N(self.x)
        self.z = self.r if self.M is None else self.M(self.r)
        self.p = self.z
        self.rz = _inner(xp, self.r, self.z, nc)
        bn = _norm(xp, self.b, nc)
        self.b_norm = xp.where(bn > 0, bn, xp.ones_like(bn))

    def step(self) -> None:
        xp, nc = self.xp, self.n_core
        q = self.N(self.p)
        alpha = _safe_div(xp, self.rz, _inner(xp, self.p, q, nc))
        a = _col(xp, alpha, nc)
        self.x = self.x + a * self.p
        self.r = self.r - a * q
        self.z = self.r if self.M is None else self.M(self.r)
        rz_new = _inner(xp, self.r, self.z, nc)
        beta = _safe_div(xp, rz_new, self.rz)
        self.p = self.z + _col(xp, beta, nc) * self.p
        self.rz = rz_new

    def residual(self) -> Array:
        xp = self.xp
        return xp.max(_norm(xp, self.r, self.n_core) / self.b_norm)

    def metrics(self) -> dict[str, Any]:
        xp = self.xp
        out: dict[str, Any] = {"residual": self.residual()}
        if self.y_sq is not None:
            energy = _inner(xp, self.x, self.b + self.r, self.n_core)
            out["objective"] = 0.5 * self.y_sq - 0.5 * xp.sum(energy)
        return out

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> CGResult:
        res = float(to_numpy(self.residual()))
        return CGResult(**base._base(), residual_norm=res, damp=self.damp)


def cg(
    A: LinearOperator,
    y: Array,
    damp: float = 0.0,
    *,
    M: LinearOperator | Callable[[Array], Array] | None = None,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    check_every: int = 1,
    callback: Callable[[IterState], Any] | None = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> CGResult:
    r"""Conjugate gradients on the normal equations ``(A^H A + d I) x = A^H y``.

    Minimises ``0.5||A x - y||^2 + 0.5 d ||x||^2`` (Hestenes-Stiefel CG applied to
    the normal equations, "CGNR"); CG-SENSE (Pruessmann et al.) is ``cg(E, y)``
    with ``E`` the SENSE encoding operator. Each iteration applies
    ``A.normal()`` once, so operators with a fast normal form (partial
    Fourier: no gathers) pay for one product, not two.

    Parameters
    ----------
    A : LinearOperator
        Forward operator.
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent right-hand sides, each with its own
        CG recursion (solved together, one product per iteration).
    damp : float
        Tikhonov weight ``d >= 0``.
    M : LinearOperator or callable, optional
        Preconditioner, an approximation of ``(A^H A + d I)^{-1}`` (Hermitian
        positive definite), applied to residuals shaped ``(..., *A.ishape)``.
    x0 : array, optional
        Warm start, shaped ``(..., *A.ishape)`` or ``A.ishape``.
    max_iter : int
        Iteration cap.
    tol : float or None
        Stop when ``||A^H y - (A^H A + d I) x|| <= tol ||A^H y||`` for every
        right-hand side (SciPy's ``rtol``); reason ``"residual"``.
    check_every : int
        Checkpoint period (each checkpoint synchronises one scalar with the host).
    callback, progress, stop
        The solver contract (see :class:`~csbox.iterative.IterativeSolver`).

    Returns
    -------
    CGResult
        ``x`` shaped ``(..., *A.ishape)`` in ``y``'s namespace and device; history
        of ``residual`` (largest relative residual over the right-hand sides)
        and ``objective`` (``0.5||Ax - y||^2 + 0.5 d ||x||^2`` summed over them,
        from the recursion, without extra products).

    References
    ----------
    M. R. Hestenes, E. Stiefel, "Methods of conjugate gradients for solving
    linear systems", J. Res. NBS 1952. K. P. Pruessmann, M. Weiger, P. Börnert,
    P. Boesiger, "Advances in sensitivity encoding with arbitrary k-space
    trajectories", MRM 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import MatrixOperator
    >>> from csbox.solvers import cg
    >>> rng = np.random.default_rng(0)
    >>> A = MatrixOperator(rng.standard_normal((30, 10)))
    >>> res = cg(A, rng.standard_normal(30), damp=0.1, tol=1e-10)
    >>> res.converged, res.stop_reason
    (True, 'residual')
    """
    damp = check_scalar("damp", damp, low=0.0)
    normal, b, x, y_sq = _normal_equations(A, y, damp, x0)
    solver = _CG(
        normal, b, x, len(A.ishape), precond=_as_preconditioner(M, A.ishape), y_sq=y_sq, damp=damp,
        max_iter=max_iter, tol=tol, check_every=check_every, callback=callback,
        progress=progress, stop=stop,
    )  # fmt: skip
    return solver.solve()


def _normal_equations(A: LinearOperator, y: Array, damp: float, x0: Array | None) -> tuple:
    """``(v -> (A^H A + damp I) v, A^H y, x0 checked or zeros, ||y||^2)`` for :func:`cg`."""
    xp, batch, xdt = _check_problem(A, y)
    x = _check_x0(x0, xp, (*batch, *A.ishape), xdt, device(y))
    N = A.normal()
    b = A._adjoint(xp.astype(y, xdt) if y.dtype != xdt else y)
    normal = N._apply if damp == 0 else (lambda v: N._apply(v) + damp * v)
    return normal, b, x, xp.sum(xp.real(xp.conj(y) * y))


# ----------------------------------------------------------------------------- LSQR
@dataclass
class LSQRResult(Result):
    """Result of :func:`lsqr`.

    Attributes
    ----------
    residual_norm : float
        Largest ``sqrt(||Ax - y||^2 + d ||x||^2)`` over the right-hand sides
        (Paige-Saunders' estimate from the recursion).
    normal_residual_norm : float
        Largest ``||A^H (y - A x) - d x||`` over the right-hand sides (estimate).
    norm_estimate : float
        Largest Frobenius-norm estimate of ``[A; sqrt(d) I]`` from the
        bidiagonalisation (grows with the iterations, below the true norm).
    damp : float
        The damping ``d`` used.
    """

    residual_norm: float = math.nan
    normal_residual_norm: float = math.nan
    norm_estimate: float = math.nan
    damp: float = 0.0


class _LSQR(IterativeSolver):
    """Paige-Saunders LSQR, one recursion per batch item (every scalar is a batch array)."""

    name = "lsqr"
    tol_metric = "optimality"
    tol_reason = "tol"
    divergence = False  # the residual norm decreases monotonically

    def __init__(self, A: LinearOperator, y: Array, x0: Array, damp: float, **contract: Any):
        super().__init__(**contract)
        xp = array_namespace(y)
        self.xp, self.A, self.damp = xp, A, damp
        self.no, self.ni = len(A.oshape), len(A.ishape)
        self.sdamp = math.sqrt(damp)
        self.x = x0
        u = y - A._apply(x0)
        self.beta = _norm(xp, u, self.no)
        self.u = u * _col(xp, _safe_div(xp, xp.ones_like(self.beta), self.beta), self.no)
        v = A._adjoint(self.u)
        self.alpha = _norm(xp, v, self.ni)
        self.v = v * _col(xp, _safe_div(xp, xp.ones_like(self.alpha), self.alpha), self.ni)
        self.w = self.v
        self.phibar = self.beta
        self.rhobar = self.alpha
        self.bnorm = self.beta
        self.anorm_sq = xp.zeros_like(self.beta)
        self.res2 = xp.zeros_like(self.beta)
        self.arnorm = self.alpha * self.beta
        self.rnorm = self.beta

    def step(self) -> None:
        xp, A, no, ni, s = self.xp, self.A, self.no, self.ni, self.sdamp
        u = A._apply(self.v) - _col(xp, self.alpha, no) * self.u
        beta = _norm(xp, u, no)
        self.u = u * _col(xp, _safe_div(xp, xp.ones_like(beta), beta), no)
        self.anorm_sq = self.anorm_sq + self.alpha * self.alpha + beta * beta + self.damp
        v = A._adjoint(self.u) - _col(xp, beta, ni) * self.v
        alpha = _norm(xp, v, ni)
        self.v = v * _col(xp, _safe_div(xp, xp.ones_like(alpha), alpha), ni)
        # eliminate the damping row with a plane rotation
        if s > 0:
            rhobar1 = xp.sqrt(self.rhobar * self.rhobar + self.damp)
            cs1 = _safe_div(xp, self.rhobar, rhobar1)
            sn1 = _safe_div(xp, s * xp.ones_like(rhobar1), rhobar1)
            psi = sn1 * self.phibar
            phibar = cs1 * self.phibar
        else:
            rhobar1, psi, phibar = self.rhobar, xp.zeros_like(self.phibar), self.phibar
        # eliminate the subdiagonal beta of the bidiagonal matrix
        rho = xp.sqrt(rhobar1 * rhobar1 + beta * beta)
        cs = _safe_div(xp, rhobar1, rho)
        sn = _safe_div(xp, beta, rho)
        theta = sn * alpha
        self.rhobar = -cs * alpha
        phi = cs * phibar
        self.phibar = sn * phibar
        tau = sn * phi
        t1 = _safe_div(xp, phi, rho)
        t2 = -_safe_div(xp, theta, rho)
        self.x = self.x + _col(xp, t1, ni) * self.w
        self.w = self.v + _col(xp, t2, ni) * self.w
        self.res2 = self.res2 + psi * psi
        self.rnorm = xp.sqrt(self.phibar * self.phibar + self.res2)
        self.arnorm = alpha * xp.abs(tau)
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
        return {
            "objective": 0.5 * xp.sum(self.rnorm * self.rnorm),
            "optimality": xp.max(self._optimality()),
        }

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> LSQRResult:
        xp = self.xp

        def mx(a: Array) -> float:
            return float(to_numpy(xp.max(a)))

        return LSQRResult(
            **base._base(),
            residual_norm=mx(self.rnorm),
            normal_residual_norm=mx(self.arnorm),
            norm_estimate=mx(xp.sqrt(self.anorm_sq)),
            damp=self.damp,
        )


def lsqr(
    A: LinearOperator,
    y: Array,
    damp: float = 0.0,
    *,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-8,
    check_every: int = 1,
    callback: Callable[[IterState], Any] | None = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> LSQRResult:
    r"""LSQR (Paige-Saunders) for ``min_x 0.5||A x - y||^2 + 0.5 d ||x||^2``.

    Golub-Kahan bidiagonalisation of ``A`` with plane rotations: one ``A`` and
    one ``A^H`` product per iteration, mathematically equivalent to CG on the
    normal equations but without forming ``A^H A`` (its accuracy degrades
    with ``cond(A)``, not ``cond(A)^2``). The damping is eliminated as the
    extra rows ``sqrt(d) I`` of the least-squares system.

    Parameters
    ----------
    A : LinearOperator
        Forward operator.
    y : array, shape ``(..., *A.oshape)``
        Data; leading axes are independent right-hand sides.
    damp : float
        Tikhonov weight ``d >= 0`` (SciPy's ``damp`` is ``sqrt(d)``).
    x0 : array, optional
        Warm start (the recursion solves for the correction ``x - x0``; with
        ``damp > 0`` that penalises ``||x - x0||``, as in SciPy).
    max_iter : int
        Iteration cap.
    tol : float or None
        Paige-Saunders' ``atol = btol = tol``: stop when ``||r|| <= tol (||y|| +
        ||A|| ||x||)`` or ``||A^H r - d x|| <= tol ||A|| ||r||`` for every
        right-hand side (reason ``"tol"``).
    check_every : int
        Checkpoint period.
    callback, progress, stop
        The solver contract (see :class:`~csbox.iterative.IterativeSolver`).

    Returns
    -------
    LSQRResult
        ``x``; history of ``objective`` (``0.5 (||Ax - y||^2 + d ||x||^2)``
        summed over the right-hand sides, from the recursion) and
        ``optimality`` (the largest of the per-right-hand-side tests above).

    References
    ----------
    C. C. Paige, M. A. Saunders, "LSQR: an algorithm for sparse linear
    equations and sparse least squares", ACM TOMS 8(1), 1982.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import MatrixOperator
    >>> from csbox.solvers import lsqr
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((30, 10)); y = rng.standard_normal(30)
    >>> res = lsqr(MatrixOperator(M), y, tol=1e-12, max_iter=100)
    >>> bool(np.allclose(res.x, np.linalg.lstsq(M, y, rcond=None)[0]))
    True
    """
    xp, batch, xdt = _check_problem(A, y)
    damp = check_scalar("damp", damp, low=0.0)
    dev = device(y)
    x = _check_x0(x0, xp, (*batch, *A.ishape), xdt, dev)
    y_c = xp.astype(y, xdt) if y.dtype != xdt else y
    solver = _LSQR(
        A, y_c, x, damp, max_iter=max_iter, tol=tol, check_every=check_every,
        callback=callback, progress=progress, stop=stop,
    )  # fmt: skip
    return solver.solve()
