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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_same_namespace, check_scalar
from ..backend import Array, array_namespace, device, to_numpy
from ..linop import LinearOperator
from ._core import IterativeSolver, Monitor, Result, StoppingRule

__all__ = ["SBLResult", "kron_omp", "kron_sbl", "sbl"]


# ----------------------------------------------------------------------------- helpers
def _as_matrix(A: Any, name: str) -> Array:
    """A finite, non-empty 2-D matrix (from an array or a MatrixOperator; integers cast to float)."""
    from ..operators import MatrixOperator

    if isinstance(A, MatrixOperator):
        return A.matrix
    if isinstance(A, LinearOperator):
        raise TypeError(f"{name} must be a 2-D array or a MatrixOperator, got {A!r}")
    return check_array(name, A, ndim=2)


def _check_y(xp: Any, y: Array, m: int, what: str) -> None:
    if not hasattr(y, "shape") or y.ndim != 1:
        raise ValueError(f"y must be a 1-D array, got shape {getattr(y, 'shape', None)}")
    if y.shape[0] != m:
        raise ValueError(f"y has length {y.shape[0]}, but {what} has {m} rows")
    if not bool(to_numpy(xp.all(xp.isfinite(y)))):
        raise ValueError("y contains NaN or Inf")


def _check_noise(noise_var: float | None) -> None:
    if noise_var is None:
        return
    if isinstance(noise_var, bool) or not isinstance(noise_var, (int, float)):
        raise TypeError(f"noise_var must be a float or None, got {type(noise_var).__name__}")
    if not math.isfinite(noise_var) or noise_var <= 0:
        raise ValueError(f"noise_var must be a finite number > 0 (or None to learn it), got {noise_var!r}")


def _expand(xp: Any, v: Array, active: np.ndarray, n: int) -> Array:
    """Scatter ``v`` (values on ``active``) into a length-``n`` zero vector, by a gather."""
    inv = np.full(n, active.size, dtype=np.int64)
    inv[active] = np.arange(active.size)
    pad = xp.concat([v, xp.zeros((1,), dtype=v.dtype, device=device(v))])
    return xp.take(pad, xp.asarray(inv, device=device(v)))


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
    """

    gamma: Any = None
    variance: Any = None
    noise_var: float = 0.0
    support: Any = None
    factors_gamma: list = field(default_factory=list)
    inner_iterations: list = field(default_factory=list)


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
        return {"cost": self.cost, "rel_change": self.dg}

    def estimate(self) -> Array:
        return self.x

    def result(self, base: Result) -> SBLResult:
        return SBLResult(
            **base._base(),
            gamma=self.gamma_full,
            variance=self.var_full,
            noise_var=self.s2,
            support=self.support,
        )


def sbl(
    A: Any,
    y: Array,
    *,
    noise_var: float | None = None,
    max_iter: int = 1000,
    tol: float | None = 1e-4,
    prune: float = 1e-6,
    update: str = "em",
    check_every: int = 1,
    callback: Any = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
) -> SBLResult:
    """Classic SBL by EM (Tipping; Wipf-Rao) for ``y = A x + n``, real or complex.

    Parameters
    ----------
    A : array (m, n) or MatrixOperator
    y : array (m,)
        Integer data are cast to float64.
    noise_var : float, optional
        Known noise variance ``s2``; ``None`` learns it by EM:
        ``s2 = (||y - A mu||^2 + s2 sum_j (1 - Sigma_jj / gamma_j)) / m``.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract: ``tol`` bounds ``||gamma_k - gamma_{k-1}|| / ||gamma_k||``.
    prune : float
        Drop coefficients whose ``gamma_j < prune * max(gamma)`` (and their columns).
    update : {"em", "mackay"}
        ``"em"``: ``gamma_j = |mu_j|^2 + Sigma_jj``; ``"mackay"``: the fixed point
        ``gamma_j = |mu_j|^2 / (1 - Sigma_jj / gamma_j)`` of the same cost (faster).

    Returns
    -------
    SBLResult
        ``x``: posterior mean (zeros where pruned, always full length); ``gamma``;
        ``variance``; ``noise_var``; ``support``; history of ``cost`` and ``rel_change``.

    Notes
    -----
    While more coefficients than measurements remain, each iteration solves
    ``B = s2 I + A Gamma A^H`` (``m x m``) against ``y`` and ``A`` (Woodbury):
    ``mu = Gamma A^H B^{-1} y``, ``diag(Sigma) = gamma - gamma^2 diag(A^H B^{-1}
    A)``, ``O(m^2 n)``; once pruning leaves ``n_active < m`` it inverts the
    ``n_active x n_active`` matrix ``A^H A / s2 + Gamma^{-1}`` instead.
    """
    A = _as_matrix(A, "A")
    y = check_array("y", y, ndim=1)
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"y has length {y.shape[0]}, but A has {A.shape[0]} rows")
    _check_noise(noise_var)
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


def kron_sbl(
    factors: Sequence[Array],
    y: Array,
    *,
    method: str = "svd",
    noise_var: float | None = None,
    coupling: float | Sequence[float | None] | None = None,
    prune: float | Sequence[float] | None = None,
    max_iter: int = 150,
    tol: float = 1e-4,
    inner_tol: float = 1e-4,
    inner_max_iter: int = 10,
    callback: Any = None,
    progress: bool = False,
) -> Result:
    """Kronecker-structured SBL: ``y = (A_1 ⊗ ... ⊗ A_I) x + n``, ``gamma = gamma_1 ⊗ ... ⊗ gamma_I``.

    Parameters
    ----------
    factors : sequence of 2-D arrays (M_i, N_i), at least two
        ``y`` has length ``prod(M_i)`` in C order (first factor slowest, as ``numpy.kron``).
    y : array (prod M_i,)
    method : {"svd", "am"}
        M-step by rank-one approximation of ``lambda`` (SVD-KroSBL) or by cyclic
        closed-form factor updates ``gamma_i = contract(lambda / (⊗_{k≠i} gamma_k)) /
        prod_{k≠i} N_k`` to ``inner_tol`` (AM-KroSBL), each sweep followed by the
        scaling normalisation (``gamma_i /= ||gamma_i||`` for ``i < I``, the last
        factor absorbing the norms).
    noise_var : float, optional
        Known ``s2``; ``None`` learns it by EM.
    coupling : float or sequence, optional
        Pattern coupling (PC-KroSBL, AM only): factor ``i``'s effective variances
        are ``C_i gamma_i`` with ``C_i = I + beta_i (shift up + shift down)``,
        coupling neighbouring indices (block sparsity); its M-step solves
        ``C_i gamma_i ≈ s_i`` over ``gamma_i >= 0`` (non-negative least squares).
        A float couples every factor; a sequence gives ``beta_i`` or ``None`` per factor.
    prune : float or sequence, optional
        Factor-wise pruning: drop index ``j`` of factor ``i`` when ``gamma_i[j] <
        r_i max(gamma_i)`` (default ``1e-2`` for AM, ``1e-3`` for SVD).
    max_iter, tol : int, float
        Stop at ``||gamma_k - gamma_{k-1}|| / ||gamma_{k-1}|| < tol`` (full length,
        pruned entries zero) or after ``max_iter`` EM iterations (paper: 1e-4, 150).

    Returns
    -------
    Result
        ``x`` (posterior mean, length ``prod N_i``), ``gamma`` (full Kronecker
        hyperparameter), ``factors_gamma`` (per factor, zeros where pruned),
        ``variance`` (posterior ``diag(Sigma)``), ``noise_var``, ``support`` (flat
        indices kept), ``cost`` history (the SBL cost ``log|B| + y^H B^{-1} y``).
    """
    if method not in ("svd", "am"):
        raise ValueError(f"method must be 'svd' or 'am', got {method!r}")
    if len(factors) < 2:
        raise ValueError(f"kron_sbl needs at least two factors, got {len(factors)}")
    mats = [_as_matrix(F, f"factors[{i}]") for i, F in enumerate(factors)]
    xp = array_namespace(*mats, y)
    I = len(mats)
    Ms = [int(F.shape[0]) for F in mats]
    Ns = [int(F.shape[1]) for F in mats]
    if not hasattr(y, "shape") or y.ndim != 1 or y.shape[0] != math.prod(Ms):
        raise ValueError(
            f"factor shapes {[tuple(F.shape) for F in mats]} multiply out to {math.prod(Ms)} rows, "
            f"but y has shape {tuple(getattr(y, 'shape', ()))}"
        )
    _check_y(xp, y, math.prod(Ms), "the Kronecker product")
    _check_noise(noise_var)
    if any(xp.isdtype(F.dtype, "complex floating") for F in mats) and not xp.isdtype(
        y.dtype, "complex floating"
    ):
        raise TypeError("factors are complex but y is real: pass complex y")
    if prune is None:
        prune = 1e-2 if method == "am" else 1e-3
    prunes = [float(prune)] * I if isinstance(prune, (int, float)) else [float(p) for p in prune]
    if isinstance(coupling, (int, float)) and not isinstance(coupling, bool):
        betas: list[float | None] = [float(coupling)] * I
    elif coupling is None:
        betas = [None] * I
    else:
        betas = [None if b is None else float(b) for b in coupling]
    if len(prunes) != I or len(betas) != I:
        raise ValueError(f"prune and coupling need one entry per factor ({I})")
    if any(b is not None for b in betas) and method != "am":
        raise ValueError("coupling (PC-KroSBL) is defined for method='am'")
    dt = xp.result_type(*[F.dtype for F in mats], y.dtype)
    rdt = xp.float32 if dt in (xp.float32, xp.complex64) else xp.float64
    dev = device(y)
    mats = [xp.astype(F, dt) for F in mats]
    y = xp.astype(y, dt)
    Y = xp.reshape(y, tuple(Ms))
    M = math.prod(Ms)
    yy = float(to_numpy(xp.sum(_real(xp, xp.conj(y) * y))))
    s2 = float(noise_var) if noise_var is not None else max(0.1 * yy / M, 1e-12)

    actives = [np.arange(n) for n in Ns]
    base = [xp.ones((n,), dtype=rdt, device=dev) for n in Ns]  # gamma_i (before coupling)
    Cs = [None if b is None else _coupling_matrix(xp, n, b, rdt, dev) for b, n in zip(betas, Ns, strict=True)]

    def effective(i: int, g: Array) -> Array:
        C = Cs[i]
        return g if C is None else 1e-5 + C @ g

    gam = [effective(i, g) for i, g in enumerate(base)]
    mon = Monitor(
        max_iter=max_iter,
        tol=None,
        check_every=1,
        callback=callback,
        progress=progress,
        desc=f"kron_sbl[{method}]",
        divergence=False,
    )
    gamma_full_old = _full_gamma(xp, gam, actives, Ns)
    mu = var = None
    k = 0
    n_inner: list[int] = []
    while k < max_iter:
        k += 1
        mu, var, cost, rr, trace_term = _kron_estep(xp, mats, gam, Y, s2, dt)
        lam = xp.reshape(var + _real(xp, xp.conj(mu) * mu), tuple(g.shape[0] for g in gam))
        if method == "svd":
            gam = _svd_mstep(xp, lam)
        else:
            gam, base, its = _am_mstep(xp, lam, gam, base, Cs, effective, inner_tol, inner_max_iter)
            n_inner.append(its)
        if noise_var is None:
            s2 = max((rr + s2 * trace_term) / M, 1e-12 * yy / M)
        gamma_full = _full_gamma(xp, gam, actives, Ns)
        dg = xp.linalg.vector_norm(gamma_full - gamma_full_old) / xp.linalg.vector_norm(gamma_full_old)
        gamma_full_old = gamma_full
        stop = mon.check(k, None, cost=cost, rel_change=dg)
        if float(to_numpy(dg)) < tol:
            mon.reason = "tol"
            break
        if stop:
            break
        # factor-wise pruning
        for i in range(I):
            gi = to_numpy(gam[i])
            keep = gi >= prunes[i] * gi.max()
            if keep.all() or keep.sum() == 0:
                continue
            idx = xp.asarray(np.flatnonzero(keep), device=dev)
            actives[i] = actives[i][keep]
            mats[i] = xp.take(mats[i], idx, axis=1)
            gam[i] = xp.take(gam[i], idx)
            base[i] = xp.take(base[i], idx)
            if Cs[i] is not None:
                Cs[i] = xp.take(xp.take(Cs[i], idx, axis=0), idx, axis=1)
    # final posterior at the last gamma
    mu, var, cost, _, _ = _kron_estep(xp, mats, gam, Y, s2, dt)
    flat_active = _flat_active(actives, Ns)
    N = math.prod(Ns)
    res = mon.result(
        _expand(xp, mu, flat_active, N),
        gamma=_full_gamma(xp, gam, actives, Ns),
        factors_gamma=[_expand(xp, g, a, n) for g, a, n in zip(gam, actives, Ns, strict=True)],
        variance=_expand(xp, var, flat_active, N),
        noise_var=s2,
        support=flat_active,
        inner_iterations=n_inner,
        method=method,
    )
    res.converged = mon.reason == "tol"
    return res


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


# ----------------------------------------------------------------------------- Kronecker OMP
def kron_omp(
    factors: Sequence[Array],
    y: Array,
    n_nonzero: int,
    *,
    tol: float | None = None,
) -> Result:
    """Orthogonal matching pursuit with a Kronecker dictionary ``A_1 ⊗ ... ⊗ A_I``.

    Each step picks the atom of largest normalised correlation ``|a_j^H r| / ||a_j||`` (mode products,
    never forming ``A``), adds its column (a Kronecker product of factor
    columns) and re-solves least squares on the support; stops after
    ``n_nonzero`` atoms or when ``||r|| <= tol``.

    References
    ----------
    C. Caiafa, A. Cichocki, "Computing sparse representations of
    multidimensional signals using Kronecker bases", Neural Comput. 2013.
    """
    mats = [_as_matrix(F, f"factors[{i}]") for i, F in enumerate(factors)]
    xp = array_namespace(*mats, y)
    Ms = [int(F.shape[0]) for F in mats]
    Ns = [int(F.shape[1]) for F in mats]
    _check_y(xp, y, math.prod(Ms), "the Kronecker product")
    if not isinstance(n_nonzero, int) or not 1 <= n_nonzero <= min(math.prod(Ms), math.prod(Ns)):
        cap = min(math.prod(Ms), math.prod(Ns))
        raise ValueError(f"n_nonzero must be an int in [1, {cap}], got {n_nonzero!r}")
    dt = xp.result_type(*[F.dtype for F in mats], y.dtype)
    mats = [xp.astype(F, dt) for F in mats]
    y = xp.astype(y, dt)
    N = math.prod(Ns)
    mats_h = [xp.conj(xp.matrix_transpose(F)) for F in mats]
    # atoms are Kronecker products of factor columns: their norms are products of the factors' norms
    norms = xp.reshape(_outer(xp, [xp.linalg.vector_norm(F, axis=0) for F in mats]), (-1,))
    r = y
    support: list[int] = []
    cols: list[Array] = []
    coef = None
    for _ in range(n_nonzero):
        corr = xp.abs(xp.reshape(_modeprod(xp, xp.reshape(r, tuple(Ms)), mats_h), (-1,))) / norms
        j = int(to_numpy(xp.argmax(corr)))
        if j in support:
            break
        support.append(j)
        sub = np.unravel_index(j, Ns)
        col = mats[0][:, int(sub[0])]
        for F, s in zip(mats[1:], sub[1:], strict=True):
            col = xp.reshape(col[:, None] * F[:, int(s)][None, :], (-1,))
        cols.append(col)
        As = xp.stack(cols, axis=1)
        AhA = xp.conj(xp.matrix_transpose(As)) @ As
        coef = xp.linalg.solve(AhA, xp.conj(xp.matrix_transpose(As)) @ y)
        r = y - As @ coef
        if tol is not None and float(to_numpy(xp.linalg.vector_norm(r))) <= tol:
            break
    sup = np.asarray(support, dtype=np.int64)
    order = np.argsort(sup)
    x = _expand(xp, xp.take(coef, xp.asarray(order, device=device(y))), sup[order], N)
    return Result(
        x=x,
        n_iter=len(support),
        converged=True,
        stop_reason="n_nonzero",
        history={},
        extra={"support": sup[order], "residual_norm": float(to_numpy(xp.linalg.vector_norm(r)))},
    )
