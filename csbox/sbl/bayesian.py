r"""Sparse Bayesian learning by EM: classic SBL and Kronecker-structured SBL (AM, SVD, pattern-coupled).

Model: ``y = A x + n``, ``n ~ CN(0, s2 I)`` (``N(0, s2 I)`` for real data),
prior ``x_j ~ N(0, gamma_j)``. The EM iteration alternates

* E-step: ``Sigma = (A^H A / s2 + Gamma^{-1})^{-1}``, ``mu = Sigma A^H y / s2``;
* M-step: ``gamma = argmin sum_j lambda_j / gamma_j + log gamma_j`` with
  ``lambda = diag(Sigma) + |mu|^2`` (unstructured: ``gamma = lambda``),

which decreases the SBL cost ``log|B| + y^H B^{-1} y``, ``B = s2 I + A Gamma A^H``.

:func:`sbl` uses the Woodbury form (an ``m x m`` system, ``O(m^2 n)`` per
iteration). :func:`kron_sbl` handles ``A = A_1 ⊗ ... ⊗ A_I`` with ``gamma =
gamma_1 ⊗ ... ⊗ gamma_I``: the E-step comes from the eigendecompositions
``A_i Gamma_i A_i^H = U_i P_i U_i^H`` (``B = U (s2 I + P) U^H`` with ``U, P``
Kronecker), so neither the Kronecker matrix nor an ``n x n`` covariance is ever
formed; the M-step is solved by alternating minimisation over the factors (AM)
or by a rank-one (SVD) approximation of ``lambda`` reshaped as a tensor.

References
----------
M. Tipping, "Sparse Bayesian learning and the relevance vector machine", JMLR
2001. D. Wipf, B. Rao, "Sparse Bayesian learning for basis selection", IEEE TSP
2004. Y. He, G. Joseph, "Bayesian algorithms for Kronecker-structured sparse
vector recovery with application to IRS-MIMO channel estimation", IEEE TSP
2024 (arXiv 2307.14719). J. Fang, Y. Shen, H. Li, P. Wang, "Pattern-coupled
sparse Bayesian learning for recovery of block-sparse signals", IEEE TSP 2015.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._sparse import scatter
from .._validation import check_array, check_choice, check_int, check_same_namespace, check_scalar
from ..backend import Array, array_namespace, device, to_numpy
from ..iterative import Flag, IterativeSolver, Result, StoppingRule
from ..linop import LinearOperator

__all__ = ["SBLResult", "kron_sbl", "sbl"]


# ----------------------------------------------------------------------------- helpers
def _as_matrix(A: Any, name: str) -> Array:
    """A finite, non-empty 2-D matrix (from an array or a MatrixOperator; integers cast to float)."""
    from ..operators import MatrixOperator

    if isinstance(A, MatrixOperator):
        return A.matrix
    if isinstance(A, LinearOperator):
        raise TypeError(f"{name} must be a 2-D array or a MatrixOperator, got {A!r}")
    return check_array(name, A, ndim=2)


def _check_noise(noise_var: float | None) -> float | None:
    """``None`` (learn it) or a finite real ``> 0`` (NumPy scalars accepted), as a Python float."""
    if noise_var is None:
        return None
    if isinstance(noise_var, bool) or not isinstance(noise_var, numbers.Real):
        raise TypeError(f"noise_var must be a real number or None, got {type(noise_var).__name__}")
    if not math.isfinite(noise_var) or noise_var <= 0:
        raise ValueError(f"noise_var must be a finite number > 0 (or None to learn it), got {noise_var!r}")
    return float(noise_var)


def _check_signal(y: Array) -> None:
    """Refuse an all-zero ``y`` at the start: its estimate is ``x = 0`` and EM degenerates
    (``gamma -> 0``, the noise variance to its floor) instead of converging."""
    xp = array_namespace(y)
    if not bool(to_numpy(xp.any(y != 0))):
        raise ValueError("y is all zero: the sparse estimate is x = 0; there is nothing to learn")


def _relative_residual(xp: Any, r: Array, y: Array) -> float:
    """``||r|| / ||y||`` as a Python float (``y`` is never all zero here)."""
    return float(to_numpy(xp.linalg.vector_norm(r) / xp.linalg.vector_norm(y)))


def _check_columns(name: str, A: Array, why: str = "") -> None:
    """Refuse a zero column: its coefficient is unidentifiable (and its prior variance never moves)."""
    xp = array_namespace(A)
    nonzero = to_numpy(xp.any(A != 0, axis=0))
    if not np.all(nonzero):
        raise ValueError(f"{name} has a zero column ({int(np.flatnonzero(~nonzero)[0])}){why}")


def _expand(xp: Any, v: Array, active: np.ndarray, n: int) -> Array:
    """Scatter ``v`` (values on ``active``) into a length-``n`` zero vector, by a gather."""
    return scatter(v, active, n)


def _real(xp: Any, v: Array) -> Array:
    return xp.real(v) if xp.isdtype(v.dtype, "complex floating") else v


# ----------------------------------------------------------------------------- classic SBL
@dataclass(repr=False)
class SBLResult(Result):
    """Result of :func:`sbl` and :func:`kron_sbl`.

    Attributes
    ----------
    gamma : array (n,)
        Prior variances (zeros where pruned).
    variance : array (n,)
        Posterior variances ``diag(Sigma)`` (zeros where pruned).
    noise_var : float
        Noise variance (given, or learned by EM).
    support : ndarray of int
        Indices kept by pruning.
    factors_gamma : list of arrays
        :func:`kron_sbl` only: the per-factor ``gamma_i`` (zeros where pruned).
    inner_iterations : list of int
        :func:`kron_sbl` with ``method="am"``: inner M-step sweeps per EM iteration.
    residual : float
        The relative residual ``||y - A x|| / ||y||`` (NaN when the run returned no estimate).
        ``residual**2 * ||y||^2 / (m * noise_var)`` is the noise-normalised fit: about 1
        (or below) when the estimate explains the data down to the noise level; well
        above 1 means the fixed point left signal unexplained (a local minimum,
        typically after pruning dropped needed columns of a coherent dictionary).
    """

    gamma: Any = None
    variance: Any = None
    noise_var: float = 0.0
    support: Any = None
    factors_gamma: list = field(default_factory=list)
    inner_iterations: list = field(default_factory=list)
    residual: float = math.nan


_COST_RISE = 1e-2  # relative EM-objective rise that counts as a breakdown (see _SBL._track_cost)


class _SBL(IterativeSolver):
    """Classic SBL by EM; the estimate is the full-length posterior mean (zeros where pruned)."""

    name = "sbl"
    tol_metric = "rel_change"
    divergence = False

    def __init__(
        self, A: Array, y: Array, noise_var: float | None, prune: float, update: str, **contract: Any
    ):
        super().__init__(**contract)
        self.xp = xp = array_namespace(A, y)
        self.m, self.n = A.shape
        dt = xp.result_type(A.dtype, y.dtype)
        self.A, self.y, self.dt = xp.astype(A, dt), xp.astype(y, dt), dt
        self.rdt = xp.float32 if dt in (xp.float32, xp.complex64) else xp.float64
        self.dev = dev = device(y)
        self.yy = float(to_numpy(xp.sum(_real(xp, xp.conj(self.y) * self.y))))
        self.learn_noise = noise_var is None
        self.s2 = float(noise_var) if noise_var is not None else max(0.1 * self.yy / self.m, 1e-12)
        self.prune, self.update = prune, update
        self.active = np.arange(self.n)
        self.gamma = xp.ones((self.n,), dtype=self.rdt, device=dev)
        self.Aa = self.A
        self.gram = self.Ah_y = None
        self.x = xp.zeros((self.n,), dtype=dt, device=dev)
        self.gamma_full, self.var_full, self.support = self.gamma, self.gamma, self.active
        self.cost = self.dg = None
        self.prev_cost: float | None = None
        self.cost_rise = 0.0

    def _posterior(self) -> tuple[Array, Array, Array]:
        """Posterior mean, variances and SBL cost on the active set (Woodbury while n_active >= m)."""
        xp, Aa, y, s2, m, dt = self.xp, self.Aa, self.y, self.s2, self.m, self.dt
        gamma = self.gamma
        na = gamma.shape[0]
        gdt = xp.astype(gamma, dt)
        if na >= m:
            B = s2 * xp.eye(m, dtype=dt, device=self.dev) + (Aa * gdt[None, :]) @ xp.conj(
                xp.matrix_transpose(Aa)
            )
            sol = xp.linalg.solve(B, xp.concat([y[:, None], Aa], axis=1))
            Biy, BiA = sol[:, 0], sol[:, 1:]
            mu = gdt * (xp.conj(xp.matrix_transpose(Aa)) @ Biy)
            var = gamma - gamma * gamma * _real(xp, xp.sum(xp.conj(Aa) * BiA, axis=0))
            cost = _real(xp, xp.linalg.slogdet(B)[1]) + _real(xp, xp.sum(xp.conj(y) * Biy))
            return mu, var, cost
        if self.gram is None or self.gram.shape[0] != na:
            AhA = xp.conj(xp.matrix_transpose(Aa))
            self.gram, self.Ah_y = AhA @ Aa, AhA @ y
        H = self.gram / s2 + xp.astype(xp.eye(na, dtype=self.rdt, device=self.dev) / gamma[:, None], dt)
        Sig = xp.linalg.inv(H)
        mu = Sig @ self.Ah_y / s2
        var = _real(xp, xp.linalg.diagonal(Sig))
        # log|B| = m log s2 + log|Gamma| + log|H|; y^H B^-1 y = (||y||^2 - y^H A mu) / s2
        cost = (
            m * math.log(s2)
            + xp.sum(xp.log(gamma))
            + _real(xp, xp.linalg.slogdet(H)[1])
            + (self.yy - _real(xp, xp.sum(xp.conj(self.Ah_y) * mu))) / s2
        )
        return mu, var, cost

    def step(self) -> None:
        xp = self.xp
        gamma_old = self.gamma
        mu, var, self.cost = self._posterior()
        self._track_cost()
        mu2 = _real(xp, xp.conj(mu) * mu)
        if self.update == "em":
            self.gamma = mu2 + var
        else:
            self.gamma = mu2 / xp.clip(1.0 - var / gamma_old, min=1e-12)
        if self.learn_noise:
            r = self.y - self.Aa @ mu
            rr = float(to_numpy(xp.sum(_real(xp, xp.conj(r) * r))))
            trace = float(to_numpy(xp.sum(1.0 - var / gamma_old)))
            self.s2 = max((rr + self.s2 * trace) / self.m, 1e-12 * self.yy / self.m)
        # relative change on the full-length gamma (pruned entries count as zero)
        self.dg = xp.linalg.vector_norm(self.gamma - gamma_old) / xp.linalg.vector_norm(self.gamma)
        n, act = self.n, self.active
        self.x = _expand(xp, mu, act, n)
        self.gamma_full, self.var_full, self.support = (
            _expand(xp, self.gamma, act, n),
            _expand(xp, var, act, n),
            act,
        )
        self._prune()

    def _track_cost(self) -> None:
        """Relative rise of the EM cost since the last step (EM never raises it: a rise is a breakdown).

        The cost ``log|B| + y^H B^-1 y`` is non-increasing under EM (Dempster et al.;
        Wipf and Rao 2004); pruning perturbs it by at most ~1e-4 relative (measured on
        the irs-channel problems), so a rise beyond 1e-2 is a numerical breakdown.
        MacKay updates have no such guarantee and are not watched.
        """
        c = float(to_numpy(self.cost))
        if self.update == "em" and self.prev_cost is not None and math.isfinite(c):
            self.cost_rise = (c - self.prev_cost) / (abs(self.prev_cost) + self.m)
        self.prev_cost = c

    def _prune(self) -> None:
        xp = self.xp
        g = to_numpy(self.gamma)
        keep = g >= self.prune * float(g.max()) if np.all(np.isfinite(g)) else np.ones(g.shape, bool)
        if not keep.all():
            idx = xp.asarray(np.flatnonzero(keep), device=self.dev)
            self.active = self.active[keep]
            self.gamma = xp.take(self.gamma, idx)
            self.Aa = xp.take(self.Aa, idx, axis=1)

    def metrics(self) -> dict[str, Any]:
        return {"objective": self.cost, "rel_change": self.dg, "objective_rose": self.cost_rise > _COST_RISE}

    def rules(self) -> list[StoppingRule]:
        return [Flag("objective_rose", "diverged", converges=False)]

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> SBLResult:
        fields = base._base()
        residual = math.nan
        if fields["x"] is not None:
            xp = self.xp
            residual = _relative_residual(xp, self.y - self.A @ xp.astype(fields["x"], self.dt), self.y)
        if base.stop_reason == "diverged":
            fields["message"] = (
                f"the EM objective rose by {self.cost_rise:.2g} (relative) at iteration {base.n_iter}: EM "
                "never raises it, so the posterior solve broke down numerically; the estimate is unreliable"
            )
        return SBLResult(
            **fields,
            gamma=self.gamma_full,
            variance=self.var_full,
            noise_var=self.s2,
            support=self.support,
            residual=residual,
        )


def sbl(
    A: Any, y: Array, *, noise_var: float | None = None, max_iter: int = 1000, tol: float | None = 1e-4,
    prune: float = 1e-6, update: str = "em", check_every: int = 1, callback: Any = None,
    progress: bool = False, stop: StoppingRule | None = None,
) -> SBLResult:
    """Classic SBL by EM (Tipping; Wipf-Rao) for ``y = A x + n``, real or complex.

    Parameters
    ----------
    A : array (m, n) or MatrixOperator
        Finite, no zero column (another operator is refused: SBL needs the matrix).
    y : array (m,)
        Finite, not all zero; integer data are cast to float64.
    noise_var : float, optional
        Known noise variance ``s2 > 0``; ``None`` learns it by EM:
        ``s2 = (||y - A mu||^2 + s2 sum_j (1 - Sigma_jj / gamma_j)) / m``.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract: ``tol`` bounds ``||gamma_k - gamma_{k-1}|| / ||gamma_k||``.
        ``check_every`` defaults to 1: every step already synchronises with the host
        (pruning), so a checkpoint costs nothing more.
    prune : float
        Drop coefficients whose ``gamma_j < prune * max(gamma)`` (and their columns), ``0 <= prune < 1``.
    update : {"em", "mackay"}
        ``"em"``: ``gamma_j = |mu_j|^2 + Sigma_jj``; ``"mackay"``: the fixed point
        ``gamma_j = |mu_j|^2 / (1 - Sigma_jj / gamma_j)`` of the same objective (faster).

    Returns
    -------
    SBLResult
        ``x``: posterior mean (zeros where pruned, always full length); ``gamma``;
        ``variance``; ``noise_var``; ``support``; ``residual`` (``||y - A x|| / ||y||``);
        history of ``objective`` (the SBL cost ``log|B| + y^H B^{-1} y``) and
        ``rel_change``. With ``update="em"`` a rise of the objective (which EM never raises)
        stops the run with ``stop_reason="diverged"`` and ``converged=False``.

    Notes
    -----
    While more coefficients than measurements remain, each iteration solves
    ``B = s2 I + A Gamma A^H`` (``m x m``) against ``y`` and ``A`` (Woodbury):
    ``mu = Gamma A^H B^{-1} y``, ``diag(Sigma) = gamma - gamma^2 diag(A^H B^{-1}
    A)``, ``O(m^2 n)``; once pruning leaves ``n_active < m`` it inverts the
    ``n_active x n_active`` matrix ``A^H A / s2 + Gamma^{-1}`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((60, 128)) / np.sqrt(60)
    >>> x = np.zeros(128); x[[5, 40, 99]] = [1.0, -2.0, 1.5]
    >>> y = A @ x
    >>> from csbox.sbl import sbl
    >>> res = sbl(A, y, noise_var=1e-6, max_iter=500)
    >>> np.flatnonzero(np.abs(res.x) > 0.1)
    array([ 5, 40, 99])
    """
    A = _as_matrix(A, "A")
    _check_columns("A", A)
    y = check_array("y", y, ndim=1)
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"y has length {y.shape[0]}, but A has {A.shape[0]} rows")
    _check_signal(y)
    noise_var = _check_noise(noise_var)
    check_choice("update", update, ("em", "mackay"))
    prune = check_scalar("prune", prune, low=0.0, high=1.0, high_open=True)
    xp = check_same_namespace(A=A, y=y)
    if xp.isdtype(A.dtype, "complex floating") and not xp.isdtype(y.dtype, "complex floating"):
        raise TypeError("A is complex but y is real: pass complex y (or real A)")
    return _SBL(
        A,
        y,
        noise_var,
        prune,
        update,
        max_iter=max_iter,
        tol=tol,
        check_every=check_every,
        callback=callback,
        progress=progress,
        stop=stop,
    ).solve()


# ----------------------------------------------------------------------------- Kronecker SBL
def _modeprod(xp: Any, T: Array, mats: Sequence[Array | None]) -> Array:
    """Multiply tensor ``T`` by ``mats[i]`` along axis ``i`` (``None`` skips)."""
    for i, M in enumerate(mats):
        if M is None:
            continue
        T = xp.moveaxis(xp.tensordot(M, T, axes=([1], [i])), 0, i)
    return T


def _outer(xp: Any, vecs: Sequence[Array]) -> Array:
    """``v_1 ∘ v_2 ∘ ...`` as a tensor (the Kronecker product reshaped)."""
    out = vecs[0]
    for v in vecs[1:]:
        out = out[..., None] * v
    return out


def _coupling_matrix(xp: Any, n: int, beta: float, dt: Any, dev: Any) -> Array:
    C = np.eye(n) + beta * (np.eye(n, k=1) + np.eye(n, k=-1))
    return xp.asarray(C, dtype=dt, device=dev)


def _nnls(xp: Any, C: Array, s: Array, x0: Array, iters: int = 60) -> Array:
    """``argmin_{x >= 0} ||C x - s||^2`` by accelerated projected gradient (small systems)."""
    CtC = xp.matrix_transpose(C) @ C
    Cts = xp.matrix_transpose(C) @ s
    L = float(to_numpy(xp.max(xp.sum(xp.abs(CtC), axis=1))))  # >= ||C^T C||_2
    x = z = xp.clip(x0, min=0.0)
    t = 1.0
    for _ in range(iters):
        x_new = xp.clip(z - (CtC @ z - Cts) / L, min=0.0)
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
    return x


class _KronSBL(IterativeSolver):
    """Kronecker SBL by EM; pruning is deferred to the start of the next iteration (never after the last)."""

    tol_metric = "rel_change"
    divergence = False

    def __init__(
        self,
        mats: list,
        y: Array,
        *,
        method: str,
        noise_var: float | None,
        prunes: list,
        betas: list,
        inner_tol: float,
        inner_max_iter: int,
        **contract: Any,
    ):
        super().__init__(**contract)
        self.name = f"kron_sbl[{method}]"
        self.xp = xp = array_namespace(*mats, y)
        self.method, self.prunes, self.inner_tol, self.inner_max_iter = (
            method,
            prunes,
            inner_tol,
            inner_max_iter,
        )
        dt = xp.result_type(*[F.dtype for F in mats], y.dtype)
        rdt = xp.float32 if dt in (xp.float32, xp.complex64) else xp.float64
        self.dt, self.dev = dt, device(y)
        self.mats = [xp.astype(F, dt) for F in mats]
        self.Ms = [int(F.shape[0]) for F in mats]
        self.Ns = [int(F.shape[1]) for F in mats]
        y = xp.astype(y, dt)
        self.Y = xp.reshape(y, tuple(self.Ms))
        self.M = math.prod(self.Ms)
        self.yy = float(to_numpy(xp.sum(_real(xp, xp.conj(y) * y))))
        self.learn_noise = noise_var is None
        self.s2 = float(noise_var) if noise_var is not None else max(0.1 * self.yy / self.M, 1e-12)
        self.actives = [np.arange(n) for n in self.Ns]
        self.base = [xp.ones((n,), dtype=rdt, device=self.dev) for n in self.Ns]  # gamma_i before coupling
        self.Cs = [
            None if b is None else _coupling_matrix(xp, n, b, rdt, self.dev)
            for b, n in zip(betas, self.Ns, strict=True)
        ]
        self.gam = [self._effective(i, g) for i, g in enumerate(self.base)]
        self.gamma_full_old = _full_gamma(xp, self.gam, self.actives, self.Ns)
        self.x = xp.zeros((math.prod(self.Ns),), dtype=dt, device=self.dev)
        self.n_inner: list[int] = []
        self.cost = self.dg = None
        self._pending_prune = False

    def _effective(self, i: int, g: Array) -> Array:
        C = self.Cs[i]
        return g if C is None else 1e-5 + C @ g

    def step(self) -> None:
        xp = self.xp
        if self._pending_prune:
            self._prune()
        mu, var, self.cost, rr, trace_term = _kron_estep(xp, self.mats, self.gam, self.Y, self.s2, self.dt)
        self.x = _expand(xp, mu, _flat_active(self.actives, self.Ns), math.prod(self.Ns))
        lam = xp.reshape(var + _real(xp, xp.conj(mu) * mu), tuple(g.shape[0] for g in self.gam))
        if self.method == "svd":
            self.gam = _svd_mstep(xp, lam)
        else:
            self.gam, self.base, its = _am_mstep(
                xp, lam, self.gam, self.base, self.Cs, self._effective, self.inner_tol, self.inner_max_iter
            )
            self.n_inner.append(its)
        if self.learn_noise:
            self.s2 = max((rr + self.s2 * trace_term) / self.M, 1e-12 * self.yy / self.M)
        gamma_full = _full_gamma(xp, self.gam, self.actives, self.Ns)
        self.dg = xp.linalg.vector_norm(gamma_full - self.gamma_full_old) / xp.linalg.vector_norm(
            self.gamma_full_old
        )
        self.gamma_full_old = gamma_full
        self._pending_prune = True

    def _prune(self) -> None:
        """Factor-wise pruning: drop index j of factor i when gamma_i[j] < r_i max(gamma_i)."""
        xp = self.xp
        for i in range(len(self.gam)):
            gi = to_numpy(self.gam[i])
            keep = gi >= self.prunes[i] * gi.max()
            if keep.all() or keep.sum() == 0:
                continue
            idx = xp.asarray(np.flatnonzero(keep), device=self.dev)
            self.actives[i] = self.actives[i][keep]
            self.mats[i] = xp.take(self.mats[i], idx, axis=1)
            self.gam[i] = xp.take(self.gam[i], idx)
            self.base[i] = xp.take(self.base[i], idx)
            if self.Cs[i] is not None:
                self.Cs[i] = xp.take(xp.take(self.Cs[i], idx, axis=0), idx, axis=1)

    def metrics(self) -> dict[str, Any]:
        return {"objective": self.cost, "rel_change": self.dg}

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> SBLResult:
        xp, Ns = self.xp, self.Ns
        if base.stop_reason == "nan":
            return SBLResult(**base._base(), noise_var=self.s2, inner_iterations=self.n_inner)
        # final posterior at the last gamma
        mu, var, _, _, _ = _kron_estep(xp, self.mats, self.gam, self.Y, self.s2, self.dt)
        flat = _flat_active(self.actives, Ns)
        N = math.prod(Ns)
        fields = base._base()
        fields["x"] = _expand(xp, mu, flat, N)
        fit = _modeprod(xp, xp.reshape(mu, tuple(g.shape[0] for g in self.gam)), self.mats)
        return SBLResult(
            **fields,
            gamma=_full_gamma(xp, self.gam, self.actives, Ns),
            variance=_expand(xp, var, flat, N),
            noise_var=self.s2,
            support=flat,
            residual=_relative_residual(xp, self.Y - fit, self.Y),
            inner_iterations=self.n_inner,
            factors_gamma=[_expand(xp, g, a, n) for g, a, n in zip(self.gam, self.actives, Ns, strict=True)],
        )


def _factor_matrices(factors: Any, y: Array) -> list:
    """The factor matrices of a Kronecker operator or a sequence of 2-D arrays / MatrixOperators."""
    from ..operators import Kronecker

    if isinstance(factors, Kronecker):
        factors = factors.factors
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence):
        raise TypeError(
            f"factors must be a Kronecker operator or a sequence of matrices, got {type(factors).__name__}"
        )
    if len(factors) < 2:
        raise ValueError(f"factors: a Kronecker model needs at least two factors, got {len(factors)}")
    mats = [_as_matrix(F, f"factors[{i}]") for i, F in enumerate(factors)]
    for i, F in enumerate(mats):
        _check_columns(f"factors[{i}]", F, " (its Kronecker atoms would be zero)")
    Ms = [int(F.shape[0]) for F in mats]
    if y.ndim != 1 or y.shape[0] != math.prod(Ms):
        raise ValueError(
            f"factor shapes {[tuple(F.shape) for F in mats]} multiply out to {math.prod(Ms)} "
            f"rows, but y has shape {tuple(y.shape)}"
        )
    xp = check_same_namespace(y=y, **{f"factors[{i}]": F for i, F in enumerate(mats)})
    if any(xp.isdtype(F.dtype, "complex floating") for F in mats) and not xp.isdtype(
        y.dtype, "complex floating"
    ):
        raise TypeError("factors are complex but y is real: pass complex y")
    return mats


def _per_factor(name: str, value: Any, I: int, check: Any) -> list:
    """One checked value per factor, from a scalar (NumPy scalars too), ``None`` or a sequence."""
    if value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        return [None if value is None else check(name, value)] * I
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        got = type(value).__name__
        raise TypeError(f"{name} must be a number or a sequence of one per factor, got {got}")
    out = [None if v is None else check(f"{name}[{i}]", v) for i, v in enumerate(value)]
    if len(out) != I:
        raise ValueError(f"{name} needs one entry per factor ({I}), got {len(out)}")
    return out


def _kron_hyper(method: str, prune: Any, coupling: Any, I: int) -> tuple[list, list]:
    """Per-factor pruning ratios (defaults 1e-2 for AM, 1e-3 for SVD) and coupling weights, validated."""
    prunes = _per_factor(
        "prune",
        (1e-2 if method == "am" else 1e-3) if prune is None else prune,
        I,
        lambda n, v: check_scalar(n, v, low=0.0, high=1.0, high_open=True),
    )
    # Fang et al.'s pattern coupling weight beta in [0, 1]: 0 is no coupling; a negative beta would
    # make the effective variances C gamma negative
    betas = _per_factor("coupling", coupling, I, lambda n, v: check_scalar(n, v, low=0.0, high=1.0))
    if any(b is not None for b in betas) and method != "am":
        raise ValueError("coupling (PC-KroSBL) is defined for method='am'")
    return prunes, betas


def kron_sbl(
    factors: Any,
    y: Array,
    *,
    method: str = "svd",
    noise_var: float | None = None,
    coupling: float | Sequence[float | None] | None = None,
    prune: float | Sequence[float] | None = None,
    max_iter: int = 150,
    tol: float | None = 1e-4,
    inner_tol: float = 1e-4,
    inner_max_iter: int = 10,
    check_every: int = 1,
    callback: Any = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> SBLResult:
    """Kronecker-structured SBL: ``y = (A_1 ⊗ ⋯ ⊗ A_I) x + n``, ``gamma = gamma_1 ⊗ ⋯ ⊗ gamma_I``.

    Parameters
    ----------
    factors : Kronecker operator, or sequence of 2-D arrays or MatrixOperators (M_i, N_i), at least two
        Finite, no zero column. ``y`` has length ``prod(M_i)`` in C order (first factor
        slowest, as ``numpy.kron``).
    y : array (prod M_i,)
        Finite, not all zero.
    method : {"svd", "am"}
        M-step by rank-one approximation of ``lambda`` (SVD-KroSBL) or by cyclic
        closed-form factor updates ``gamma_i = contract(lambda / (⊗_{k≠i} gamma_k)) /
        prod_{k≠i} N_k`` to ``inner_tol`` (AM-KroSBL), each sweep followed by the
        scaling normalisation (``gamma_i /= ||gamma_i||`` for ``i < I``, the last
        factor absorbing the norms).
    noise_var : float, optional
        Known ``s2 > 0``; ``None`` learns it by EM.
    coupling : float or sequence, optional
        Pattern coupling (PC-KroSBL, AM only): factor ``i``'s effective variances
        are ``C_i gamma_i`` with ``C_i = I + beta_i (shift up + shift down)``,
        coupling neighbouring indices (block sparsity); its M-step solves
        ``C_i gamma_i ≈ s_i`` over ``gamma_i >= 0`` (non-negative least squares).
        A float couples every factor; a sequence gives ``beta_i`` or ``None`` per factor;
        each ``beta_i`` in ``[0, 1]`` (Fang et al.; 0 is no coupling).
    prune : float or sequence, optional
        Factor-wise pruning: drop index ``j`` of factor ``i`` when ``gamma_i[j] <
        r_i max(gamma_i)``, ``0 <= r_i < 1`` (default ``1e-2`` for AM, ``1e-3`` for SVD).
    max_iter, tol, check_every, callback, progress, stop
        The solver contract: ``tol`` bounds ``||gamma_k - gamma_{k-1}|| / ||gamma_{k-1}||``
        (full length, pruned entries zero); paper: 1e-4 and 150 iterations. ``check_every``
        defaults to 1: every step already synchronises with the host (noise update, pruning).
    inner_tol, inner_max_iter
        AM's M-step: sweeps stop when the Kronecker ``gamma`` changes by less than
        ``inner_tol >= 0`` (relative) or after ``inner_max_iter >= 1`` sweeps.

    Returns
    -------
    SBLResult
        ``x`` (posterior mean, length ``prod N_i``), ``gamma`` (full Kronecker
        hyperparameter), ``factors_gamma``, ``variance``, ``noise_var``,
        ``support`` (flat indices kept), ``residual`` (``||y - A x|| / ||y||``),
        ``inner_iterations``, ``objective`` history (the SBL cost ``log|B| + y^H B^{-1} y``).
    """
    check_choice("method", method, ("svd", "am"))
    y = check_array("y", y, ndim=1)
    mats = _factor_matrices(factors, y)
    _check_signal(y)
    noise_var = _check_noise(noise_var)
    prunes, betas = _kron_hyper(method, prune, coupling, len(mats))
    inner = {"inner_tol": check_scalar("inner_tol", inner_tol, low=0.0),
             "inner_max_iter": check_int("inner_max_iter", inner_max_iter, low=1)}
    contract = {"max_iter": max_iter, "tol": tol, "check_every": check_every, "callback": callback,
                "progress": progress, "stop": stop}
    return _KronSBL(mats, y, method=method, noise_var=noise_var, prunes=prunes, betas=betas,
                    **inner, **contract).solve()


def _flat_active(actives: list[np.ndarray], Ns: list[int]) -> np.ndarray:
    idx = np.zeros(1, dtype=np.int64)
    for a, n in zip(actives, Ns, strict=True):
        idx = (idx[:, None] * n + a[None, :]).ravel()
    return idx


def _full_gamma(xp: Any, gam: list[Array], actives: list[np.ndarray], Ns: list[int]) -> Array:
    full = [_expand(xp, g, a, n) for g, a, n in zip(gam, actives, Ns, strict=True)]
    return xp.reshape(_outer(xp, full), (-1,))


def _kron_estep(xp: Any, mats: list[Array], gam: list[Array], Y: Array, s2: float, dt: Any) -> tuple:
    """Posterior mean and ``diag(Sigma)`` from per-factor eigendecompositions (nothing Kronecker formed).

    Returns ``(mu, diag_sigma, cost, ||y - A mu||^2, sum_j (1 - Sigma_jj / gamma_j))`` with
    ``cost = log|B| + y^H B^{-1} y``.
    """
    Us, ps, Vs = [], [], []
    for F, g in zip(mats, gam, strict=True):
        G = (F * xp.astype(g, dt)[None, :]) @ xp.conj(xp.matrix_transpose(F))
        p, U = xp.linalg.eigh(G)
        p = xp.clip(p, min=0.0)
        Us.append(U)
        ps.append(p)
        Vs.append(xp.conj(xp.matrix_transpose(U)) @ F)  # U_i^H A_i
    P = _outer(xp, ps)
    d = 1.0 / (s2 + P)
    Z = _modeprod(xp, Y, [xp.conj(xp.matrix_transpose(U)) for U in Us])  # U^H y
    Zd = Z * xp.astype(d, dt)
    W = _modeprod(xp, Zd, [xp.conj(xp.matrix_transpose(V)) for V in Vs])  # A^H B^{-1} y
    G = _outer(xp, gam)
    mu_t = xp.astype(G, dt) * W
    Q = [xp.matrix_transpose(_real(xp, xp.conj(V) * V)) for V in Vs]  # |V_i|^2 transposed
    t = _modeprod(xp, d, Q)  # diag(A^H B^{-1} A)
    var_t = G - G * G * t
    R = Y - _modeprod(xp, mu_t, mats)
    rr = float(to_numpy(xp.sum(_real(xp, xp.conj(R) * R))))
    cost = xp.sum(xp.log(s2 + P)) + xp.sum(_real(xp, xp.conj(Z) * Z) * d)
    trace_term = float(to_numpy(xp.sum(1.0 - var_t / G)))
    return xp.reshape(mu_t, (-1,)), xp.reshape(var_t, (-1,)), cost, rr, trace_term


def _svd_mstep(xp: Any, lam: Array) -> list[Array]:
    """Rank-one Kronecker approximation of ``lambda`` by successive leading singular pairs."""
    shape = tuple(lam.shape)
    out = []
    rest = xp.reshape(lam, (shape[0], -1))
    for i in range(len(shape) - 1):
        U, S, Vh = xp.linalg.svd(rest, full_matrices=False)
        out.append(xp.abs(U[:, 0]))
        v = xp.abs(S[0] * Vh[0, :])
        if i + 1 < len(shape) - 1:
            rest = xp.reshape(v, (shape[i + 1], -1))
        else:
            out.append(v)
    return [xp.clip(g, min=1e-300) for g in out]


def _am_mstep(
    xp: Any,
    lam: Array,
    gam: list[Array],
    base: list[Array],
    Cs: list[Array | None],
    effective: Any,
    inner_tol: float,
    inner_max_iter: int,
) -> tuple[list[Array], list[Array], int]:
    """Cyclic closed-form factor updates of ``sum lambda / gamma + log gamma``, with normalisation."""
    I = len(gam)
    gam = list(gam)
    base = list(base)
    its = 0
    for its in range(1, inner_max_iter + 1):  # noqa: B007
        old = _outer(xp, gam)
        for i in range(I):
            inv = [None if k == i else xp.reshape(1.0 / gam[k], (1, -1)) for k in range(I)]
            # contract lambda / (⊗_{k≠i} gamma_k) over every axis but i
            T = lam
            for kk in range(I):
                if kk != i:
                    T = xp.moveaxis(xp.tensordot(inv[kk], T, axes=([1], [kk])), 0, kk)
            s = xp.reshape(T, (-1,)) / math.prod(g.shape[0] for kk, g in enumerate(gam) if kk != i)
            if Cs[i] is None:
                base[i] = s
            else:
                base[i] = _nnls(xp, Cs[i], s, base[i])
            gam[i] = effective(i, base[i]) if Cs[i] is not None else xp.clip(base[i], min=1e-300)
        # scaling normalisation: unit-norm factors but the last, which absorbs the norms
        scale = 1.0
        for i in range(I - 1):
            nrm = float(to_numpy(xp.linalg.vector_norm(gam[i])))
            gam[i] = gam[i] / nrm
            scale *= nrm
            if Cs[i] is not None:
                base[i] = base[i] / nrm
        gam[-1] = gam[-1] * scale
        if Cs[-1] is not None:
            base[-1] = base[-1] * scale
        new = _outer(xp, gam)
        change = float(to_numpy(xp.linalg.vector_norm(new - old) / xp.linalg.vector_norm(old)))
        if change < inner_tol:
            break
    return gam, base, its
