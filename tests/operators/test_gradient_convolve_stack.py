"""Gradient, Convolve and the block operators: adjoints on every backend, references from NumPy/SciPy."""

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from csbox.backend import array_namespace, to_numpy
from csbox.operators import (
    FFT,
    BlockDiag,
    Convolve,
    Diagonal,
    Gradient,
    HStack,
    Identity,
    MatrixOperator,
    VStack,
)
from csbox.testing import dottest


def _ops():
    rng = np.random.default_rng(0)
    return [
        Gradient((6, 7)),
        Gradient((4, 5, 6), axes=(0, 2)),
        Gradient((6, 7), boundary="periodic"),
        Gradient((1, 5)),
        Convolve(rng.standard_normal((3, 4)), (2, 8, 9), "same"),
        Convolve(rng.standard_normal((3, 3)), (8, 9), "periodic"),
        Convolve(rng.standard_normal(5) + 1j * rng.standard_normal(5), (3, 16), "periodic"),
        VStack([Gradient((5, 6)), Identity((5, 6)), FFT((5, 6))]),
        HStack([Identity(4), MatrixOperator(rng.standard_normal((4, 3)))]),
        BlockDiag([Gradient((4, 4)), FFT((3, 3)), Diagonal(rng.standard_normal(5))]),
    ]


@pytest.mark.parametrize("i", range(10))
def test_dottest_every_backend(backend, i):
    """<Ax, y> = <x, A^H y> and normal() = A^H A, batched, on every backend."""
    A = _ops()[i]
    dottest(A, xp=backend.xp, device=backend.device, dtype=backend.real, batch=(2,))
    N = A.normal()
    dottest(N, xp=backend.xp, device=backend.device, dtype=backend.real)
    x = backend.randn((2, *A.ishape), complex=A.is_complex, seed=1)
    got, ref = N @ x, A.H @ (A @ x)
    assert array_namespace(got) is backend.xp
    # same products in another order: rounding of a few ulps times ||A||^2
    scale = np.abs(to_numpy(ref)).max()
    np.testing.assert_allclose(to_numpy(got), to_numpy(ref), atol=50 * backend.rtol * scale)


def test_gradient_matches_numpy_diff():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 7))
    g = Gradient(x.shape) @ x
    assert g.shape == (3, 5, 6, 7)
    for a in range(3):
        ref = np.diff(x, axis=a, append=np.take(x, [-1], axis=a))  # Neumann: zero at the far edge
        np.testing.assert_array_equal(g[a], ref)
    gp = Gradient(x.shape, axes=1, boundary="periodic") @ x
    np.testing.assert_array_equal(gp[0], np.roll(x, -1, axis=1) - x)
    # batch axes in front pass through
    xb = rng.standard_normal((3, 5, 6))
    np.testing.assert_array_equal((Gradient((5, 6)) @ xb)[1], Gradient((5, 6)) @ xb[1])


def test_gradient_adjoint_is_negative_divergence_and_norm():
    """D^T D is the Neumann negative Laplacian; ||D||^2 < 4 ndim, -> 4 ndim as n grows."""
    n = 9
    D1 = np.diff(np.eye(n), axis=0, append=np.zeros((0, n)))
    D1 = np.vstack([D1, np.zeros((1, n))])  # last difference is zero
    L = D1.T @ D1  # tridiagonal [1, -1; -1, 2, -1; ...; -1, 1]
    assert L[0, 0] == 1 and L[-1, -1] == 1 and L[4, 4] == 2
    G = Gradient((n,))
    x = np.random.default_rng(2).standard_normal(n)
    np.testing.assert_allclose(G.normal() @ x, L @ x, atol=1e-14)
    G2 = Gradient((64, 64))
    lip = G2.lipschitz(max_iter=500, tol=1e-10)
    assert 7.9 < lip <= G2.norm_bound


def test_convolve_matches_scipy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 9, 11))
    for shape in [(3, 5), (4, 4), (1, 1)]:
        k = rng.standard_normal(shape)
        same = Convolve(k, x.shape, "same") @ x
        for b in range(2):
            np.testing.assert_allclose(same[b], scipy.signal.fftconvolve(x[b], k, "same"), atol=1e-12)
    k = rng.standard_normal((3, 5))
    per = Convolve(k, (9, 11), "periodic") @ x[0]
    np.testing.assert_allclose(per, scipy.ndimage.convolve(x[0], k, mode="wrap"), atol=1e-12)
    # complex kernel on a real image: complex output
    kc = k + 1j * rng.standard_normal(k.shape)
    out = Convolve(kc, (9, 11), "same") @ x[0]
    np.testing.assert_allclose(out, scipy.signal.fftconvolve(x[0], kc, "same"), atol=1e-12)


def test_stacks_match_dense_blocks():
    rng = np.random.default_rng(4)
    M1, M2 = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    V = VStack([MatrixOperator(M1), MatrixOperator(M2)])
    x = rng.standard_normal(4)
    np.testing.assert_allclose(V @ x, np.vstack([M1, M2]) @ x)
    y1, y2 = V.split(V @ x)
    np.testing.assert_allclose(y1, M1 @ x)
    np.testing.assert_allclose(V.join([y1, y2]), V @ x)
    H = HStack([MatrixOperator(M1.T), MatrixOperator(M2.T)])
    z = rng.standard_normal(8)
    np.testing.assert_allclose(H @ z, np.hstack([M1.T, M2.T]) @ z)
    B = BlockDiag([MatrixOperator(M1), MatrixOperator(M2)])
    dense = np.zeros((8, 8))
    dense[:3, :4], dense[3:, 4:] = M1, M2
    np.testing.assert_allclose(B @ z, dense @ z)
    np.testing.assert_allclose(B.H @ (B @ z), B.normal() @ z)


def test_bad_input():
    with pytest.raises(ValueError, match="boundary"):
        Gradient((4, 4), boundary="zero")
    with pytest.raises(ValueError, match="axes"):
        Gradient((4, 4), axes=(0, 0))
    with pytest.raises(ValueError, match="axis 3"):
        Gradient((4, 4), axes=3)
    with pytest.raises(TypeError, match="shape"):
        Gradient((4.0, 4))
    with pytest.raises(ValueError, match="mode"):
        Convolve(np.ones(3), (8,), "valid")
    with pytest.raises(ValueError, match="larger"):
        Convolve(np.ones(9), (8,), "periodic")
    with pytest.raises(ValueError, match="NaN"):
        Convolve(np.array([1.0, np.nan]), (8,))
    with pytest.raises(ValueError, match="kernel"):
        Convolve(np.ones((2, 2, 2)), (8, 8))
    with pytest.raises(ValueError, match="input shapes differ"):
        VStack([Identity(3), Identity(4)])
    with pytest.raises(ValueError, match="output shapes differ"):
        HStack([Identity(3), Identity(4)])
    with pytest.raises(TypeError, match="ops"):
        BlockDiag(Identity(3))
    with pytest.raises(ValueError, match="empty"):
        VStack([])
    with pytest.raises(ValueError, match="expected"):
        Gradient((4, 4)) @ np.ones((4, 5))
