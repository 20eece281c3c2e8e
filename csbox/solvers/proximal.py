"""Proximal-gradient solvers: ISTA and FISTA (with adaptive restart, backtracking, analysis sparsity).

Both solve

.. math:: \\min_x \\tfrac12 \\|A x - y\\|_2^2 + \\lambda R(W x)

with ``R`` a separable penalty given by its threshold (``soft`` for l1,
``hard``, ``half``, ``mcp``, ``cel0``: see :mod:`csbox.solvers.thresholds`)
and ``W`` an optional orthonormal transform (e.g. :class:`~csbox.operators.Wavelet`),
whose prox is ``W^H T(W v)``. The MRI problem
``min 0.5||M F x - y||^2 + lam ||W x||_1`` is one call:
``fista(PartialFourier(...), y, lam, transform=Wavelet(...))``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_namespace, device, real_dtype, result_dtype, to_numpy
from ..linop import LinearOperator
from ._core import Monitor, Result, StoppingRule
from .thresholds import Threshold, get_threshold

__all__ = ["fista", "ista"]

Array = Any


def _check_data(A: LinearOperator, y: Array) -> tuple[Any, tuple[int, ...]]:
    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    if not hasattr(y, "shape"):
        raise TypeError(f"y must be an array, got {type(y).__name__}")
    n = len(A.oshape)
    if y.ndim < n or tuple(y.shape[y.ndim - n :]) != A.oshape:
        raise ValueError(f"y has shape {tuple(y.shape)}, expected (..., *{A.oshape}) for {A!r}")
    xp = array_namespace(y)
    if not xp.isdtype(y.dtype, ("real floating", "complex floating")):
        raise TypeError(f"y must be a floating or complex array, got dtype {y.dtype}")
    if 0 in tuple(y.shape):
        raise ValueError("y is empty")
    if not bool(to_numpy(xp.all(xp.isfinite(y)))):
        raise ValueError("y contains NaN or Inf")
    return xp, tuple(y.shape[: y.ndim - n])


def _sum_over(xp: Any, v: Array, n_core: int) -> Array:
    """Sum over the trailing ``n_core`` axes (per batch item)."""
    return xp.sum(v, axis=tuple(range(v.ndim - n_core, v.ndim))) if n_core else v


class _Prox:
    """The prox of ``lam R(W x)`` for orthonormal ``W`` (or ``W = I``), with optional cycle spinning."""

    def __init__(self, thr: Threshold, W: LinearOperator | None, cycle_spin: bool, seed: int, ndim: int):
        self.thr = thr
        self.W = W
        self.cycle_spin = cycle_spin and W is not None
        self.rng = np.random.default_rng(seed)
        self.ndim = ndim
        period = 2 ** getattr(W, "level", 3) if W is not None else 1
        axes = getattr(W, "axes", tuple(range(ndim)))
        self.axes = tuple(a - ndim for a in axes)
        self.period = period

    def __call__(self, v: Array, lam: float, g: float) -> Array:
        if self.W is None:
            return self.thr.prox(v, lam, g)
        if not self.cycle_spin:
            return self.W._adjoint(self.thr.prox(self.W._apply(v), lam, g))
        xp = array_namespace(v)
        shift = tuple(int(s) for s in self.rng.integers(0, self.period, size=len(self.axes)))
        vs = xp.roll(v, shift, axis=self.axes)
        out = self.W._adjoint(self.thr.prox(self.W._apply(vs), lam, g))
        return xp.roll(out, tuple(-s for s in shift), axis=self.axes)

    def penalty(self, x: Array, lam: float) -> Array:
        c = x if self.W is None else self.W._apply(x)
        return self.thr.penalty(c, lam)


def _proximal_gradient(
    A: LinearOperator,
    y: Array,
    lam: float | None,
    *,
    lam_rel: float | None,
    prox: str | Threshold,
    transform: LinearOperator | None,
    step: float | None,
    backtracking: bool,
    accelerate: bool,
    restart: bool,
    cycle_spin: bool,
    x0: Array | None,
    max_iter: int,
    tol: float | None,
    check_every: int,
    callback: Any,
    progress: bool,
    seed: int,
    stop: StoppingRule | None,
    name: str,
) -> Result:
    xp, batch = _check_data(A, y)
    thr = get_threshold(prox)
    dev = device(y)
    xdt = result_dtype(xp, y.dtype, A.is_complex)
    rdt = real_dtype(xp, xdt)
    if transform is not None:
        if not isinstance(transform, LinearOperator):
            raise TypeError(f"transform must be a LinearOperator, got {type(transform).__name__}")
        if transform.ishape != A.ishape:
            raise ValueError(f"transform acts on {transform.ishape}, but A's input is {A.ishape}")
    nx = len(A.ishape)
    P = _Prox(thr, transform, cycle_spin, seed, nx)

    AHy = A.H @ y
    if (lam is None) == (lam_rel is None):
        raise ValueError("give exactly one of lam and lam_rel")
    if lam_rel is not None:
        if not (math.isfinite(lam_rel) and lam_rel >= 0):
            raise ValueError(f"lam_rel must be a finite number >= 0, got {lam_rel!r}")
        c = AHy if transform is None else transform @ AHy
        lam = lam_rel * float(to_numpy(xp.max(xp.abs(c))))
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
    lam = float(lam)

    L = None
    if step is None:
        if backtracking:
            L = 1.0
        else:
            L = A.lipschitz(xp=xp, device=dev)
            if not L > 0:
                raise ValueError(f"{A!r} has Lipschitz constant {L}: the operator is zero")
        g = 1.0 / L
    else:
        if not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
            raise ValueError(f"step must be a finite number > 0, got {step!r}")
        g = float(step)
        L = 1.0 / g

    if x0 is None:
        x = xp.zeros((*batch, *A.ishape), dtype=xdt, device=dev)
    else:
        if tuple(x0.shape) not in ((*batch, *A.ishape), tuple(A.ishape)):
            raise ValueError(f"x0 has shape {tuple(x0.shape)}, expected {(*batch, *A.ishape)}")
        x = xp.astype(x0, xdt) + xp.zeros((*batch, *A.ishape), dtype=xdt, device=dev)

    N = A.normal()
    mon = Monitor(
        max_iter=max_iter,
        tol=tol,
        check_every=check_every,
        callback=callback,
        progress=progress,
        stop=stop,
        desc=name,
    )

    y_norm = xp.linalg.vector_norm(y)
    y_norm = xp.where(y_norm > 0, y_norm, xp.ones_like(y_norm))

    def fit(v: Array) -> tuple[Array, Array]:
        """Objective and relative residual ``||A v - y|| / ||y||`` at ``v``."""
        r = A @ v - y
        data = 0.5 * xp.sum(xp.real(r * xp.conj(r)))
        return data + P.penalty(v, lam), xp.sqrt(2.0 * data) / y_norm

    def smooth(v: Array) -> tuple[Array, Array]:
        r = A @ v - y
        return 0.5 * xp.sum(xp.real(r * xp.conj(r))), A.H @ r

    bshape = (*batch, *([1] * nx))
    t = xp.ones(batch, dtype=rdt, device=dev)
    z = x
    k = 0
    n_restarts = 0
    restart_count = xp.zeros((), dtype=rdt, device=dev)
    while k < max_iter:
        k += 1
        if backtracking:
            fz, grad = smooth(z)
            while True:
                x_new = P(z - (1.0 / L) * grad, lam, 1.0 / L)
                d = x_new - z
                r_new = A @ x_new - y
                fx = 0.5 * xp.sum(xp.real(r_new * xp.conj(r_new)))
                quad = fz + xp.sum(xp.real(xp.conj(grad) * d)) + 0.5 * L * xp.sum(xp.real(d * xp.conj(d)))
                if float(to_numpy(fx)) <= float(to_numpy(quad)) * (1 + 1e-12) or L > 1e30:
                    break
                L *= 2.0
            g = 1.0 / L
        else:
            grad = N._apply(z) - AHy
            x_new = P(z - g * grad, lam, g)
        if accelerate:
            t_new = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_new
            if restart:
                cond = _sum_over(xp, xp.real(xp.conj(z - x_new) * (x_new - x)), nx) > 0
                beta = xp.where(cond, xp.zeros_like(beta), beta)
                t_new = xp.where(cond, xp.ones_like(t_new), t_new)
                restart_count = restart_count + xp.sum(xp.astype(cond, rdt))
            z = x_new + xp.reshape(beta, bshape) * (x_new - x)
            t = t_new
        else:
            z = x_new
        x_prev, x = x, x_new
        if mon.due(k):
            dx = xp.linalg.vector_norm(x - x_prev)
            nrm = xp.linalg.vector_norm(x)
            obj, res = fit(x)
            stop_now = mon.check(
                k,
                x,
                objective=obj,
                residual=res,
                rel_change=dx / xp.where(nrm > 0, nrm, xp.ones_like(nrm)),
            )
            if stop_now:
                break
    if accelerate and restart:
        n_restarts = int(float(to_numpy(restart_count)))
    return mon.result(x, lam=lam, step=g, lipschitz=L, n_restarts=n_restarts, threshold=thr.name)


def fista(
    A: LinearOperator,
    y: Array,
    lam: float | None = None,
    *,
    lam_rel: float | None = None,
    prox: str | Threshold = "soft",
    transform: LinearOperator | None = None,
    step: float | None = None,
    backtracking: bool = False,
    restart: bool = True,
    cycle_spin: bool = False,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    check_every: int = 10,
    callback: Any = None,
    progress: bool = False,
    seed: int = 0,
    stop: StoppingRule | None = None,
) -> Result:
    """FISTA (Beck-Teboulle) for ``min_x 0.5||A x - y||^2 + lam R(W x)``.

    Parameters
    ----------
    A : LinearOperator
        Forward operator; ``A.normal()`` gives the gradient ``A^H A x - A^H y``
        (fast for :class:`~csbox.operators.PartialFourier`: no gathers).
    y : array, shape (..., *A.oshape)
        Data; leading axes are independent right-hand sides solved together.
    lam : float, optional
        Regularisation weight ``>= 0``. Or give ``lam_rel``, a fraction of
        ``||W A^H y||_inf`` (the smallest ``lam`` for which ``x = 0`` solves the
        l1 problem).
    prox : str or Threshold
        ``"soft"`` (l1, default), ``"hard"``, ``"half"``, ``"mcp"``, ``"cel0"``
        or a :class:`~csbox.solvers.thresholds.Threshold` instance.
    transform : LinearOperator, optional
        Orthonormal sparsifying transform ``W`` (analysis = synthesis for
        orthonormal ``W``); the prox is ``W^H T(W v)``.
    step : float, optional
        Step size; default ``1 / A.lipschitz()``. A step above ``1/L`` may
        diverge: the run then stops with ``stop_reason`` ``"diverged"`` or ``"nan"``.
    backtracking : bool
        Beck-Teboulle backtracking on ``L`` (doubling) instead of a fixed step.
    restart : bool
        O'Donoghue-Candès adaptive restart (gradient scheme): the momentum is
        reset whenever ``Re<z_k - x_{k+1}, x_{k+1} - x_k> > 0`` (per right-hand side).
    cycle_spin : bool
        Circularly shift the image by a random offset in ``[0, 2^level)`` per
        axis before each wavelet threshold and back after (BART's default).
    x0 : array, optional
        Warm start.
    max_iter, tol, check_every : int, float, int
        Iteration cap; relative-change tolerance ``||x_k - x_{k-1}|| / ||x_k||``;
        checkpoint period (the only host syncs).
    callback : callable, optional
        ``callback(state)`` at checkpoints; raise ``StopIteration`` to stop.
    progress : bool
        tqdm progress bar.
    seed : int
        Seed of the cycle-spinning shifts.
    stop : StoppingRule, optional
        Extra stopping rules (``ResidualTol``, ``ObjectiveTol``...).

    Returns
    -------
    Result
        ``x`` in ``y``'s namespace/device/precision; history of ``objective``,
        ``residual`` (``||Ax - y|| / ||y||``) and ``rel_change``; extras ``lam``, ``step``,
        ``lipschitz``, ``n_restarts``.

    References
    ----------
    A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci. 2009. B. O'Donoghue, E.
    Candès, "Adaptive restart for accelerated gradient schemes", Found. Comput.
    Math. 2015. M. Lustig, D. Donoho, J. Pauly, "Sparse MRI", MRM 2007.
    """
    return _proximal_gradient(
        A, y, lam, lam_rel=lam_rel, prox=prox, transform=transform, step=step,
        backtracking=backtracking, accelerate=True, restart=restart, cycle_spin=cycle_spin,
        x0=x0, max_iter=max_iter, tol=tol, check_every=check_every, callback=callback,
        progress=progress, seed=seed, stop=stop, name="fista",
    )  # fmt: skip


def ista(
    A: LinearOperator,
    y: Array,
    lam: float | None = None,
    *,
    lam_rel: float | None = None,
    prox: str | Threshold = "soft",
    transform: LinearOperator | None = None,
    step: float | None = None,
    backtracking: bool = False,
    cycle_spin: bool = False,
    x0: Array | None = None,
    max_iter: int = 100,
    tol: float | None = 1e-6,
    check_every: int = 10,
    callback: Any = None,
    progress: bool = False,
    seed: int = 0,
    stop: StoppingRule | None = None,
) -> Result:
    """ISTA (proximal gradient) for ``min_x 0.5||A x - y||^2 + lam R(W x)``.

    Same arguments as :func:`fista`, without momentum: ``x_{k+1} = prox(x_k -
    g A^H (A x_k - y))``. Monotone in the objective for convex penalties with
    ``g <= 1/L``; ``O(1/k)`` against FISTA's ``O(1/k^2)``.

    References
    ----------
    I. Daubechies, M. Defrise, C. De Mol, "An iterative thresholding algorithm
    for linear inverse problems with a sparsity constraint", CPAM 2004.
    """
    return _proximal_gradient(
        A, y, lam, lam_rel=lam_rel, prox=prox, transform=transform, step=step,
        backtracking=backtracking, accelerate=False, restart=False, cycle_spin=cycle_spin,
        x0=x0, max_iter=max_iter, tol=tol, check_every=check_every, callback=callback,
        progress=progress, seed=seed, stop=stop, name="ista",
    )  # fmt: skip


def column_norms(A: LinearOperator, *, max_probe: int = 4096) -> np.ndarray:
    """Column norms ``||A e_i||`` as a NumPy array of ``A.ishape`` (for :class:`~.thresholds.CEL0`).

    Exact fast paths for :class:`MatrixOperator`, :class:`PartialFourier`
    (``sqrt(M/N)`` everywhere) and :class:`Kronecker` (Kronecker product of the
    factors' norms); other operators are probed with unit vectors when
    ``prod(ishape) <= max_probe``.
    """
    from ..operators import Kronecker, MatrixOperator, PartialFourier

    if isinstance(A, MatrixOperator):
        return np.linalg.norm(to_numpy(A.matrix), axis=0)
    if isinstance(A, PartialFourier):
        return np.full(A.ishape, math.sqrt(A.mask.sum() / A.mask.size))
    if isinstance(A, Kronecker):
        out = np.ones(1)
        for f in A.factors:
            out = np.kron(out, column_norms(f, max_probe=max_probe))
        return out
    if A.size_in > max_probe:
        raise ValueError(f"column_norms: {A!r} has {A.size_in} columns > max_probe = {max_probe}")
    eye = np.eye(A.size_in).reshape(A.size_in, *A.ishape)
    cols = np.reshape(A @ eye, (A.size_in, -1))
    return np.linalg.norm(cols, axis=1).reshape(A.ishape)
