"""``A.column_norms()``: closed forms against brute-force probing, and the probing budget (issue 28).

The closed forms never apply the operator, so a 10^5-column identity answers at once; every
closed form is compared here with the norms of the columns ``A e_i`` built one by one (the
probe, ``csbox.linop._probe_columns``) on small sizes. Rounding: a column's norm is a sum of a few
dozen products, so closed form and probe agree to ~1e-15 relative; the tolerance 1e-12 leaves
room for FFT round-off. The NUFFT matches the exact NUDFT's ``sqrt(M / N)`` only to its
accuracy ``eps`` (1e-6 requested; 1e-5 allowed).
"""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csbox.linop import MAX_PROBE, _probe_columns
from csbox.operators import (
    FFT,
    NUFFT,
    BlockDiag,
    Convolve,
    Diagonal,
    Gradient,
    Hadamard,
    HStack,
    Identity,
    Kronecker,
    MatrixOperator,
    PartialFourier,
    Restriction,
    VStack,
    Wavelet,
)
from csbox.sampling import uniform_random

R = np.random.default_rng(0)


def _m(m, n, seed=0):
    return np.random.default_rng(seed).standard_normal((m, n))


def _sense(kind):
    from csbox.mri import Sense, birdcage_maps

    maps = birdcage_maps((10, 10), 3)
    if kind == "cartesian":
        return Sense(maps, uniform_random((10, 10), 40, seed=2))
    if kind == "odd":
        return Sense(birdcage_maps((9, 10), 3), uniform_random((9, 10), 40, seed=2))
    if kind == "full":
        return Sense(maps)
    if kind == "frames":
        return Sense(maps, np.stack([uniform_random((10, 10), 20 + 10 * s, seed=s) for s in range(3)]))
    if kind == "two-maps":
        return Sense(np.stack([maps, 0.5 * maps]), uniform_random((10, 10), 30, seed=3), ndim=2)
    return Sense(maps, coords=np.random.default_rng(4).uniform(-5, 5, (40, 2)))


CLOSED = {
    "identity": lambda: Identity((3, 4)),
    "diagonal-complex": lambda: Diagonal(R.standard_normal(6) + 1j * R.standard_normal(6)),
    "restriction": lambda: Restriction((4, 5), np.array([0, 3, 7, 19])),
    "fft-ortho-centred": lambda: FFT((6, 5), centered=True),
    "fft-backward-axis": lambda: FFT((6, 5), axes=(1,), norm="backward"),
    "fft-forward": lambda: FFT((4, 3), norm="forward"),
    "partial-fourier-leading": lambda: PartialFourier((3, 8), uniform_random((8,), 3, seed=1), axes=(1,)),
    "partial-fourier-2d": lambda: PartialFourier((8, 8), uniform_random((8, 8), 20, seed=1), centered=True),
    "wavelet": lambda: Wavelet((16, 8), "db2", level=2),
    "hadamard": lambda: Hadamard(16),
    "matrix": lambda: MatrixOperator(_m(5, 7)),
    "kronecker": lambda: Kronecker(MatrixOperator(_m(3, 4)), MatrixOperator(_m(2, 5, 1))),
    # a factor without a closed form is probed alone (5 columns, not 20)
    "kronecker-probed-factor": lambda: Kronecker(MatrixOperator(_m(3, 4)),
                                                 MatrixOperator(_m(5, 5, 2)) + Identity(5)),
    "scaled-complex": lambda: (2.0 - 1.0j) * MatrixOperator(_m(5, 7)),
    "negated": lambda: -Gradient((4, 3)),
    "gradient-neumann": lambda: Gradient((6, 5, 1, 2)),
    "gradient-periodic-axis": lambda: Gradient((6, 5), axes=(1,), boundary="periodic"),
    "gradient-size-2": lambda: Gradient((2, 3), boundary="periodic"),
    "convolve-periodic": lambda: Convolve(R.standard_normal((3, 2)) + 1j * R.standard_normal((3, 2)),
                                          (2, 8, 7)),
    "convolve-same": lambda: Convolve(R.standard_normal((3, 4)), (6, 7), mode="same"),
    "vstack": lambda: VStack([Identity(4), MatrixOperator(_m(3, 4))]),
    "hstack": lambda: HStack([Identity(4), MatrixOperator(_m(4, 3))]),
    "blockdiag": lambda: BlockDiag([Wavelet(8, "haar"), MatrixOperator(_m(2, 3))]),
    "unitary-at-matrix": lambda: FFT(7) @ MatrixOperator(_m(7, 4)),
    "nufft": lambda: NUFFT((8, 6), R.uniform(-3, 3, (20, 2)), impl="generic"),
    **{f"sense-{k}": (lambda k=k: _sense(k)) for k in ("cartesian", "odd", "full", "frames", "two-maps")},
    "sense-noncartesian": lambda: _sense("noncartesian"),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_closed_form_matches_probing(name, monkeypatch):
    A = CLOSED[name]()
    expected = _probe_columns(A, 64, 10**9)
    # the closed form must not fall back to probing the whole operator
    calls = []
    monkeypatch.setattr("csbox.linop._probe_columns", lambda B, *a: calls.append(B) or _probe_columns(B, *a))
    a = A.column_norms()
    assert a.shape == A.ishape and a.dtype == np.float64
    assert all(B.size_in < A.size_in for B in calls), "the closed form probed the whole operator"
    rtol = 1e-5 if "nufft" in name or "noncartesian" in name else 1e-12
    np.testing.assert_allclose(a, expected, rtol=rtol, atol=1e-14)
    if not name.startswith("sense"):  # the adjoint: row norms (Sense has none: that would be probe vs probe)
        np.testing.assert_allclose(A.H.column_norms(), _probe_columns(A.H, 64, 10**9), rtol=rtol, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    periodic=st.booleans(),
    ksize=st.integers(1, 4),
    same=st.booleans(),
)
def test_gradient_and_convolve_closed_forms_any_shape(shape, periodic, ksize, same):
    """Boundary cases (sizes 1 and 2, kernels as large as the image) follow the same formulas."""
    G = Gradient(tuple(shape), boundary="periodic" if periodic else "neumann")
    np.testing.assert_allclose(G.column_norms(), _probe_columns(G, 64, 10**9), atol=1e-13)
    np.testing.assert_allclose(G.H.column_norms(), _probe_columns(G.H, 64, 10**9), atol=1e-13)
    k = min(ksize, shape[-1])
    C = Convolve(np.arange(1.0, k + 1), tuple(shape), mode="same" if same else "periodic")
    np.testing.assert_allclose(C.column_norms(), _probe_columns(C, 64, 10**9), rtol=1e-12, atol=1e-12)


def test_large_structured_operators_answer_without_probing():
    """The hang of issue 28: ``column_norms(Identity(100000))`` probed 10^5 columns for minutes."""
    t = time.perf_counter()
    np.testing.assert_array_equal(Identity(100000).column_norms(), np.ones(100000))
    np.testing.assert_allclose(Wavelet((512, 512), "db4").column_norms(), 1.0)
    np.testing.assert_allclose(Hadamard(2**16).H.column_norms(), 1.0)
    np.testing.assert_allclose(FFT((512, 512), norm="backward").column_norms(), 512.0)
    R = Restriction(10**6, np.arange(0, 10**6, 7))
    assert R.column_norms().sum() == R.oshape[0]
    assert time.perf_counter() - t < 5.0  # closed forms: array fills, no operator applications


def test_probe_budget_is_refused_before_starting():
    big = FFT((256, 256)) + Identity((256, 256))  # a sum: no closed form, 65536 columns
    t = time.perf_counter()
    with pytest.raises(ValueError, match=r"max_probe=16384; pass max_probe=65536"):
        big.column_norms()
    assert time.perf_counter() - t < 0.5
    assert MAX_PROBE == 2**14
    small = Identity(3) + Identity(3)
    with pytest.raises(ValueError, match="max_probe=2"):
        small.column_norms(max_probe=2)
    np.testing.assert_allclose(small.column_norms(max_probe=np.int64(3)), 2.0)  # the budget is inclusive
    for bad, exc in ((-1, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(exc, match="max_probe"):
            small.column_norms(max_probe=bad)
    # closed forms ignore the budget
    np.testing.assert_allclose(Identity(3).column_norms(max_probe=0), 1.0)


def test_user_operator_without_closed_form_is_probed():
    from csbox import LinearOperator

    class Twice(LinearOperator):
        def __init__(self):
            super().__init__((3,), (2, 3), "float64")

        def _apply(self, x):
            return np.stack([x, 2 * x], axis=-2)

        def _adjoint(self, y):
            return y[..., 0, :] + 2 * y[..., 1, :]

    np.testing.assert_allclose(Twice().column_norms(batch=2), np.sqrt(5.0))
