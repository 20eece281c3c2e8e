r"""ADMM's x-update as a strategy (the role of SCICO's ADMM sub-problem solvers, ``_admmaux.py``).

Each ADMM iteration solves the linear system

.. math:: N_\rho\, x = b,\qquad N_\rho = A^H D A + \rho \sum_i K_i^H K_i ,\qquad
          b = A^H D\, y + \rho \sum_i K_i^H (z_i - u_i),

with ``D`` the data weights (``I`` for least squares, ``W`` weighted) where the data term is
kept in the x-update, or ``D = 0`` and one more split term ``K = A`` where it is a
constraint. Two strategies:

- :class:`ExactUpdate`: ``N_rho`` is diagonal in a known basis when ``A`` is a
  :class:`~csbox.operators.PartialFourier` (``A^H D A = F^H diag(restrict^H d) F``) or an
  identity, and every other ``K_i`` satisfies ``K_i^H K_i = I`` (identity, orthonormal
  transform) or is ``A`` itself: then ``x = F^H [(F b) / (restrict^H d + rho n_I)]``,
  exact, for the cost of one FFT pair;
- :class:`CGUpdate`: a few conjugate-gradient steps warm-started from the previous ``x``
  (BART's choice), reusing ``N x`` from the last recursion (``N x = b_old - r``) so that a
  restart costs no product; ``N x`` is recomputed exactly when ``rho`` changes and every
  ``refresh`` outer iterations, which bounds the drift of the recursive residual.
"""

from __future__ import annotations

from typing import Any

from ..backend import Array, real_dtype, to_numpy
from ..linop import LinearOperator
from ..operators import Identity, PartialFourier
from ._problem import Problem, normal_op

X_UPDATES = ("auto", "exact", "cg")


class CGUpdate:
    """Warm-started CG on ``N_rho x = b``: ``inner_max_iter`` steps, or fewer when ``inner_tol`` is met.

    Parameters
    ----------
    inner_max_iter : int
        CG steps per x-update.
    inner_tol : float or None
        Stop the inner recursion once ``||b - N x|| <= inner_tol ||b||`` for every right-hand side
        (one host sync per inner step); ``None`` runs all ``inner_max_iter`` steps, no sync.
    refresh : int
        Recompute ``N x`` exactly every ``refresh`` x-updates (and whenever ``rho`` changes).
    """

    name = "cg"

    def __init__(self, inner_max_iter: int, inner_tol: float | None, refresh: int = 10):
        self.inner_max_iter, self.inner_tol, self.refresh = inner_max_iter, inner_tol, refresh
        self.inner_iterations = 0

    def setup(self, admm: Any, x: Array) -> None:
        from .linear import _Recursion

        self.admm = admm
        self._cg = _Recursion(self._normal, admm.xp.zeros_like(x), x, len(admm.A.ishape))
        self._fresh = False  # no valid N x yet
        self._count = 0

    def _normal(self, v: Array) -> Array:
        a = self.admm
        out = a.N(v) if a.N is not None else None
        for t in a.terms:
            nv = a.rho * t.normal(v)
            out = nv if out is None else out + nv
        return out

    def rho_changed(self) -> None:
        self._fresh = False

    def solve(self, b: Array) -> Array:
        cg = self._cg
        self._count += 1
        if self._fresh and self._count % self.refresh:
            cg.restart(b, Nx=cg.b - cg.r)
        else:
            cg.restart(b)
        for _ in range(self.inner_max_iter):
            cg.step()
            self.inner_iterations += 1
            if self.inner_tol is not None and float(to_numpy(cg.relative_residual())) <= self.inner_tol:
                break
        self._fresh = True
        return cg.x


def _diagonal_basis(A: LinearOperator) -> str | None:
    """``"fourier"`` or ``"identity"`` when ``A^H D A`` is diagonal in that basis, else None."""
    if isinstance(A, PartialFourier):
        return "fourier"
    if isinstance(A, Identity):
        return "identity"
    return None


def exact_applies(admm: Any) -> str | None:
    """Why :class:`ExactUpdate` cannot solve this ADMM's x-update (None when it can)."""
    if _diagonal_basis(admm.A) is None:
        return f"A = {admm.A!r} has no diagonal normal form (PartialFourier or Identity needed)"
    bad = [t.penalty for t in admm.terms if t.K is not admm.A and not t.orthonormal]
    if bad:
        return f"the split of {bad[0]!r} is not orthonormal (K^H K != I)"
    return None


class ExactUpdate:
    """The exact x-update ``x = F^H [(F b) / (restrict^H d + rho n_I)]`` (see the module docstring)."""

    name = "exact"

    def __init__(self) -> None:
        self.inner_iterations = 0

    def setup(self, admm: Any, x: Array) -> None:
        self.admm = admm
        self.basis = _diagonal_basis(admm.A)
        self.rho_changed()

    def rho_changed(self) -> None:
        a = self.admm
        prob: Problem = a.problem
        xp = prob.xp
        rdt = real_dtype(xp, prob.dtype)
        d = xp.zeros(tuple(prob.y.shape), dtype=rdt, device=prob.device)
        if a.N is not None:  # the data term in the x-update: A^H W A
            d = d + prob.data.weight(xp.ones_like(d))
        n_orth = 0
        for t in a.terms:
            if t.K is a.A:  # the data constraint, split as z = A x
                d = d + a.rho
            else:
                n_orth += 1
        diag = a.A.restrict._adjoint(d) if self.basis == "fourier" else d
        self.inv = 1.0 / (diag + a.rho * n_orth)

    def solve(self, b: Array) -> Array:
        if self.basis == "identity":
            return b * self.inv
        F = self.admm.A.fft
        return F._adjoint(F._apply(b) * self.inv)


def make_x_update(choice: str, admm: Any, inner_max_iter: int, inner_tol: float | None) -> Any:
    """The strategy for ``x_update=choice`` (``"auto"``: exact where it applies, else CG)."""
    if choice not in X_UPDATES:
        raise ValueError(f"x_update must be one of {list(X_UPDATES)}, got {choice!r}")
    why = exact_applies(admm) if choice != "cg" else "not asked"
    if choice == "exact" and why is not None:
        raise ValueError(f"x_update='exact' does not apply here: {why}; use 'cg' or 'auto'")
    if why is None:
        return ExactUpdate()
    return CGUpdate(inner_max_iter, inner_tol)


def data_normal(prob: Problem) -> Any:
    """``v -> A^H W A v`` where the data term stays in the x-update (quadratic), else None."""
    return normal_op(prob) if prob.data.quadratic else None
