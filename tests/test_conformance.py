"""The conformance suite over the public API (issue: every entry point validates its input).

Every public name of csbox's subpackages must appear in one of the case
tables below (or in ``EXEMPT`` with a reason): ``test_public_api_is_covered``
fails when a new public name arrives without a case. Operators run through
:func:`csbox.testing.check_operator` on every backend of the fixture, solvers
through :func:`csbox.testing.check_solver`, other functions through their
bad-input cases (each must raise the named exception with a message naming the
argument).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from csbox.testing import check_operator, check_solver

MODULES = [
    "csbox.operators", "csbox.solvers", "csbox.penalties", "csbox.sampling", "csbox.testing",
    "csbox.metrics", "csbox.mri", "csbox.ultrasound", "csbox.sar", "csbox.comms", "csbox.io",
    "csbox.distributed",
]


# ---------------------------------------------------------------------------- operators
def _rng(seed=0):
    return np.random.default_rng(seed)


def _operators():
    from csbox import operators as op
    from csbox.sampling import uniform_random

    r = _rng()
    return {
        "MatrixOperator": lambda: op.MatrixOperator(r.standard_normal((5, 7))),
        "Identity": lambda: op.Identity((3, 4)),
        "Diagonal": lambda: op.Diagonal(r.standard_normal((6,)) + 1j),
        "Restriction": lambda: op.Restriction((4, 5), np.array([0, 3, 7, 19])),
        "FFT": lambda: op.FFT((6, 5), centered=True),
        "PartialFourier": lambda: op.PartialFourier((8, 8), uniform_random((8, 8), 20, seed=1)),
        "Kronecker": lambda: op.Kronecker([op.MatrixOperator(r.standard_normal((3, 4))),
                                           op.MatrixOperator(r.standard_normal((2, 5)))]),
        "Wavelet": lambda: op.Wavelet((16, 8), "db2", level=2),
        "Hadamard": lambda: op.Hadamard(16),
    }


OPERATORS = _operators()


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operator_conformance(name, backend):
    A = OPERATORS[name]()
    check_operator(A, xp=backend.xp, device=backend.device, dtype=backend.real)


# ---------------------------------------------------------------------------- solvers
def _lasso():
    from csbox.operators import MatrixOperator

    r = _rng(1)
    M = r.standard_normal((20, 40))
    x = np.zeros(40)
    x[[3, 17, 30]] = [1.0, -2.0, 1.5]
    return MatrixOperator(M), M @ x


def _solvers():
    from csbox import solvers

    return {
        "fista": (solvers.fista, _lasso, {"lam": 0.1, "max_iter": 20}, (40,)),
        "ista": (solvers.ista, _lasso, {"lam": 0.1, "max_iter": 20}, (40,)),
    }


SOLVERS = _solvers()


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_solver_conformance(name):
    solve, problem, kwargs, x_shape = SOLVERS[name]
    A, y = problem()
    check_solver(solve, A, y, x_shape=x_shape, **kwargs)


# ---------------------------------------------------------------------------- penalties
def _penalties():
    from csbox import penalties as pen
    from csbox.operators import Wavelet

    return {
        "L1": lambda: pen.L1(0.4),
        "L0": lambda: pen.L0(0.4),
        "Half": lambda: pen.Half(0.4),
        "MCP": lambda: pen.MCP(0.4, gamma=3.0),
        "CEL0": lambda: pen.CEL0(0.4, col_norms=0.5),
        "InBasis": lambda: pen.L1(0.3).in_basis(Wavelet((8, 8), "db2", level=1)),
    }


PENALTIES = _penalties()


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_penalty_conformance(name):
    from csbox.testing import check_penalty

    P = PENALTIES[name]()
    check_penalty(P, shape=(8, 8))
    with pytest.raises(ValueError, match="lam must be"):
        P.with_lam(-1.0)


# ---------------------------------------------------------------------------- other functions
def _function_cases():
    """name -> list of (callable, exception, regex naming the argument)."""
    from csbox import sampling as s
    from csbox.operators import fwht

    return {
        "fwht": [(lambda: fwht(np.array(1.0)), ValueError, "x must have at least 1"),
                 (lambda: fwht(np.ones(6)), ValueError, "power of two")],
        "uniform_random": [(lambda: s.uniform_random((8.7, 8), 4), TypeError, "shape"),
                           (lambda: s.uniform_random((8, 8), acceleration=np.inf), ValueError,
                            "acceleration")],
        "variable_density": [(lambda: s.variable_density((8, 8), 4, power=-1), ValueError, "power"),
                             (lambda: s.variable_density((8, 8), 4, density="x"), ValueError, "density")],
        "equispaced": [(lambda: s.equispaced(8, 0), ValueError, "n_samples")],
        "poisson_disc": [(lambda: s.poisson_disc((8,), 2), ValueError, "2-D or 3-D"),
                         (lambda: s.poisson_disc((50000, 50000), 10), ValueError, "needs .* memory")],
        "cartesian": [(lambda: s.cartesian(np.ones(4, bool), (4, 4), axis=2), ValueError, "axis")],
        "point_spread_function": [(lambda: s.point_spread_function(np.zeros(4, bool)), ValueError, "mask")],
        "dottest": [(lambda: __import__("csbox.testing").testing.dottest(np.eye(2)), TypeError, "A must be")],
        "check_operator": [(lambda: check_operator(np.eye(2)), TypeError, "A must be")],
    }


FUNCTIONS = _function_cases()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bad_input_raises_clearly(name):
    for fn, exc, match in FUNCTIONS[name]:
        with pytest.raises(exc, match=match):
            fn()


# ---------------------------------------------------------------------------- coverage of the API
EXEMPT = {
    # result types, stopping rules and loop machinery: data holders checked by the solver contract tests
    "Result", "IterState", "StoppingRule", "MaxIter", "Monitor", "ObjectiveTol", "RelativeChange",
    "ResidualTol", "DivergenceGuard", "Below", "Flag", "IterativeSolver",
    # fixtures and helpers of the test suite itself
    "Backend", "available_backends", "backend", "check_solver", "check_penalty",
    # base classes: every concrete subclass has its own case
    "Penalty", "Separable",
}


def _public_names():
    names = {}
    for mod in MODULES:
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        for n in getattr(m, "__all__", []):
            names.setdefault(n, mod)
    return names


def test_public_api_is_covered():
    covered = set(OPERATORS) | set(SOLVERS) | set(FUNCTIONS) | set(PENALTIES) | EXEMPT
    covered |= set(_OTHER_CASES) | _PENDING
    missing = sorted(f"{mod}.{n}" for n, mod in _public_names().items() if n not in covered)
    assert not missing, f"public names without a conformance case: {missing}"


# Cases still to write (the lead empties this when the 0.2 branches are merged).
_PENDING = {"lobe_width", "Hard", "Soft", "Threshold", "column_norms", "cost_matrix", "dictionary_recovery",
            "get_threshold", "grid_cost", "sparse_code", "wasserstein_grid"}

# Names checked elsewhere in the suite, with where (kept explicit so coverage is a decision).
_OTHER_CASES = {
    # 0.1 solver families not yet on the conformance table: checked in tests/solvers/test_contract.py
    "sbl": "tests/solvers/test_contract.py", "kron_sbl": "tests/solvers/test_contract.py",
    "kron_omp": "tests/solvers/test_contract.py", "spright": "tests/solvers/test_contract.py",
    "sinkhorn": "tests/solvers/test_contract.py", "sinkhorn_newton_sparse": "tests/solvers/test_contract.py",
    "orthogonal_dictionary_learning": "tests/solvers/test_contract.py",
    "OnlineOrthogonalDictionary": "tests/solvers/test_contract.py",
}
