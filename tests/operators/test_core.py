"""Core operators on every backend: adjoints, NumPy/SciPy/PyWavelets references, precision, device."""

import numpy as np
import pytest
import pywt
import scipy.linalg

from csbox.backend import array_namespace, device, to_numpy
from csbox.operators import (
    FFT,
    Diagonal,
    Hadamard,
    Identity,
    Kronecker,
    MatrixOperator,
    PartialFourier,
    Restriction,
    Wavelet,
)
from csbox.sampling import uniform_random
from csbox.testing import dottest

RNG = np.random.default_rng(1234)


def _ops():
    mask = uniform_random((16, 8), acceleration=3, seed=1, centered=False)
    return {
        "matrix-real": MatrixOperator(RNG.standard_normal((7, 5))),
        "matrix-complex": MatrixOperator(RNG.standard_normal((7, 5)) + 1j * RNG.standard_normal((7, 5))),
        "identity": Identity((3, 4)),
        "diagonal": Diagonal(RNG.standard_normal((4, 3)) + 1j),
        "fft": FFT((8, 6, 4), axes=(0, 2)),
        "fft-centered": FFT((8, 6), centered=True),
        "fft-backward": FFT((8,), norm="backward"),
        "partial-fourier": PartialFourier((16, 8), mask),
        "partial-fourier-axes": PartialFourier((3, 16, 8), mask, axes=(1, 2), centered=True),
        "kron2": Kronecker(RNG.standard_normal((3, 4)), RNG.standard_normal((5, 2))),
        "kron3-complex": Kronecker(
            RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3)),
            RNG.standard_normal((3, 3)),
            FFT((4,)),
        ),
        "wavelet-1d": Wavelet((32,), "db2"),
        "wavelet-2d": Wavelet((16, 32), "db4", level=2),
        "wavelet-3d": Wavelet((8, 8, 16), "haar"),
        "hadamard": Hadamard(64),
        "restriction": Restriction((5, 6), np.array([0, 7, 3, 29])),
        "composed": FFT((16, 8)).H @ PartialFourier((16, 8), mask).H,
        "sum-scaled": 2.0 * Wavelet((16, 16), "haar") - (1 + 2j) * FFT((16, 16)),
    }


OPS = _ops()


@pytest.mark.parametrize("name", list(OPS))
def test_dottest_every_backend(name, backend):
    A = OPS[name]
    dottest(A, xp=backend.xp, device=backend.device, dtype=backend.real)


@pytest.mark.parametrize("name", list(OPS))
def test_output_namespace_device_precision(name, backend):
    A = OPS[name]
    x = backend.randn(A.ishape, complex=A.is_complex, seed=2)
    y = A @ x
    xp = backend.xp
    assert array_namespace(y).__name__ == array_namespace(x).__name__
    assert str(device(y)) == str(device(x))
    expected = backend.complex if (A.is_complex or xp.isdtype(x.dtype, "complex floating")) else backend.real
    assert y.dtype == expected
    ref = A @ to_numpy(x).astype(np.complex128 if A.is_complex else np.float64)
    np.testing.assert_allclose(to_numpy(y), ref, rtol=backend.rtol * 10, atol=backend.rtol * 10)


@pytest.mark.parametrize("name", ["fft", "wavelet-2d", "kron2", "partial-fourier-axes", "hadamard"])
def test_batching_equals_loop(name, backend):
    A = OPS[name]
    X = backend.randn((3, 2, *A.ishape), complex=True, seed=3)
    Y = A @ X
    Xn = to_numpy(X)
    for i in range(3):
        for j in range(2):
            np.testing.assert_allclose(to_numpy(Y)[i, j], A @ Xn[i, j], rtol=1e-4, atol=1e-4)


def test_fft_matches_numpy():
    x = RNG.standard_normal((8, 6, 4)) + 1j * RNG.standard_normal((8, 6, 4))
    np.testing.assert_allclose(FFT(x.shape, axes=(0, 2)) @ x, np.fft.fftn(x, axes=(0, 2), norm="ortho"))
    np.testing.assert_allclose(FFT(x.shape, norm="backward") @ x, np.fft.fftn(x))
    c = FFT(x.shape, centered=True) @ x
    np.testing.assert_allclose(c, np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(x), norm="ortho")))
    # real input is promoted to complex of the same precision
    assert (FFT((8,)) @ np.ones(8, dtype=np.float32)).dtype == np.complex64


@pytest.mark.parametrize("factors", [2, 3])
@pytest.mark.parametrize("cplx", [False, True])
def test_kronecker_matches_numpy_kron(factors, cplx):
    shapes = [(3, 4), (2, 5), (4, 2)][:factors]
    mats = [RNG.standard_normal(s) + (1j * RNG.standard_normal(s) if cplx else 0) for s in shapes]
    K = mats[0]
    for m in mats[1:]:
        K = np.kron(K, m)
    A = Kronecker(*mats)
    x = RNG.standard_normal(K.shape[1]) + 1j * RNG.standard_normal(K.shape[1])
    y = RNG.standard_normal(K.shape[0])
    np.testing.assert_allclose(A @ x, K @ x, rtol=1e-12)
    np.testing.assert_allclose(A.H @ y, K.conj().T @ y, rtol=1e-12)
    np.testing.assert_allclose(A.normal() @ x, K.conj().T @ (K @ x), rtol=1e-12)


@pytest.mark.parametrize("wavelet", ["haar", "db2", "db4", "sym4", "coif2"])
@pytest.mark.parametrize("shape,level", [((64,), 3), ((32, 64), 2), ((16, 16, 32), 1)])
def test_wavelet_matches_pywt(wavelet, shape, level):
    x = RNG.standard_normal(shape)
    W = Wavelet(shape, wavelet, level=level)
    ref, _ = pywt.coeffs_to_array(pywt.wavedecn(x, wavelet, mode="periodization", level=level))
    c = W @ x
    np.testing.assert_allclose(c, ref, atol=1e-12)
    np.testing.assert_allclose(W.H @ c, x, atol=1e-10)  # perfect reconstruction
    np.testing.assert_allclose(np.linalg.norm(c), np.linalg.norm(x), rtol=1e-12)  # orthonormal


def test_wavelet_inverse_matches_waverecn():
    x = RNG.standard_normal((32, 32))
    W = Wavelet(x.shape, "db4", level=2)
    coeffs = pywt.wavedecn(x, "db4", mode="periodization", level=2)
    arr, slices = pywt.coeffs_to_array(coeffs)
    arr2 = RNG.standard_normal(arr.shape)
    coeffs2 = pywt.array_to_coeffs(arr2, slices, output_format="wavedecn")
    ref = pywt.waverecn(coeffs2, "db4", mode="periodization")
    np.testing.assert_allclose(W.H @ arr2, ref, atol=1e-12)


def test_wavelet_default_level():
    assert Wavelet((256, 256), "db4").level == pywt.dwt_max_level(256, 8)
    assert Wavelet((96, 64), "haar").level == 5


@pytest.mark.parametrize("n", [1, 2, 16, 256])
def test_hadamard_matches_scipy(n):
    x = RNG.standard_normal((2, n))
    H = scipy.linalg.hadamard(n) / np.sqrt(n)
    np.testing.assert_allclose(Hadamard(n) @ x, x @ H.T, atol=1e-12)
    np.testing.assert_allclose(Hadamard(n) @ (Hadamard(n) @ x), x, atol=1e-12)


def test_partial_fourier_normal_and_zero_fill():
    mask = uniform_random((16, 12), acceleration=2.5, seed=0)
    A = PartialFourier((16, 12), mask, centered=True)
    x = RNG.standard_normal((16, 12)) + 1j * RNG.standard_normal((16, 12))
    np.testing.assert_allclose(A.normal() @ x, A.H @ (A @ x), atol=1e-12)
    k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))
    np.testing.assert_allclose(A @ x, k[mask], atol=1e-12)
    assert A.oshape == (int(mask.sum()),)
    assert A.lipschitz() == pytest.approx(1.0, rel=1e-6)


def test_partial_fourier_normal_every_backend(backend):
    mask = uniform_random((16, 12), acceleration=2.5, seed=0)
    A = PartialFourier((16, 12), mask)
    x = backend.randn((2, 16, 12), complex=True, seed=5)
    np.testing.assert_allclose(
        to_numpy(A.normal() @ x), to_numpy(A.H @ (A @ x)), atol=backend.rtol * 10
    )


def test_mask_given_in_input_namespace(backend):
    mask_np = uniform_random((8, 8), acceleration=2, seed=3)
    mask = backend.asarray(mask_np)
    A = PartialFourier((8, 8), mask)
    x = backend.randn((8, 8), complex=True)
    np.testing.assert_allclose(to_numpy(A @ x), PartialFourier((8, 8), mask_np) @ to_numpy(x), atol=1e-4)


def test_lipschitz_matches_spectral_norm():
    M = RNG.standard_normal((30, 20))
    A = MatrixOperator(M)
    assert A.lipschitz(max_iter=500, tol=1e-12) == pytest.approx(np.linalg.norm(M, 2) ** 2, rel=1e-6)
    assert A.lipschitz(max_iter=500, tol=1e-12) is A.lipschitz(max_iter=500, tol=1e-12)  # cached


def test_to_scipy():
    M = RNG.standard_normal((6, 4)) + 1j * RNG.standard_normal((6, 4))
    S = MatrixOperator(M).to_scipy()
    v = RNG.standard_normal(4)
    np.testing.assert_allclose(S @ v, M @ v)
    np.testing.assert_allclose(S.H @ np.ones(6), M.conj().T @ np.ones(6))
    W = Wavelet((8, 8), "haar").to_scipy()
    assert W.shape == (64, 64)
    np.testing.assert_allclose(W.matmat(np.eye(64)).T @ W.matmat(np.eye(64)), np.eye(64), atol=1e-12)


def test_repr_shows_shapes():
    assert "(7,) <- (5,)" in repr(OPS["matrix-real"])
    assert "db4" in repr(OPS["wavelet-2d"])


@pytest.mark.parametrize(
    "shape,wavelet,level,batch",
    [((256, 96), "db4", 3, 1), ((200,), "coif2", 2, 1), ((68,), "sym4", 2, 1), ((128, 80), "db2", 2, 2)],
)
def test_wavelet_blocked_and_strided_paths_match_pywt(shape, wavelet, level, batch):
    """Long axes take the blocked path (blocks of 16 or 8: 256, 96, 200, 128, 80) or the strided one (68)."""
    x = RNG.standard_normal((batch, *shape)) + 1j * RNG.standard_normal((batch, *shape))
    W = Wavelet(shape, wavelet, level=level)
    c = W @ x
    for i in range(batch):
        ref, _ = pywt.coeffs_to_array(pywt.wavedecn(x[i], wavelet, mode="periodization", level=level))
        # the same sums of L products per coefficient in another order: round-off ~1e-15 per level
        np.testing.assert_allclose(c[i], ref, atol=1e-12)
    np.testing.assert_allclose(W.H @ c, x, atol=1e-12)


def test_wavelet_blocked_path_every_backend(backend):
    W = Wavelet((128, 96), "db4", level=2)
    x = backend.randn((128, 96), complex=True, seed=3)
    ref = W @ to_numpy(x)
    c = W @ x
    assert array_namespace(c) is array_namespace(x) and str(device(c)) == str(device(x))
    np.testing.assert_allclose(to_numpy(c), ref, atol=backend.rtol * 10)
    np.testing.assert_allclose(to_numpy(W.H @ c), to_numpy(x), atol=backend.rtol * 10)


@pytest.mark.parametrize("name", list(OPS))
def test_column_norms_match_dense(name):
    """``A.column_norms()`` (closed forms for diagonal, matrix, Fourier, Kronecker; probing otherwise)
    equals the column norms of the dense matrix built column by column; exact up to rounding."""
    A = OPS[name]
    n = int(np.prod(A.ishape))
    eye = np.eye(n).reshape(n, *A.ishape)
    dense = np.stack([np.ravel(to_numpy(A @ e)) for e in eye], axis=1)
    expected = np.linalg.norm(dense, axis=0)
    np.testing.assert_allclose(np.ravel(A.column_norms()), expected, rtol=1e-12, atol=1e-12)
