"""Kronecker orthogonal matching pursuit: greedy sparse recovery with a Kronecker dictionary."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_array, check_int
from ..backend import Array, array_namespace, device, to_numpy
from ..iterative import Flag, IterativeSolver, Result, StoppingRule
from .bayesian import _check_signal, _expand, _factor_matrices, _modeprod, _outer

__all__ = ["OMPResult", "kron_omp"]

# ----------------------------------------------------------------------------- Kronecker OMP
@dataclass(repr=False)
class OMPResult(Result):
    """Result of :func:`kron_omp`.

    Attributes
    ----------
    support : numpy.ndarray of int64
        Sorted flat indices (into the flattened ``x``) of the selected atoms.
    residual : float
        The relative residual ``||y - A x|| / ||y||`` of the final least-squares fit.
    """

    support: Any = None
    residual: float = math.nan


class _KronOMP(IterativeSolver):
    """One atom per iteration; the estimate is the full-length least-squares fit on the support."""

    name = "kron_omp"
    tol_metric = "residual"
    divergence = False

    def __init__(self, mats: list, y: Array, n_nonzero: int, **contract: Any):
        super().__init__(**contract)
        self.xp = xp = array_namespace(*mats, y)
        dt = xp.result_type(*[F.dtype for F in mats], y.dtype)
        self.mats = [xp.astype(F, dt) for F in mats]
        self.y = self.r = xp.astype(y, dt)
        self.y_norm = xp.linalg.vector_norm(self.y)
        self.Ms = [int(F.shape[0]) for F in mats]
        self.Ns = [int(F.shape[1]) for F in mats]
        self.n_nonzero = n_nonzero
        self.mats_h = [xp.conj(xp.matrix_transpose(F)) for F in self.mats]
        # atoms are Kronecker products of factor columns: their norms are products of the factors' norms
        norms = xp.reshape(_outer(xp, [xp.linalg.vector_norm(F, axis=0) for F in self.mats]), (-1,))
        self.norms = xp.where(norms > 0, norms, xp.ones_like(norms))
        self.support: list[int] = []
        self.cols: list[Array] = []
        self.repeated = False
        self.x = xp.zeros((math.prod(self.Ns),), dtype=dt, device=device(y))

    def rules(self) -> list[StoppingRule]:
        return [Flag("support_full", "n_nonzero"), Flag("repeated", "stalled", converges=False)]

    def step(self) -> None:
        xp = self.xp
        corr = xp.abs(xp.reshape(_modeprod(xp, xp.reshape(self.r, tuple(self.Ms)), self.mats_h), (-1,)))
        j = int(to_numpy(xp.argmax(corr / self.norms)))
        if j in self.support:  # the residual is orthogonal to every other atom: nothing left to add
            self.repeated = True
            return
        self.support.append(j)
        sub = np.unravel_index(j, self.Ns)
        col = self.mats[0][:, int(sub[0])]
        for F, sj in zip(self.mats[1:], sub[1:], strict=True):
            col = xp.reshape(col[:, None] * F[:, int(sj)][None, :], (-1,))
        self.cols.append(col)
        As = xp.stack(self.cols, axis=1)
        AsH = xp.conj(xp.matrix_transpose(As))
        coef = xp.linalg.solve(AsH @ As, AsH @ self.y)
        self.r = self.y - As @ coef
        sup = np.asarray(self.support, dtype=np.int64)
        order = np.argsort(sup)
        self.x = _expand(
            xp, xp.take(coef, xp.asarray(order, device=device(coef))), sup[order], math.prod(self.Ns)
        )

    def metrics(self) -> dict[str, Any]:
        return {
            "residual": self.xp.linalg.vector_norm(self.r) / self.y_norm,
            "support_full": float(len(self.support) >= self.n_nonzero),
            "repeated": float(self.repeated),
        }

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> OMPResult:
        return OMPResult(
            **base._base(),
            support=np.sort(np.asarray(self.support, dtype=np.int64)),
            residual=float(to_numpy(self.xp.linalg.vector_norm(self.r) / self.y_norm)),
        )


def kron_omp(
    factors: Any,
    y: Array,
    n_nonzero: int,
    *,
    max_iter: int | None = None,
    tol: float | None = None,
    check_every: int = 1,
    callback: Any = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> OMPResult:
    """Orthogonal matching pursuit with a Kronecker dictionary ``A_1 ⊗ ⋯ ⊗ A_I``.

    Each iteration picks the atom of largest normalised correlation
    ``|a_j^H r| / ||a_j||`` (mode products, never forming ``A``), adds its
    column (a Kronecker product of factor columns) and re-solves least squares
    on the support. Stops with ``"n_nonzero"`` (converged) when ``n_nonzero``
    atoms are chosen, ``"tol"`` (converged) when ``||y - A x|| / ||y|| < tol``,
    or ``"stalled"`` (not converged) when the best atom is already in the support.

    Parameters
    ----------
    factors : Kronecker operator, or sequence of 2-D arrays or MatrixOperators (at least two)
        Finite, no zero column.
    y : array (prod M_i,)
        Finite, not all zero (its sparse estimate would be ``x = 0``).
    n_nonzero : int
        Sparsity level, in ``[1, min(prod M_i, prod N_i)]``.
    max_iter : int, optional
        Iteration cap (default ``n_nonzero``).
    tol, check_every, callback, progress, stop
        The solver contract; ``tol`` bounds the relative residual ``||y - A x|| / ||y||``
        (history key ``residual``). ``check_every`` defaults to 1: every step already
        synchronises with the host (the atom index).

    References
    ----------
    C. Caiafa, A. Cichocki, "Computing sparse representations of
    multidimensional signals using Kronecker bases", Neural Comput. 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.sbl import kron_omp
    >>> rng = np.random.default_rng(0)
    >>> A1, A2 = rng.standard_normal((12, 20)), rng.standard_normal((12, 20))
    >>> x = np.zeros((20, 20)); x[3, 7] = 1.0; x[15, 2] = -2.0
    >>> y = np.kron(A1, A2) @ x.ravel()
    >>> res = kron_omp([A1, A2], y, n_nonzero=2)
    >>> np.flatnonzero(np.abs(res.x) > 0.5).tolist() == [3 * 20 + 7, 15 * 20 + 2]
    True
    """
    y = check_array("y", y, ndim=1)
    mats = _factor_matrices(factors, y)
    _check_signal(y)
    cap = min(math.prod(int(F.shape[0]) for F in mats), math.prod(int(F.shape[1]) for F in mats))
    n_nonzero = check_int("n_nonzero", n_nonzero, low=1, high=cap)
    return _KronOMP(
        mats,
        y,
        n_nonzero,
        max_iter=n_nonzero if max_iter is None else max_iter,
        tol=tol,
        check_every=check_every,
        callback=callback,
        progress=progress,
        stop=stop,
    ).solve()
