r"""Orthogonal dictionary learning: batch l4-maximisation (MSP), sparse coding, the shared Frank-Wolfe pieces.

Model: ``y = D0 x`` with ``D0`` orthogonal (``n x n``) and ``x`` sparse. For an
orthogonal ``D``, ``D^T y`` is sparsest when its ``l_p`` norm (``p > 2``) is
largest, so the dictionary maximises

.. math:: f(D) = \frac{1}{t}\sum_{\tau \le t} \|D^T y_\tau\|_p^p
          \quad\text{over}\quad \{D : \|D\|_2 \le 1\},

the convex hull of the orthogonal group (the spectral-norm ball). ``f`` is
convex, so its maxima sit at extreme points, i.e. orthogonal matrices.

Online Frank-Wolfe (:class:`OnlineOrthogonalDictionary`): for each mini-batch
``Y_t`` (``n x b``)

* gradient ``grad_t = (p / b) Y_t (sign(D^T Y_t) |D^T Y_t|^{p-1})^T``;
* tracked gradient ``G_t = (1 - rho_t) G_{t-1} + rho_t grad_t`` (no data stored);
* linear step ``S_t = argmax_{||S||_2 <= 1} <G_t, S> = U V^T`` (SVD ``G_t = U s V^T``);
* ``D_t = (1 - gamma_t) D_{t-1} + gamma_t S_t``; Frank-Wolfe gap ``<G_t, S_t - D_{t-1}>``.

State is ``D`` and ``G`` (``O(n^2)`` memory) whatever the number of samples.

Batch baseline (:func:`orthogonal_dictionary_learning`): the matching,
stretching and projection iteration ``D <- polar(Y (D^T Y)^{∘3 T})`` of Zhai et
al. (l4 maximisation over the orthogonal group).

References
----------
Y. Xue, V. Lau, "Online orthogonal dictionary learning based on Frank-Wolfe
method", arXiv 2103.01484 (IEEE TNNLS 2023). Y. Zhai, Z. Yang, Z. Liao, J.
Wright, Y. Ma, "Complete dictionary learning via l4-norm maximization over the
orthogonal group", JMLR 2020. A. Mokhtari, H. Hassani, A. Karbasi, "Stochastic
conditional gradient methods", AISTATS 2018 (gradient tracking).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_int, check_same_namespace, check_scalar
from ..backend import Array, array_namespace, device, to_numpy
from ..iterative import IterativeSolver, IterState, Result, StoppingRule

__all__ = [
    "DictionaryResult",
    "dictionary_recovery",
    "orthogonal_dictionary_learning",
    "polar",
    "sparse_code",
]


def polar(G: Array) -> Array:
    """Orthogonal polar factor ``U V^T`` of ``G = U s V^T``.

    It is the maximiser of ``<G, S>`` over the spectral-norm ball ``||S||_2 <= 1``;
    for ``G`` of shape ``(n, k)``, ``k <= n``, it has orthonormal columns.

    Parameters
    ----------
    G : array, shape ``(..., m, n)``
        A finite matrix (or a stack of them), real or complex; integers are cast to float64.

    Returns
    -------
    array, shape ``(..., m, n)``
        ``U V^T`` from the thin SVD, in ``G``'s namespace and dtype.
    """
    G = check_array("G", G, min_ndim=2)
    xp = array_namespace(G)
    U, _, Vh = xp.linalg.svd(G, full_matrices=False)
    return U @ Vh


def dictionary_recovery(D0: Array, D: Array) -> float:
    """``||D0^T D||_4^4 / k``: 1 exactly when ``D`` equals ``D0`` up to a signed permutation.

    For orthonormal columns of ``D0`` and ``D`` every entry of ``D0^T D`` is at most 1 in
    magnitude and each column has unit norm, so the score lies in ``[1/n, 1]``.

    Parameters
    ----------
    D0 : array, shape ``(n, k)``
        The true dictionary (atoms as columns), real floating and finite.
    D : array, shape ``(n, k)``
        The learnt dictionary: same shape and namespace as ``D0``.

    Returns
    -------
    float
        ``sum((D0^T D)^4) / D0.shape[1]``.
    """
    D0 = _check_samples(D0, "D0")
    D = _check_samples(D, "D")
    if tuple(D.shape) != tuple(D0.shape):
        raise ValueError(f"D has shape {tuple(D.shape)} but D0 has {tuple(D0.shape)}; they must match")
    xp = check_same_namespace(D0=D0, D=D)
    M = xp.matrix_transpose(D0) @ D
    return float(to_numpy(xp.sum(M**4))) / D0.shape[1]


def _grad(xp: Any, D: Array, Y: Array, p: float) -> Array:
    """``grad f(D) = (p / b) Y (sign(D^T Y) |D^T Y|^{p-1})^T`` for signals ``Y`` (``n x b``) in columns."""
    Z = xp.matrix_transpose(D) @ Y
    W = xp.sign(Z) * xp.abs(Z) ** (p - 1.0)
    return (p / Y.shape[1]) * (Y @ xp.matrix_transpose(W))


def _check_samples(Y: Any, name: str = "Y") -> Array:
    """A finite, non-empty, real 2-D array (integers cast to float64)."""
    return check_array(name, Y, ndim=2, complex_ok=False)


def _check_p(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 2 < float(p) < math.inf:
        raise ValueError(
            f"p must be a finite number > 2, got {p!r}: the l_p objective ||Y D||_p^p favours sparse codes "
            "only for p > 2 (for p = 2 it equals ||Y||_F^2 for every orthogonal D)"
        )
    return float(p)


def _check_dictionary(D: Any) -> Array:
    """A finite real ``(n, k)`` dictionary without a zero atom."""
    D = _check_samples(D, "D")
    xp = array_namespace(D)
    norms = to_numpy(xp.linalg.vector_norm(D, axis=0))
    if not np.all(norms > 0):
        raise ValueError(f"D has a zero atom (column {int(np.flatnonzero(norms == 0)[0])}): it codes nothing")
    return D


def _coding_rule(method: Any, n_nonzero: Any, lam: Any, D: Array) -> tuple[str, int | None, float | None]:
    """The checked coding rule: OMP takes ``n_nonzero`` only, thresholding ``lam`` only."""
    check_choice("method", method, ("omp", "hard", "soft"))
    if method == "omp":
        if n_nonzero is None:
            raise ValueError("n_nonzero must be given for method='omp'")
        if lam is not None:
            raise ValueError("lam applies to method='hard' or 'soft'; method='omp' takes n_nonzero")
        return method, check_int("n_nonzero", n_nonzero, low=1, high=min(D.shape)), None
    if lam is None:
        raise ValueError(f"lam must be given for method={method!r} (the threshold)")
    if n_nonzero is not None:
        raise ValueError(f"n_nonzero applies to method='omp'; method={method!r} takes lam")
    return method, None, check_scalar("lam", lam, low=0.0)


def sparse_code(
    D: Array, Y: Array, *, method: str = "omp", n_nonzero: int | None = None, lam: float | None = None
) -> Array:
    r"""Sparse codes ``X`` (``n_samples x k``) of the rows of ``Y`` in the dictionary ``D`` (``n x k``).

    ``method="omp"``: orthogonal matching pursuit, :math:`\min_x \|y - D x\|_2` over
    ``n_nonzero``-sparse ``x`` (greedy: the atom of largest ``|d_j^T r| / ||d_j||``, then least
    squares on the support), batched over samples. ``"hard"`` / ``"soft"``: thresholding of
    ``D^T y`` at ``lam``, the exact minimiser of ``0.5 ||y - D x||^2 + lam^2 / 2 ||x||_0``
    (hard) or ``0.5 ||y - D x||^2 + lam ||x||_1`` (soft) for an orthogonal ``D``.

    Parameters
    ----------
    D : array, shape ``(n, k)``
        Dictionary with atoms as columns; real, finite, no zero atom (integers cast to float64).
    Y : array, shape ``(n_samples, n)``
        Signals as rows; real, finite, non-empty, same namespace as ``D``.
    method : {"omp", "hard", "soft"}, default "omp"
        Coding rule.
    n_nonzero : int, optional
        Atoms per sample for ``"omp"`` (required there, refused by the thresholds),
        ``1 <= n_nonzero <= min(n, k)``.
    lam : float, optional
        Threshold ``>= 0`` for ``"hard"`` / ``"soft"`` (required there, refused by ``"omp"``).

    Returns
    -------
    array, shape ``(n_samples, k)``
        The codes, in ``Y``'s namespace and dtype, with ``Y ~ X D^T``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.dictionary import sparse_code
    >>> D = np.linalg.qr(np.random.default_rng(0).standard_normal((16, 16)))[0]
    >>> Z = np.zeros((3, 16)); Z[0, 2] = 1.0; Z[1, 5] = -1.0; Z[2, 9] = 2.0
    >>> codes = sparse_code(D, Z @ D.T, n_nonzero=1)
    >>> bool(np.allclose(codes, Z))
    True
    """
    D = _check_dictionary(D)
    Y = _check_samples(Y, "Y")
    if Y.shape[1] != D.shape[0]:
        raise ValueError(f"Y has {Y.shape[1]} features, expected {D.shape[0]} (the rows of D)")
    xp = check_same_namespace(D=D, Y=Y)
    method, n_nonzero, lam = _coding_rule(method, n_nonzero, lam, D)
    C = Y @ D  # (b, k) correlations D^T y
    if method == "hard":
        return xp.where(xp.abs(C) > lam, C, xp.zeros_like(C))
    if method == "soft":
        return xp.sign(C) * xp.clip(xp.abs(C) - lam, min=0.0)
    return _omp(xp, D, Y, n_nonzero)


def _omp(xp: Any, D: Array, Y: Array, n_nonzero: int) -> Array:
    """Batched OMP: per sample, ``n_nonzero`` greedy picks with a least-squares refit each."""
    k = D.shape[1]
    b = Y.shape[0]
    dev = device(Y)
    Dt = xp.matrix_transpose(D)  # (k, n): row j is atom j
    inv_norm = 1.0 / xp.linalg.vector_norm(D, axis=0)
    atoms = xp.arange(k, device=dev)
    chosen = xp.zeros((b, k), dtype=xp.bool, device=dev)
    idx_list = []
    R = Y
    coef = None
    for _ in range(n_nonzero):
        corr = xp.abs(R @ D) * inv_norm
        corr = xp.where(chosen, xp.full_like(corr, -1.0), corr)
        j = xp.argmax(corr, axis=1)
        idx_list.append(j)
        chosen = chosen | (atoms[None, :] == j[:, None])
        idx = xp.stack(idx_list, axis=1)  # (b, s)
        Ds = xp.reshape(xp.take(Dt, xp.reshape(idx, (-1,)), axis=0), (b, len(idx_list), D.shape[0]))
        gram = Ds @ xp.matrix_transpose(Ds)
        rhs = (Ds @ Y[:, :, None])[..., 0]
        coef = xp.linalg.solve(gram, rhs[..., None])[..., 0]
        R = Y - (xp.matrix_transpose(Ds) @ coef[..., None])[..., 0]
    # scatter the coefficients into (b, k) by summing one-hot products (no integer setitem)
    X = xp.zeros((b, k), dtype=Y.dtype, device=dev)
    for s, j in enumerate(idx_list):
        c = xp.astype(coef[:, s : s + 1], Y.dtype)
        X = X + xp.where(atoms[None, :] == j[:, None], c, xp.zeros_like(X))
    return X


@dataclass
class DictionaryResult(Result):
    """Result of :func:`orthogonal_dictionary_learning` and :meth:`OnlineOrthogonalDictionary.fit`.

    ``x`` is the dictionary (``n_features x n_components``, atoms in columns).
    ``history`` holds, per checkpoint, ``rel_change`` (``||D_k - D_{k-1}||_F /
    ||D_k||_F``, the quantity ``tol`` bounds) and ``objective`` (batch:
    ``(1/T) ||Y D||_p^p``) or ``gap`` (online: the Frank-Wolfe gap).

    Attributes
    ----------
    objective : float
        Batch: ``(1/T) ||Y D||_p^p`` at the returned dictionary (NaN for the online learner).
    gap_history : list of float
        Online: the Frank-Wolfe gap ``<G_t, S_t - D_{t-1}>`` of every step (empty for the batch method).
    n_samples_seen : int
        Online: samples streamed by the run (batch: the number of samples).
    """

    objective: float = math.nan
    gap_history: list = field(default_factory=list)
    n_samples_seen: int = 0


def _rel_change(xp: Any, new: Array, old: Array) -> Array:
    return xp.linalg.vector_norm(new - old) / xp.linalg.vector_norm(new)


def _initial_dictionary(Y: Array, k: int, seed: int, x0: Any, *, in_ball: bool = False) -> Array:
    """A random ``n x k`` matrix with orthonormal columns (seeded), or the checked warm start ``x0``.

    ``in_ball``: ``x0`` must lie in the Frank-Wolfe feasible set ``||x0||_2 <= 1``.
    """
    xp = array_namespace(Y)
    n = Y.shape[1]
    if x0 is None:
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((n, k)))
        return xp.asarray(Q, dtype=Y.dtype, device=device(Y))
    if not hasattr(x0, "shape") or tuple(x0.shape) != (n, k):
        got = getattr(x0, "shape", None)
        raise ValueError(f"x0 must be an ({n}, {k}) initial dictionary, got shape {got}")
    x0 = check_array("x0", x0, complex_ok=False)
    D = xp.asarray(to_numpy(x0) if array_namespace(x0) is not xp else x0, dtype=Y.dtype, device=device(Y))
    if in_ball:
        nrm = float(np.linalg.norm(to_numpy(D), 2))
        if nrm > 1.0 + 1e-6:
            raise ValueError(
                f"x0 has spectral norm {nrm:.6g} > 1: the Frank-Wolfe iterates live in the ball ||D||_2 <= 1"
            )
    return D


def _objective(xp: Any, Y: Array, D: Array, p: float) -> float:
    """``(1/T) ||Y D||_p^p``, the l_p objective of MSP (one host sync)."""
    return float(to_numpy(xp.sum(xp.abs(Y @ D) ** p))) / Y.shape[0]


class _MSP(IterativeSolver):
    """Matching, stretching and projection: ``D <- polar(grad f(D))``; the estimate is ``D``."""

    name = "msp"
    divergence = False  # a maximisation: the objective grows by design

    def __init__(self, Y: Array, D: Array, p: float, **kw: Any):
        super().__init__(**kw)
        self.xp = array_namespace(Y)
        self.Y, self.Yt, self.D, self.p = Y, self.xp.matrix_transpose(Y), D, p
        self._change: Array | None = None

    def objective(self) -> float:
        return _objective(self.xp, self.Y, self.D, self.p)

    def step(self) -> None:
        new = polar(_grad(self.xp, self.D, self.Yt, self.p))
        self._change = _rel_change(self.xp, new, self.D)
        self.D = new

    def metrics(self) -> dict[str, Any]:
        return {"objective": self.objective, "rel_change": self._change}

    def estimate(self) -> Array:
        return self.D

    def result(self, base: Result) -> DictionaryResult:
        obj = math.nan if base.x is None else _objective(self.xp, self.Y, base.x, self.p)
        return DictionaryResult(**base._base(), objective=obj, n_samples_seen=int(self.Y.shape[0]))


def orthogonal_dictionary_learning(
    Y: Array,
    *,
    p: float = 4,
    max_iter: int = 100,
    tol: float | None = 1e-8,
    check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
    x0: Array | None = None,
    seed: int = 0,
) -> DictionaryResult:
    r"""Batch orthogonal dictionary learning by l_p maximisation (MSP, Zhai et al. 2020).

    Solves :math:`\max_{D^T D = I} \frac{1}{T}\|Y D\|_p^p` (samples in the rows
    of ``Y``, ``T`` of them) by the fixed-point iteration
    ``D <- polar(Y^T sign(Y D) |Y D|^{p-1})`` (projected gradient ascent with an
    infinite step, "matching, stretching and projection").

    Parameters
    ----------
    Y : array (n_samples, n_features)
        Real, finite, non-empty (integers cast to float64).
    p : float
        Exponent, finite and ``> 2`` (4 in the paper). For ``p = 2`` the objective is
        ``tr(D^T Y^T Y D) = ||Y||_F^2`` for every orthogonal ``D``: it carries no
        information, so ``p <= 2`` is refused.
    max_iter : int
    tol : float or None
        Converged when the relative change of the dictionary,
        ``||D_k - D_{k-1}||_F / ||D_k||_F``, falls below ``tol`` at a checkpoint
        (None or 0: run ``max_iter`` iterations).
    check_every : int, default 10
        Checkpoint period (history, callback, stopping rules). A step stays on the
        device; a checkpoint costs one more product ``Y D`` (the objective) and a host sync.
    callback : callable, optional
        ``callback(state)``; ``state.x`` is the current dictionary.
    progress : bool
        tqdm progress bar.
    stop : StoppingRule, optional
        An extra stopping rule.
    x0 : array (n_features, n_features), optional
        Initial dictionary, real and finite (default: a random orthogonal matrix drawn from ``seed``).
    seed : int
        ``>= 0``; the same seed gives bit-identical results on NumPy.

    Returns
    -------
    DictionaryResult
        ``x`` = the dictionary (``n x n``, atoms in columns); history of ``objective``
        and ``rel_change``; ``objective`` at the returned dictionary.

    References
    ----------
    Y. Zhai, Z. Yang, Z. Liao, J. Wright, Y. Ma, "Complete dictionary learning via
    l4-norm maximization over the orthogonal group", JMLR 2020.
    """
    Y = _check_samples(Y)
    p = _check_p(p)
    seed = check_int("seed", seed, low=0)
    D = _initial_dictionary(Y, Y.shape[1], seed, x0)
    return _MSP(
        Y,
        D,
        p,
        max_iter=max_iter,
        tol=tol,
        check_every=check_every,
        callback=callback,
        progress=progress,
        stop=stop,
    ).solve()
