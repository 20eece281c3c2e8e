"""The solver contract (docs/solvers.md), checked on every public iterative solver.

A solver is registered by one small case factory: ``CASES[name] = Case(func, make)``
where ``make(backend)`` returns ``(args, kwargs)`` of a small well-posed problem
on that backend (or raises ``pytest.skip`` where the solver does not run there).
A new public solver gets one factory; every check below then runs on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from csbox.backend import array_namespace, to_numpy
from csbox.dictionary import OnlineOrthogonalDictionary, orthogonal_dictionary_learning
from csbox.iterative import IterState, Result, StoppingRule
from csbox.ot import sinkhorn, sinkhorn_newton_sparse
from csbox.penalties import L1
from csbox.sbl import kron_omp, kron_sbl, sbl
from csbox.solvers import admm, cg, fista, ista, lsqr, pdhg
from csbox.sparse_wht import spright

CONTRACT = ("max_iter", "tol", "check_every", "callback", "progress", "stop")


@dataclass
class Case:
    func: Callable[..., Any]
    make: Callable[[Any], tuple[tuple, dict]]
    # keyword naming the tolerance (all solvers: "tol") and a value every solver meets at once
    numpy_only: bool = False
    xfail: str | None = None  # reason, for solvers not yet on IterativeSolver
    marks: list = field(default_factory=list)
    # shape of the estimate the monitor sees, from the result (default: res.x); the OT solvers
    # iterate on the dual potentials (f, g) and return the plan as x
    estimate_shape: Callable[[Result], tuple] = lambda res: tuple(res.x.shape)

    def run(self, backend: Any, **kw: Any) -> Result:
        if self.numpy_only and backend is not None and backend.name != "numpy":
            pytest.skip(f"{self.func.__name__} runs on NumPy only")
        args, kwargs = self.make(backend)
        kwargs.update(kw)
        return self.func(*args, **kwargs)


def _np(backend: Any, a: np.ndarray) -> Any:
    return a if backend is None else backend.asarray(a)


def _lasso(backend: Any) -> tuple[tuple, dict]:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 40)) / np.sqrt(20)
    x = np.zeros(40)
    x[[3, 17, 29]] = [1.0, -2.0, 0.5]
    from csbox.operators import MatrixOperator

    return (MatrixOperator(A), _np(backend, A @ x)), {"lam": 0.01}


def _sbl(backend: Any) -> tuple[tuple, dict]:
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 60)) / np.sqrt(30)
    x = np.zeros(60)
    x[[5, 40]] = [1.0, -1.5]
    return (_np(backend, A), _np(backend, A @ x + 0.01 * rng.standard_normal(30))), {}


def _kron(backend: Any) -> tuple[tuple, dict]:
    rng = np.random.default_rng(2)
    F = [rng.standard_normal((8, 12)) / np.sqrt(8), rng.standard_normal((6, 10)) / np.sqrt(6)]
    x = np.zeros((12, 10))
    x[3, 4], x[7, 1] = 1.0, -1.0
    y = np.kron(F[0], F[1]) @ x.ravel()
    return ([_np(backend, f) for f in F], _np(backend, y)), {}


def _kron_omp(backend: Any) -> tuple[tuple, dict]:
    args, _ = _kron(backend)
    return args, {"n_nonzero": 2}


def _dictionary(backend: Any) -> tuple[tuple, dict]:
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    S = rng.standard_normal((200, 8)) * (rng.random((200, 8)) < 0.2)
    return (_np(backend, S @ Q.T),), {}


def _online_fit(Y: Any, **kw: Any) -> Result:
    return OnlineOrthogonalDictionary(8, **kw).fit(Y).result_


def _ot(backend: Any) -> tuple[tuple, dict]:
    x = np.linspace(0, 1, 20)
    a = np.exp(-((x - 0.3) ** 2) / 0.01)
    b = np.exp(-((x - 0.7) ** 2) / 0.02)
    C = (x[:, None] - x[None, :]) ** 2
    return (_np(backend, a / a.sum()), _np(backend, b / b.sum()), _np(backend, C), 0.05), {}


def _spright(backend: Any) -> tuple[tuple, dict]:
    rng = np.random.default_rng(4)
    n = 8
    from csbox.operators import fwht

    X = np.zeros(2**n)
    X[rng.choice(2**n, 3, replace=False)] = [1.0, 2.0, -1.0]
    return (fwht(X), n), {"n_nonzero": 3}


def _duals(res: Result) -> tuple:
    return (res.f.shape[-1] + res.g.shape[-1],)


def _split(backend: Any) -> tuple[tuple, dict]:
    (A, y), _ = _lasso(backend)
    return (A, y, [L1(0.01)]), {}


def _ridge(backend: Any) -> tuple[tuple, dict]:
    (A, y), _ = _lasso(backend)
    return (A, y), {"lam": 0.1}


CASES: dict[str, Case] = {
    "fista": Case(fista, _lasso),
    "ista": Case(ista, _lasso),
    "cg": Case(cg, _ridge),
    "lsqr": Case(lsqr, _ridge),
    "admm": Case(admm, _split),
    "pdhg": Case(pdhg, _split),
    "sbl": Case(sbl, _sbl),
    "kron_sbl": Case(kron_sbl, _kron),
    "kron_omp": Case(kron_omp, _kron_omp),
    "orthogonal_dictionary_learning": Case(orthogonal_dictionary_learning, _dictionary),
    "OnlineOrthogonalDictionary.fit": Case(_online_fit, _dictionary),
    "spright": Case(spright, _spright, numpy_only=True),
    "sinkhorn": Case(sinkhorn, _ot, estimate_shape=_duals),
    "sinkhorn_newton_sparse": Case(sinkhorn_newton_sparse, _ot, estimate_shape=_duals),
}


def _params() -> list:
    out = []
    for name, case in CASES.items():
        marks = [pytest.mark.xfail(strict=False, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=name, marks=marks))
    return out


class _StopAt(StoppingRule):
    """A user rule: stop at iteration ``k`` with reason ``"user"`` (not convergence)."""

    converges = False

    def __init__(self, k: int):
        self.k = k

    def __call__(self, state: IterState) -> str | None:
        return "user" if state.iteration >= self.k else None


def _full_length(res: Result, ref: Any) -> None:
    assert res.x is not None
    if hasattr(ref, "length"):  # spright's SparseSpectrum: values on a support of a length-N spectrum
        assert res.x.length == ref.length
        return
    assert tuple(res.x.shape) == tuple(ref.shape)


@pytest.mark.parametrize("case", _params())
def test_contract_keywords(case):
    func = case.func if case.func is not _online_fit else OnlineOrthogonalDictionary
    sig = inspect.signature(func)
    missing = [k for k in CONTRACT if k not in sig.parameters]
    assert not missing, f"{case.func.__name__} lacks {missing}"
    assert sig.parameters["progress"].default is False


@pytest.mark.parametrize("case", _params())
def test_callback_sees_full_length_estimate(case):
    seen = []
    res = case.run(None, max_iter=5, check_every=1, tol=0.0, callback=lambda s: seen.append(s.x))
    assert seen and all(x is not None for x in seen)
    assert {tuple(x.shape) for x in seen} == {case.estimate_shape(res)}


@pytest.mark.parametrize("case", _params())
def test_max_iter_one_with_met_tolerance_converges(case):
    # every solver reports the met tolerance at its last iteration, never "max_iter"
    res = case.run(None, max_iter=1, tol=1e300, check_every=1)
    assert res.n_iter == 1
    assert (res.converged, res.stop_reason) == (True, "tol")


@pytest.mark.parametrize("case", _params())
def test_max_iter_zero_returns_the_start(case):
    ref = case.run(None, max_iter=2, check_every=1)
    res = case.run(None, max_iter=0)
    assert (res.n_iter, res.converged, res.stop_reason) == (0, False, "max_iter")
    _full_length(res, ref.x)


@pytest.mark.parametrize("case", _params())
def test_user_stop_rule_is_honoured(case):
    res = case.run(None, max_iter=50, tol=0.0, check_every=1, stop=_StopAt(3))
    if res.converged and res.n_iter < 3:  # finished by its own rule first (OMP n_nonzero, spright peeling)
        return
    assert (res.n_iter, res.converged, res.stop_reason) == (3, False, "user")


@pytest.mark.parametrize("case", _params())
def test_nan_never_converged(case):
    """NaN in the problem is refused with a message, or reported (never converged, x finite or None)."""
    args, kwargs = case.make(None)
    bad = [np.array(a, dtype=float, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    idx = next(i for i, a in enumerate(bad) if isinstance(a, np.ndarray))
    bad[idx].flat[0] = np.nan
    try:
        res = case.func(*bad, **kwargs)
    except ValueError as e:
        assert "nan" in str(e).lower()
    else:
        assert not res.converged and res.stop_reason == "nan"
        assert res.x is None or bool(np.all(np.isfinite(to_numpy(res.x))))



def test_fista_nan_iterate_keeps_last_finite_estimate():
    """A step far above 1/L overflows to Inf/NaN: the result holds the last finite estimate."""
    (A, y), _ = _lasso(None)
    res = ista(A, y, 0.0, step=1e3 / A.lipschitz(), max_iter=5000, tol=None, check_every=1, stop=None)
    assert not res.converged and res.stop_reason in ("nan", "diverged")
    assert res.x is not None and np.all(np.isfinite(res.x)) and res.x.shape == (40,)


@pytest.mark.parametrize("name", ["fista", "ista", "cg", "lsqr", "admm", "pdhg"])
def test_contract_on_every_backend(name, backend):
    case = CASES[name]
    seen = []
    res = case.run(backend, max_iter=4, tol=0.0, check_every=2, callback=lambda s: seen.append(s.x))
    y = case.make(backend)[0][1]
    assert array_namespace(res.x).__name__ == array_namespace(y).__name__
    assert len(seen) == 2 and all(tuple(x.shape) == tuple(res.x.shape) for x in seen)
    one = case.run(backend, max_iter=1, tol=1e300, check_every=1)
    assert (one.converged, one.stop_reason) == (True, "tol")
