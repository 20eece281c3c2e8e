r"""Online orthogonal dictionary learning by stochastic Frank-Wolfe (Xue and Lau), a scikit-learn estimator.

For each mini-batch ``Y_t`` (``n x b``, signals in columns) and a dictionary ``D``
(``n x k``, ``k <= n``) in the spectral-norm ball ``{D : ||D||_2 <= 1}``:

* gradient ``grad_t = (p / b) Y_t (sign(D^T Y_t) |D^T Y_t|^{p-1})^T``;
* tracked gradient ``G_t = (1 - rho_t) G_{t-1} + rho_t grad_t`` (no data stored);
* linear step ``S_t = argmax_{||S||_2 <= 1} <G_t, S> = U V^T`` (thin SVD ``G_t = U s V^T``);
* ``D_t = (1 - gamma_t) D_{t-1} + gamma_t S_t``; Frank-Wolfe gap ``<G_t, S_t - D_{t-1}>``.

The objective ``f(D) = (1/t) sum ||D^T y||_p^p`` is convex, so its maxima over the
ball sit at extreme points: matrices with orthonormal columns (orthogonal for
``k = n``, the complete dictionary of the paper). State is ``D`` and ``G``
(``O(n k)`` memory) whatever the number of samples.

The class follows scikit-learn's estimator protocol without importing
scikit-learn: the constructor stores the hyper-parameters only, ``fit`` checks
them and returns ``self``, fitted state ends in ``_``, ``get_params`` /
``set_params`` make ``sklearn.base.clone``, pipelines and grid searches work,
and ``sklearn.utils.estimator_checks.check_estimator`` passes (tested).

References
----------
Y. Xue, V. Lau, "Online orthogonal dictionary learning based on Frank-Wolfe
method", arXiv 2103.01484 (IEEE TNNLS 2023). A. Mokhtari, H. Hassani, A.
Karbasi, "Stochastic conditional gradient methods", AISTATS 2018 (gradient tracking).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._validation import check_array, check_int, check_scalar
from ..backend import Array, array_namespace, device, to_numpy
from ..iterative import IterativeSolver, IterState, Result, StoppingRule
from .learning import DictionaryResult, _check_p, _grad, _initial_dictionary, _rel_change, polar, sparse_code

__all__ = ["OnlineOrthogonalDictionary"]

_CODING_KEYS = ("method", "n_nonzero", "lam")


def _as_samples(X: Any, name: str, n_features: int | None = None, owner: str = "") -> Array:
    """scikit-learn's input contract for a data matrix, on any array-API namespace.

    Array-likes (lists, objects exposing ``__array__``, object arrays of numbers) become
    NumPy float arrays; sparse matrices, complex data, empty or non-finite data and a
    feature count other than the fitted one are refused with the messages
    scikit-learn's checks expect.
    """
    if type(X).__module__.startswith("scipy.sparse") or hasattr(X, "tocsr"):
        raise TypeError(f"{name} is a sparse matrix ({type(X).__name__}); sparse input is not supported: "
                        "pass a dense array")
    try:
        array_namespace(X)
        is_array = hasattr(X, "shape") and hasattr(X, "dtype")
    except TypeError:
        is_array = False
    if not is_array:
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype == object:
        X = X.astype(np.float64)  # numbers stored as objects; anything else raises numpy's TypeError
    xp = array_namespace(X)
    if xp.isdtype(X.dtype, "complex floating"):
        raise ValueError(f"Complex data not supported: {name} must be real, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {tuple(X.shape)}; "
                         "Reshape your data: (-1, 1) for one feature, (1, -1) for one sample")
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):
        if X.shape[axis] == 0:
            shape = tuple(X.shape)
            raise ValueError(f"{name} has 0 {what} (shape={shape}) while a minimum of 1 is required.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, but {owner} is expecting {n_features} features "
                         "as input (as fitted)")
    return check_array(name, X, complex_ok=False)


class _Estimator:
    """scikit-learn's parameter protocol without importing scikit-learn.

    The constructor's keyword parameters are the hyper-parameters: ``get_params``
    reads them back, ``set_params`` writes them unchecked (``fit`` checks them), so
    ``sklearn.base.clone`` and grid searches work; fitted state ends in ``_``.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(n for n, p in sig.parameters.items() if n != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, by name (``deep`` is accepted for scikit-learn; nothing is nested)."""
        return {n: getattr(self, n) for n in self._param_names()}

    def set_params(self, **params: Any) -> _Estimator:
        """Set hyper-parameters by name (checked by the next ``fit``); returns ``self``."""
        valid = self._param_names()
        for n, v in params.items():
            if n not in valid:
                raise ValueError(f"invalid parameter {n!r} for {type(self).__name__}; valid: {valid}")
            setattr(self, n, v)
        return self

    def __sklearn_tags__(self) -> Any:
        # Needed because the class does not inherit sklearn.base.BaseEstimator (csbox does not
        # depend on scikit-learn): only scikit-learn's own tooling calls this, so the import is
        # safe here. The tags are the defaults of a transformer, plus float32 among the dtypes
        # that transform preserves (it codes in the dtype of the data).
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
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


class _OnlineFW(IterativeSolver):
    """Stochastic Frank-Wolfe over the mini-batches of ``n_epochs`` passes; one step per iteration.

    A step stays on the device: the gaps are kept as 0-d arrays and synchronised once, at the end.
    """

    name = "fw-dictionary"
    divergence = False

    def __init__(self, model: OnlineOrthogonalDictionary, batches: Iterator[Array], **kw: Any):
        super().__init__(**kw)
        self.model = model
        self.xp = array_namespace(model.dictionary_)
        self.batches = batches
        self.gaps: list[Array] = []
        self._change: Array | None = None

    def step(self) -> None:
        old = self.model.dictionary_
        self.gaps.append(self.model._step(next(self.batches)))
        self._change = _rel_change(self.xp, self.model.dictionary_, old)

    def metrics(self) -> dict[str, Any]:
        return {"rel_change": self._change, "gap": self.gaps[-1]}

    def estimate(self) -> Array:
        return self.model.dictionary_

    def result(self, base: Result) -> DictionaryResult:
        m = self.model
        m.gap_history_.extend(float(to_numpy(g)) for g in self.gaps)
        seen = m.n_samples_seen_
        return DictionaryResult(**base._base(), gap_history=list(m.gap_history_), n_samples_seen=seen)


class OnlineOrthogonalDictionary(_Estimator):
    """Online orthogonal dictionary learning by stochastic Frank-Wolfe (Xue and Lau), scikit-learn style.

    Learns ``D`` (``n_features x k``, orthonormal atoms in columns) maximising
    ``(1/t) sum_tau ||D^T y_tau||_p^p`` over ``||D||_2 <= 1`` from a stream of
    mini-batches; :meth:`transform` gives sparse codes ``X`` with ``Y ~ X D^T``.

    Parameters
    ----------
    n_components : int, optional
        Number of atoms ``k``, ``1 <= k <= n_features`` (orthonormal atoms: at most as many as
        features). None (default): ``n_features``, the complete orthogonal dictionary of the paper.
    p : float, default 3.0
        Exponent of the ``l_p`` objective, finite and ``> 2`` (3 or 4 in the paper).
    step_schedule : (callable, callable), optional
        ``(rho, gamma)``, functions of the step count ``t >= 1`` with values in ``(0, 1]``:
        gradient tracking weight and Frank-Wolfe step. Default ``rho_t = gamma_t = t^{-1/2}``
        (the paper's exact schedule was not available; among the decaying schedules tried,
        see the docs, this one recovered the synthetic dictionary best).
    batch_size : int, default 64
        Mini-batch size used by :meth:`fit`, ``>= 1``.
    n_epochs : int, default 1
        Passes of :meth:`fit` over the data, ``>= 1``.
    project : bool, default False
        After :meth:`fit`, replace ``dictionary_`` by its polar factor (orthonormal columns).
    coding : dict, optional
        Default arguments of :meth:`transform`: ``method``, ``n_nonzero``, ``lam`` (see
        :func:`~csbox.dictionary.sparse_code`; default OMP with ``max(1, k // 10)`` atoms).
    seed : int, default 0
        ``>= 0``; seeds the initial dictionary and the shuffling (bit-identical runs on NumPy).
    max_iter : int, optional
        Most Frank-Wolfe steps (mini-batches) of :meth:`fit`; default (None): all
        mini-batches of the ``n_epochs`` passes (a larger value is capped there).
    tol : float, optional
        :meth:`fit` stops (converged) when the relative change of the dictionary
        ``||D_t - D_{t-1}||_F / ||D_t||_F`` at a checkpoint falls below ``tol``;
        None or 0 runs every step.
    check_every : int, default 10
        Checkpoint period of :meth:`fit` (history, callback, stopping rules); a step stays on the device.
    callback : callable, optional
        ``callback(state)`` at each checkpoint of :meth:`fit`; ``state.x`` is the
        current dictionary. Raising ``StopIteration`` stops cleanly.
    progress : bool, default False
        tqdm progress over mini-batches in :meth:`fit`.
    stop : StoppingRule, optional
        An extra stopping rule for :meth:`fit`.
    x0 : array (n_features, k), optional
        Initial dictionary of :meth:`fit` and of the first :meth:`partial_fit`, real, finite,
        with ``||x0||_2 <= 1`` (default: random orthonormal columns drawn from ``seed``).

    Attributes
    ----------
    dictionary_ : array, shape ``(n_features, n_components_)``
        Atoms in columns, in the namespace of the data.
    components_ : array, shape ``(n_components_, n_features)``
        Atoms in rows (scikit-learn's layout).
    n_components_ : int
        The number of atoms learnt.
    n_features_in_ : int
        Features seen by :meth:`fit` / the first :meth:`partial_fit`.
    n_samples_seen_, n_steps_ : int
    gap_history_ : list of float
        Frank-Wolfe gap ``<G_t, S_t - D_{t-1}>`` of every step.
    result_ : DictionaryResult
        The run of the last :meth:`fit` (stop reason, history of ``rel_change`` and ``gap``).
    n_iter_ : int
        Frank-Wolfe steps of the last :meth:`fit`.

    Notes
    -----
    The data arguments are named ``X`` (scikit-learn's name; samples in rows, what the
    rest of csbox's dictionary module calls ``Y``); array-likes such as lists are accepted.
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

    # ------------------------------------------------------------------ checks
    def _n_atoms(self, n_features: int) -> int:
        if self.n_components is None:
            return n_features
        k = check_int("n_components", self.n_components, low=1)
        if k > n_features:
            raise ValueError(
                f"n_components = {k} exceeds the number of features {n_features}: an orthogonal dictionary "
                "(orthonormal atoms) has at most as many atoms as features"
            )
        return k

    def _check_step_params(self) -> None:
        """The hyper-parameters every step uses (checked by fit and each partial_fit)."""
        _check_p(self.p)
        sched = self.step_schedule
        if sched is not None and not (
            isinstance(sched, (tuple, list)) and len(sched) == 2 and all(callable(f) for f in sched)
        ):
            raise TypeError(f"step_schedule must be a pair of callables (rho, gamma) or None, got {sched!r}")

    def _check_fit_params(self) -> None:
        """The hyper-parameters of fit, checked before any step."""
        self._check_step_params()
        check_int("batch_size", self.batch_size, low=1)
        check_int("n_epochs", self.n_epochs, low=1)
        check_int("seed", self.seed, low=0)
        if self.max_iter is not None:
            check_int("max_iter", self.max_iter, low=0)
        if not isinstance(self.project, (bool, np.bool_)):
            raise TypeError(f"project must be a bool, got {type(self.project).__name__}")
        self._coding_defaults()

    def _coding_defaults(self) -> dict[str, Any]:
        if self.coding is None:
            return {}
        if not isinstance(self.coding, dict) or not set(self.coding) <= set(_CODING_KEYS):
            keys = list(_CODING_KEYS)
            raise ValueError(f"coding must be a dict with keys among {keys}, got {self.coding!r}")
        return dict(self.coding)

    def _check_fitted(self) -> None:
        if not hasattr(self, "dictionary_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit or partial_fit first")

    # ------------------------------------------------------------------ state
    def _init(self, X: Array) -> None:
        xp = array_namespace(X)
        n = X.shape[1]
        k = self._n_atoms(n)
        seed = check_int("seed", self.seed, low=0)
        self.dictionary_ = _initial_dictionary(X, k, seed, self.x0, in_ball=True)
        self._G = xp.zeros((n, k), dtype=X.dtype, device=device(X))
        self.n_components_ = k
        self.n_features_in_ = n
        self.n_samples_seen_ = 0
        self.n_steps_ = 0
        self.gap_history_: list[float] = []

    def _schedules(self) -> tuple[Callable[[int], float], Callable[[int], float]]:
        if self.step_schedule is not None:
            return self.step_schedule[0], self.step_schedule[1]
        return (lambda t: t**-0.5), (lambda t: t**-0.5)

    def _step(self, X: Array) -> Array:
        """One Frank-Wolfe step on the checked mini-batch ``X`` (``n_samples x n_features``); the gap."""
        xp = array_namespace(X)
        rho_f, gam_f = self._schedules()
        t = self.n_steps_ + 1
        rho = check_scalar("step_schedule rho(t)", rho_f(t), low=0.0, high=1.0, low_open=True)
        gam = check_scalar("step_schedule gamma(t)", gam_f(t), low=0.0, high=1.0, low_open=True)
        D = self.dictionary_
        grad = _grad(xp, D, xp.matrix_transpose(X), float(self.p))
        self._G = (1.0 - rho) * self._G + rho * grad
        S = polar(self._G)
        gap = xp.sum(self._G * (S - D))
        self.dictionary_ = (1.0 - gam) * D + gam * S
        self.n_steps_ = t
        self.n_samples_seen_ += int(X.shape[0])
        return gap

    # ------------------------------------------------------------------ the estimator API
    def partial_fit(self, X: Any, y: Any = None) -> OnlineOrthogonalDictionary:
        """One Frank-Wolfe step on the mini-batch ``X`` (``n_samples x n_features``); returns ``self``.

        The first call (on an unfitted estimator) initialises the dictionary; ``y`` is ignored.
        """
        first = not hasattr(self, "dictionary_")
        self._check_step_params()
        X = _as_samples(X, "X", None if first else self.n_features_in_, type(self).__name__)
        if first:
            self._init(X)
        self.gap_history_.append(float(to_numpy(self._step(X))))
        return self

    def _batches(self, X: Array) -> Iterator[Array]:
        xp = array_namespace(X)
        rng = np.random.default_rng(int(self.seed) + 1)
        n = X.shape[0]
        for _ in range(int(self.n_epochs)):
            order = xp.asarray(rng.permutation(n), device=device(X))
            for start in range(0, n, int(self.batch_size)):
                yield xp.take(X, order[start : start + int(self.batch_size)], axis=0)

    def fit(self, X: Any, y: Any = None) -> OnlineOrthogonalDictionary:
        """Stream ``X`` (``n_samples x n_features``) in shuffled mini-batches for ``n_epochs`` passes.

        Starts afresh (a previous fit is discarded); the run (stop reason, history) is kept
        in ``result_``; ``y`` is ignored. Returns ``self``.
        """
        self._check_fit_params()
        X = _as_samples(X, "X")
        self._init(X)
        steps = int(self.n_epochs) * math.ceil(X.shape[0] / int(self.batch_size))
        max_iter = steps if self.max_iter is None else min(int(self.max_iter), steps)
        solver = _OnlineFW(
            self,
            self._batches(X),
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

    def fit_transform(self, X: Any, y: Any = None, **coding: Any) -> Array:
        """:meth:`fit` then :meth:`transform` on ``X``."""
        return self.fit(X).transform(X, **coding)

    @property
    def components_(self) -> Array:
        """The atoms in rows, ``(n_components_, n_features)`` (``dictionary_`` transposed)."""
        xp = array_namespace(self.dictionary_)
        return xp.matrix_transpose(self.dictionary_)

    def transform(self, X: Any, **coding: Any) -> Array:
        """Sparse codes ``(n_samples, n_components_)`` of the rows of ``X``.

        Keywords ``method``, ``n_nonzero``, ``lam`` override ``coding`` (see
        :func:`~csbox.dictionary.sparse_code`); by default OMP with ``max(1, k // 10)`` atoms.
        """
        self._check_fitted()
        X = _as_samples(X, "X", self.n_features_in_, type(self).__name__)
        opts = self._coding_defaults()
        opts.update(coding)
        if opts.get("method", "omp") == "omp" and opts.get("n_nonzero") is None:
            opts["n_nonzero"] = max(1, self.n_components_ // 10)
        return sparse_code(self.dictionary_, X, **opts)

    def inverse_transform(self, X: Any) -> Array:
        """Signals ``X D^T`` from codes ``X`` (``n_samples x n_components_``)."""
        self._check_fitted()
        X = _as_samples(X, "X", self.n_components_, f"{type(self).__name__}.inverse_transform (codes)")
        xp = array_namespace(X)
        return X @ xp.matrix_transpose(self.dictionary_)
