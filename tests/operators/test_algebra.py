"""Hypothesis tests of operator algebra: adjoint of products, sums, scaling, batching."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from csbox.operators import FFT, MatrixOperator, Wavelet


def _mat(seed, m, n, cplx):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, n))
    if cplx:
        M = M + 1j * rng.standard_normal((m, n))
    return M


dims = st.integers(1, 6)


@given(seed=st.integers(0, 10_000), m=dims, k=dims, n=dims, cplx=st.booleans())
def test_adjoint_of_product(seed, m, k, n, cplx):
    A = MatrixOperator(_mat(seed, m, k, cplx))
    B = MatrixOperator(_mat(seed + 1, k, n, cplx))
    y = _mat(seed + 2, 1, m, True)[0]
    np.testing.assert_allclose((A @ B).H @ y, B.H @ (A.H @ y), atol=1e-10)
    np.testing.assert_allclose((A @ B).H @ y, (A.matrix @ B.matrix).conj().T @ y, atol=1e-10)


@given(seed=st.integers(0, 10_000), m=dims, n=dims, c=st.complex_numbers(max_magnitude=10, allow_nan=False))
def test_sum_and_scaling(seed, m, n, c):
    A = MatrixOperator(_mat(seed, m, n, True))
    B = MatrixOperator(_mat(seed + 1, m, n, False))
    x = _mat(seed + 2, 1, n, True)[0]
    np.testing.assert_allclose((A + B) @ x, A @ x + B @ x, atol=1e-10)
    np.testing.assert_allclose((c * A) @ x, c * (A @ x), atol=1e-9)
    np.testing.assert_allclose((A - B) @ x, A @ x - B @ x, atol=1e-10)
    y = _mat(seed + 3, 1, m, True)[0]
    np.testing.assert_allclose((c * A).H @ y, np.conj(c) * (A.H @ y), atol=1e-9)


@given(seed=st.integers(0, 10_000), batch=st.lists(st.integers(1, 3), min_size=1, max_size=2))
def test_batching_equals_loop(seed, batch):
    A = FFT((8, 4), axes=(0,)).H @ (2.0 * Wavelet((8, 4), "haar", level=1))
    X = np.random.default_rng(seed).standard_normal((*batch, 8, 4))
    Y = A @ X
    flat = X.reshape(-1, 8, 4)
    ref = np.stack([A @ xi for xi in flat]).reshape(Y.shape)
    np.testing.assert_allclose(Y, ref, atol=1e-12)


def test_scaling_by_numpy_scalars():
    # np.complex64 is not a Python ``complex``: the scaled operator must still be complex and
    # conjugate the scale in its adjoint; a NumPy float64 scale must keep float32 inputs float32.
    A = MatrixOperator(_mat(0, 3, 2, False))
    y = _mat(1, 1, 3, True)[0]
    S = A * np.complex64(2j)
    assert S.is_complex
    np.testing.assert_allclose(S.H @ y, -2j * (A.H @ y), atol=1e-6)
    x32 = np.ones(2, dtype=np.float32)
    assert (A * np.float64(3.0) @ x32).dtype == np.float32
    assert (np.complex128(1j) * A @ x32).dtype == np.complex64


def test_column_norms_rejects_bad_batch():
    # the probing batch was clamped silently (batch=0 or -3 ran with batch=1)
    import pytest

    from csbox.operators import Identity

    for bad in (0, -3):
        with pytest.raises(ValueError, match="batch"):
            Identity(3).H.column_norms(batch=bad)
    np.testing.assert_allclose(Identity(3).H.column_norms(batch=2), np.ones(3))
