r"""Orthogonal dictionary learning: online Frank-Wolfe (Xue and Lau) and batch l4-maximisation (MSP).

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

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_same_namespace, check_scalar
from ..backend import Array, array_namespace, device, to_numpy
from ..iterative import IterativeSolver, IterState, Result, StoppingRule

__all__ = [
    "DictionaryResult",
    "OnlineOrthogonalDictionary",
    "dictionary_recovery",
    "orthogonal_dictionary_learning",
    "polar",
    "sparse_code",
]


def polar(G: Array) -> Array:
    """Orthogonal polar factor ``U V^T`` of ``G = U s V^T``.

    It is the maximiser of ``<G, S>`` over the spectral-norm ball ``||S||_2 <= 1``.

    Parameters
    ----------
    G : array, shape ``(..., m, n)``
        A matrix (or a stack of them).

    Returns
    -------
    array, shape ``(..., m, n)``
        ``U V^T`` from the thin SVD, in ``G``'s namespace and dtype.
    """
    xp = array_namespace(G)
    U, _, Vh = xp.linalg.svd(G, full_matrices=False)
    return U @ Vh


def dictionary_recovery(D0: Array, D: Array) -> float:
    """``||D0^T D||_4^4 / n``: 1 exactly when ``D`` equals ``D0`` up to a signed permutation.

    For orthogonal ``D0`` and ``D`` every entry of ``D0^T D`` is at most 1 in magnitude
    and each column has unit norm, so the score lies in ``[1/n, 1]``.

    Parameters
    ----------
    D0 : array, shape ``(n, n)``
        The true dictionary (atoms as columns), real floating and finite.
    D : array, shape ``(n, n)``
        The learnt dictionary: same shape and namespace as ``D0``.

    Returns
    -------
    float
        ``sum((D0^T D)^4) / D0.shape[1]``.
    """
    xp = _check_samples(D0, None, "D0")
    _check_samples(D, None, "D")
    if tuple(D.shape) != tuple(D0.shape):
        raise ValueError(f"D has shape {tuple(D.shape)} but D0 has {tuple(D0.shape)}; they must match")
    check_same_namespace(D0=D0, D=D)
    M = xp.matrix_transpose(D0) @ D
    return float(to_numpy(xp.sum(M**4))) / D0.shape[1]


def _grad(xp: Any, D: Array, Y: Array, p: float) -> Array:
    Z = xp.matrix_transpose(D) @ Y
    W = xp.sign(Z) * xp.abs(Z) ** (p - 1.0)
    return (p / Y.shape[1]) * (Y @ xp.matrix_transpose(W))


def _check_samples(Y: Array, n_features: int | None, name: str = "Y") -> Any:
    if not hasattr(Y, "shape") or Y.ndim != 2:
        got = getattr(Y, "shape", None)
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got {got}")
    if Y.shape[0] == 0 or Y.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(Y.shape)})")
    if n_features is not None and Y.shape[1] != n_features:
        raise ValueError(f"{name} has {Y.shape[1]} features, expected {n_features} (as fitted)")
    xp = array_namespace(Y)
    if not xp.isdtype(Y.dtype, "real floating"):
        raise TypeError(f"{name} must be a real floating array, got dtype {Y.dtype}")
    if not bool(to_numpy(xp.all(xp.isfinite(Y)))):
        raise ValueError(f"{name} contains NaN or Inf")
    return xp


def sparse_code(
    D: Array, Y: Array, *, method: str = "omp", n_nonzero: int | None = None, alpha: float | None = None
) -> Array:
    """Sparse codes ``X`` (``n_samples x n_atoms``) of the rows of ``Y`` in the dictionary ``D`` (``n x k``).

    ``method="omp"``: orthogonal matching pursuit with ``n_nonzero`` atoms, batched over samples;
    ``"hard"`` / ``"soft"``: thresholding of ``D^T y`` at ``alpha`` (exact l0 / l1 coding
    for an orthogonal ``D``).

    Parameters
    ----------
    D : array, shape ``(n, k)``
        Dictionary with atoms as columns; real floating, finite.
    Y : array, shape ``(n_samples, n)``
        Signals as rows; real floating, finite, same namespace as ``D``.
    method : {"omp", "hard", "soft"}, default "omp"
        Coding rule.
    n_nonzero : int, optional
        Atoms per sample for ``"omp"`` (required there), ``1 <= n_nonzero <= min(n, k)``.
    alpha : float, optional
        Threshold ``>= 0`` for ``"hard"`` / ``"soft"`` (required there).

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
    check_choice("method", method, ("omp", "hard", "soft"))
    _check_samples(D, None, "D")
    xp = _check_samples(Y, D.shape[0], "Y")
    check_same_namespace(D=D, Y=Y)
    C = Y @ D  # (b, k) correlations D^T y
    if method in ("hard", "soft"):
        if alpha is None:
            raise ValueError(f"alpha must be given for {method} thresholding")
        alpha = check_scalar("alpha", alpha, low=0.0)
        if method == "hard":
            return xp.where(xp.abs(C) > alpha, C, xp.zeros_like(C))
        return xp.sign(C) * xp.clip(xp.abs(C) - alpha, min=0.0)
    k = D.shape[1]
    if n_nonzero is None:
        raise ValueError("n_nonzero must be given for method='omp'")
    n_nonzero = check_int("n_nonzero", n_nonzero, low=1, high=min(k, D.shape[0]))
    b = Y.shape[0]
    dev = device(Y)
    Dt = xp.matrix_transpose(D)  # (k, n): row j is atom j
    atoms = xp.arange(k, device=dev)
    chosen = xp.zeros((b, k), dtype=xp.bool, device=dev)
    idx_list = []
    R = Y
    coef = None
    for _ in range(n_nonzero):
        corr = xp.abs(R @ D)
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
        X = X + xp.where(atoms[None, :] == j[:, None], coef[:, s : s + 1], xp.zeros_like(X))
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


def _initial_dictionary(Y: Array, n: int, seed: int, x0: Array | None) -> Array:
    """A random orthogonal ``n x n`` matrix (seeded), or the checked warm start ``x0``."""
    xp = array_namespace(Y)
    if x0 is None:
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        return xp.asarray(Q, dtype=Y.dtype, device=device(Y))
    if not hasattr(x0, "shape") or tuple(x0.shape) != (n, n):
        got = getattr(x0, "shape", None)
        raise ValueError(f"x0 must be an ({n}, {n}) initial dictionary, got shape {got}")
    D = xp.asarray(x0, dtype=Y.dtype, device=device(Y))
    if not bool(to_numpy(xp.all(xp.isfinite(D)))):
        raise ValueError("x0 contains NaN or Inf")
    return D


class _OnlineFW(IterativeSolver):
    """Stochastic Frank-Wolfe over the mini-batches of ``n_epochs`` passes; one step per iteration."""

    name = "fw-dictionary"
    divergence = False

    def __init__(self, model: OnlineOrthogonalDictionary, Y: Array, batches: Iterator[Array], **kw: Any):
        super().__init__(**kw)
        self.model = model
        self.xp = array_namespace(Y)
        self.batches = batches
        self._change: Array | None = None

    def step(self) -> None:
        old = self.model.dictionary_
        self.model._step(next(self.batches))
        self._change = _rel_change(self.xp, self.model.dictionary_, old)

    def metrics(self) -> dict[str, Any]:
        return {"rel_change": self._change, "gap": self.model.gap_history_[-1]}

    def estimate(self) -> Array:
        return self.model.dictionary_

    def result(self, base: Result) -> DictionaryResult:
        m = self.model
        seen = m.n_samples_seen_
        return DictionaryResult(**base._base(), gap_history=list(m.gap_history_), n_samples_seen=seen)


class _Estimator:
    """scikit-learn's parameter protocol without importing scikit-learn.

    The constructor's keyword parameters are the hyper-parameters: ``get_params``
    reads them back, ``set_params`` writes them (so ``sklearn.base.clone`` and
    grid searches work); fitted state ends in ``_``.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(n for n, p in sig.parameters.items() if n != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self._param_names()}

    def set_params(self, **params: Any) -> _Estimator:
        valid = self._param_names()
        for n, v in params.items():
            if n not in valid:
                raise ValueError(f"invalid parameter {n!r} for {type(self).__name__}; valid: {valid}")
            setattr(self, n, v)
        return self

    def __sklearn_tags__(self) -> Any:
        # only scikit-learn's own tooling calls this, so importing it here keeps it optional
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(),
            input_tags=InputTags(),
        )

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        changed = [
            f"{n}={getattr(self, n)!r}"
            for n, p in sig.parameters.items()
            if n != "self" and (p.default is p.empty or getattr(self, n) is not p.default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


class OnlineOrthogonalDictionary(_Estimator):
    """Online orthogonal dictionary learning by stochastic Frank-Wolfe (Xue and Lau), scikit-learn style.

    Parameters
    ----------
    n_components : int, optional
        Number of atoms; must equal the signal dimension (a complete orthogonal
        dictionary). None (default): the number of features of the data.
    p : float
        Exponent of the ``l_p`` objective (3 or 4 in the paper).
    step_schedule : (callable, callable), optional
        ``(rho, gamma)``, functions of the step count ``t >= 1``: gradient
        tracking weight and Frank-Wolfe step. Default ``rho_t = gamma_t =
        t^{-1/2}`` (the paper's exact schedule was not available; among the
        decaying schedules tried, see the docs, this one recovered the synthetic
        dictionary best).
    batch_size : int
        Mini-batch size used by :meth:`fit`.
    n_epochs : int
        Passes of :meth:`fit` over the data.
    project : bool
        After :meth:`fit`, replace ``dictionary_`` by its orthogonal polar factor.
    coding : dict
        Default arguments of :meth:`transform` (``method``, ``n_nonzero``, ``alpha``).
    seed : int
        Seeds the initial dictionary (a random orthogonal matrix) and the shuffling.
    max_iter : int, optional
        Most Frank-Wolfe steps (mini-batches) of :meth:`fit`; default (None): all
        mini-batches of the ``n_epochs`` passes (a larger value is capped there).
    tol : float, optional
        :meth:`fit` stops (converged) when the relative change of the dictionary
        ``||D_t - D_{t-1}||_F / ||D_t||_F`` at a checkpoint falls below ``tol``;
        None or 0 runs every step.
    check_every : int
        Checkpoint period of :meth:`fit` (history, callback, stopping rules).
    callback : callable, optional
        ``callback(state)`` at each checkpoint of :meth:`fit`; ``state.x`` is the
        current dictionary. Raising ``StopIteration`` stops cleanly.
    progress : bool
        tqdm progress over mini-batches in :meth:`fit`.
    stop : StoppingRule, optional
        An extra stopping rule for :meth:`fit`.
    x0 : array (n_features, n_features), optional
        Initial dictionary of :meth:`fit` and of the first :meth:`partial_fit`
        (default: a random orthogonal matrix drawn from ``seed``).

    Attributes
    ----------
    dictionary_ : ndarray (n_features, n_components)
        Atoms in columns, in the namespace of the data.
    components_ : ndarray (n_components, n_features)
        Atoms in rows (scikit-learn's layout).
    n_samples_seen_, n_steps_ : int
    gap_history_ : list of float
        Frank-Wolfe gap ``<G_t, S_t - D_{t-1}>`` of every step.
    result_ : DictionaryResult
        The run of the last :meth:`fit` (stop reason, history of ``rel_change`` and ``gap``).
    n_iter_ : int
        Frank-Wolfe steps of the last :meth:`fit`.
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        p: float = 3.0,
        step_schedule: tuple[Callable[[int], float], Callable[[int], float]] | None = None,
        batch_size: int = 64,
        n_epochs: int = 1,
        project: bool = False,
        coding: dict | None = None,
        seed: int = 0,
        max_iter: int | None = None,
        tol: float | None = None,
        check_every: int = 10,
        callback: Callable[[IterState], Any] | None = None,
        progress: bool = False,
        stop: StoppingRule | None = None,
        x0: Array | None = None,
    ):
        self.n_components = n_components
        self.p = p
        self.step_schedule = step_schedule
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.project = project
        self.coding = coding
        self.seed = seed
        self.max_iter = max_iter
        self.tol = tol
        self.check_every = check_every
        self.callback = callback
        self.progress = progress
        self.stop = stop
        self.x0 = x0

    def _validate_params(self, n_features: int) -> None:
        if self.n_components is None:
            return self._validate_rest()
        if not isinstance(self.n_components, int) or self.n_components < 1:
            raise ValueError(f"n_components must be a positive int, got {self.n_components!r}")
        if self.n_components > n_features:
            raise ValueError(
                f"n_components = {self.n_components} exceeds the signal dimension {n_features}: "
                "an orthogonal dictionary has at most as many atoms as features"
            )
        if self.n_components != n_features:
            raise ValueError(
                f"n_components = {self.n_components} must equal the signal dimension {n_features} "
                "(complete orthogonal dictionary)"
            )
        self._validate_rest()

    def _validate_rest(self) -> None:
        if not self.p > 2:
            raise ValueError(f"p must be > 2 (l_p maximisation favours sparsity only if p > 2), got {self.p}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")

    def _init(self, Y: Array) -> None:
        xp = array_namespace(Y)
        n = Y.shape[1]
        self._validate_params(n)
        self.dictionary_ = _initial_dictionary(Y, n, self.seed, self.x0)
        self._G = xp.zeros((n, n), dtype=Y.dtype, device=device(Y))
        self.n_features_in_ = n
        self.n_samples_seen_ = 0
        self.n_steps_ = 0
        self.gap_history_: list[float] = []

    def _schedules(self) -> tuple[Callable[[int], float], Callable[[int], float]]:
        if self.step_schedule is not None:
            return self.step_schedule
        return (lambda t: t**-0.5), (lambda t: t**-0.5)

    def _step(self, Y: Array) -> None:
        """One Frank-Wolfe step on the checked mini-batch ``Y`` (``n_samples x n_features``)."""
        xp = array_namespace(Y)
        rho_f, gam_f = self._schedules()
        t = self.n_steps_ + 1
        rho, gam = float(rho_f(t)), float(gam_f(t))
        if not (0 < rho <= 1 and 0 < gam <= 1):
            raise ValueError(f"step schedule must give values in (0, 1], got rho={rho}, gamma={gam} at t={t}")
        D = self.dictionary_
        grad = _grad(xp, D, xp.matrix_transpose(Y), self.p)
        self._G = (1.0 - rho) * self._G + rho * grad
        S = polar(self._G)
        self.gap_history_.append(float(to_numpy(xp.sum(self._G * (S - D)))))
        self.dictionary_ = (1.0 - gam) * D + gam * S
        self.n_steps_ = t
        self.n_samples_seen_ += int(Y.shape[0])

    def partial_fit(self, Y: Array, y: Any = None) -> OnlineOrthogonalDictionary:
        """One Frank-Wolfe step on the mini-batch ``Y`` (``n_samples x n_features``)."""
        first = not hasattr(self, "dictionary_")
        _check_samples(Y, None if first else self.n_features_in_)
        if first:
            self._init(Y)
        self._step(Y)
        return self

    def _batches(self, Y: Array) -> Iterator[Array]:
        xp = array_namespace(Y)
        rng = np.random.default_rng(self.seed + 1)
        n = Y.shape[0]
        for _ in range(self.n_epochs):
            order = xp.asarray(rng.permutation(n), device=device(Y))
            for start in range(0, n, self.batch_size):
                yield xp.take(Y, order[start : start + self.batch_size], axis=0)

    def fit(self, Y: Array, y: Any = None) -> OnlineOrthogonalDictionary:
        """Stream ``Y`` in mini-batches of ``batch_size`` for ``n_epochs`` passes (shuffled per epoch).

        The run (stop reason, history) is kept in ``result_``.
        """
        _check_samples(Y, None)
        check_int("n_epochs", self.n_epochs, low=1)
        self._init(Y)
        steps = self.n_epochs * math.ceil(Y.shape[0] / self.batch_size)
        max_iter = steps if self.max_iter is None else min(check_int("max_iter", self.max_iter, low=0), steps)
        solver = _OnlineFW(
            self,
            Y,
            self._batches(Y),
            max_iter=max_iter,
            tol=self.tol,
            check_every=self.check_every,
            callback=self.callback,
            progress=self.progress,
            stop=self.stop,
        )
        res = solver.solve()
        if res.x is not None:
            self.dictionary_ = polar(res.x) if self.project else res.x
            res.x = self.dictionary_
        self.result_ = res
        self.n_iter_ = res.n_iter
        return self

    def fit_transform(self, Y: Array, y: Any = None, **coding: Any) -> Array:
        """:meth:`fit` then :meth:`transform` on ``Y``."""
        return self.fit(Y).transform(Y, **coding)

    @property
    def components_(self) -> Array:
        xp = array_namespace(self.dictionary_)
        return xp.matrix_transpose(self.dictionary_)

    def transform(self, Y: Array, **coding: Any) -> Array:
        """Sparse codes (``n_samples x n_components``); see :func:`sparse_code` for the options."""
        if not hasattr(self, "dictionary_"):
            raise ValueError("this OnlineOrthogonalDictionary is not fitted yet")
        _check_samples(Y, self.n_features_in_)
        opts = {"method": "omp", "n_nonzero": max(1, self.n_features_in_ // 10)}
        opts.update(self.coding or {})
        opts.update(coding)
        return sparse_code(self.dictionary_, Y, **opts)

    def inverse_transform(self, X: Array) -> Array:
        """Signals ``X D^T`` from codes ``X`` (``n_samples x n_components``)."""
        xp = array_namespace(X)
        return X @ xp.matrix_transpose(self.dictionary_)


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
    check_every: int = 1,
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
    p : float
        Exponent, ``> 2`` (4 in the paper). For ``p = 2`` the objective is
        ``tr(D^T Y^T Y D) = ||Y||_F^2`` for every orthogonal ``D``: it carries no
        information, so ``p <= 2`` is refused.
    max_iter : int
    tol : float or None
        Converged when the relative change of the dictionary,
        ``||D_k - D_{k-1}||_F / ||D_k||_F``, falls below ``tol`` at a checkpoint
        (None or 0: run ``max_iter`` iterations).
    check_every : int
        Checkpoint period (history, callback, stopping rules).
    callback : callable, optional
        ``callback(state)``; ``state.x`` is the current dictionary.
    progress : bool
        tqdm progress bar.
    stop : StoppingRule, optional
        An extra stopping rule.
    x0 : array (n_features, n_features), optional
        Initial dictionary (default: a random orthogonal matrix drawn from ``seed``).
    seed : int

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
    _check_samples(Y, None)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p > 2:
        raise ValueError(
            f"p must be a number > 2, got {p!r}: the l_p objective ||Y D||_p^p favours sparse codes only for "
            "p > 2 (for p = 2 it equals ||Y||_F^2 for every orthogonal D)"
        )
    D = _initial_dictionary(Y, Y.shape[1], seed, x0)
    return _MSP(
        Y,
        D,
        float(p),
        max_iter=max_iter,
        tol=tol,
        check_every=check_every,
        callback=callback,
        progress=progress,
        stop=stop,
    ).solve()
