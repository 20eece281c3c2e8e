"""Wavelet fast paths (dense short levels, blocked long levels, complex as real pairs) against PyWavelets."""

import threading

import numpy as np
import pytest
import pywt
from hypothesis import given, settings
from hypothesis import strategies as st

from csbox.backend import array_namespace, as_real_pairs, device, from_real_pairs, to_numpy
from csbox.operators import Wavelet
from csbox.testing import dottest

RNG = np.random.default_rng(21)


def _pywt_coeffs(x, wavelet, level, axes=None):
    return pywt.coeffs_to_array(pywt.wavedecn(x, wavelet, mode="periodization", level=level, axes=axes),
                                axes=axes)[0]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(256, 256), (512, 512), (128, 96), (64, 256)])
def test_fast_path_matches_pywt(shape, dtype):
    """db4 level 4: blocked levels (256, 128, 96), dense ones (<= 64), both complex precisions."""
    x = (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)
    W = Wavelet(shape, "db4", level=4 if min(shape) >= 128 else 3)
    ref = _pywt_coeffs(x.astype(np.complex128), "db4", W.level)
    c = W @ x
    assert c.dtype == dtype and c.shape == shape
    # each coefficient is a sum of ~L * level products of O(1) terms: round-off ~eps * 1e2 in the
    # working precision (pywt runs in float64 here)
    tol = 1e-4 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(c, ref, atol=tol * 10)
    back = W.H @ c
    np.testing.assert_allclose(back, x, atol=tol * 10)
    ref_back = pywt.waverecn(pywt.array_to_coeffs(c.astype(np.complex128),
                                                  pywt.coeffs_to_array(pywt.wavedecn(
                                                      x, "db4", mode="periodization", level=W.level))[1],
                                                  output_format="wavedecn"), "db4", mode="periodization")
    np.testing.assert_allclose(back, ref_back, atol=tol * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_real_input_and_batch_axes(dtype):
    x = RNG.standard_normal((3, 96, 80)).astype(dtype)
    W = Wavelet((96, 80), "sym4", level=2)
    c = W @ x
    assert c.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for i in range(3):
        np.testing.assert_allclose(c[i], _pywt_coeffs(x[i].astype(np.float64), "sym4", 2), atol=tol)
    np.testing.assert_allclose(W.H @ c, x, atol=tol)


def test_axes_subset_and_noncontiguous_complex():
    """A strided complex view takes the copying real-pair path; axes=(0, 2) of a 3-d array."""
    base = RNG.standard_normal((64, 10, 128)) + 1j * RNG.standard_normal((64, 10, 128))
    x = base[:, ::2, :]
    W = Wavelet(x.shape, "db2", level=2, axes=(0, 2))
    ref = _pywt_coeffs(x, "db2", 2, axes=(0, 2))
    np.testing.assert_allclose(W @ x, ref, atol=1e-12)
    np.testing.assert_allclose(W.H @ (W @ x), x, atol=1e-12)


def test_long_filter_and_short_blocks():
    """coif5 (L = 30) on 8-sample blocks: windows wider than two blocks (the padded path)."""
    x = RNG.standard_normal((200, 72)) + 1j * RNG.standard_normal((200, 72))
    W = Wavelet(x.shape, "coif5", level=1)
    np.testing.assert_allclose(W @ x, _pywt_coeffs(x, "coif5", 1), atol=1e-12)
    np.testing.assert_allclose(W.H @ (W @ x), x, atol=1e-12)


def test_results_do_not_share_scratch_buffers():
    """NumPy windows live in reused buffers: results of earlier calls must stay intact."""
    W = Wavelet((128, 128), "db4", level=3)
    x1, x2 = RNG.standard_normal((2, 128, 128)) + 0j
    c1 = W @ x1
    c1_copy = c1.copy()
    c2 = W @ x2
    r1 = W.H @ c1
    W.H @ c2
    np.testing.assert_array_equal(c1, c1_copy)
    np.testing.assert_allclose(r1, x1, atol=1e-12)


def test_threads_give_the_same_results():
    W = Wavelet((128, 64), "db4", level=3)
    xs = [RNG.standard_normal((128, 64)) + 1j * RNG.standard_normal((128, 64)) for _ in range(4)]
    want = [W @ x for x in xs]
    got = [None] * 4

    def work(i):
        for _ in range(20):
            got[i] = W.H @ (W @ xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, g, c in zip(xs, got, want, strict=True):
        np.testing.assert_allclose(g, x, atol=1e-12)
        np.testing.assert_allclose(W @ x, c, atol=0)


@pytest.mark.parametrize(
    "shape,wavelet,level", [((256, 64), "db4", 3), ((96,), "sym4", 2), ((32, 16, 48), "haar", 2)]
)
def test_dottest_every_backend(backend, shape, wavelet, level):
    W = Wavelet(shape, wavelet, level=level)
    dottest(W, xp=backend.xp, device=backend.device, dtype=backend.real, batch=(2,))
    x = backend.randn(shape, complex=True, seed=1)
    c = W @ x
    assert array_namespace(c) is array_namespace(x) and str(device(c)) == str(device(x))
    ref = W @ to_numpy(x).astype(np.complex128)
    np.testing.assert_allclose(to_numpy(c), ref, atol=backend.rtol * 100)
    np.testing.assert_allclose(to_numpy(W.H @ c), to_numpy(x), atol=backend.rtol * 100)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), e0=st.integers(3, 7), e1=st.integers(3, 7),
       wavelet=st.sampled_from(["haar", "db2", "db4", "sym5", "coif1"]), level=st.integers(1, 3),
       cplx=st.booleans())
def test_perfect_reconstruction_property(seed, e0, e1, wavelet, level, cplx):
    """W^H W = I and ||W x|| = ||x|| (orthonormal) for any size divisible by 2**level."""
    rng = np.random.default_rng(seed)
    shape = (2**e0 * 3 if e0 % 2 else 2**e0, 2**e1)
    x = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if cplx else 0)
    W = Wavelet(shape, wavelet, level=level)
    c = W @ x
    # orthonormal maps in float64: round-off ~1e-15 per level and tap
    np.testing.assert_allclose(W.H @ c, x, atol=1e-11)
    np.testing.assert_allclose(np.linalg.norm(c), np.linalg.norm(x), rtol=1e-12)


def test_real_pairs_round_trip(backend):
    """``as_real_pairs`` / ``from_real_pairs`` (views on NumPy and torch, copies elsewhere) are exact."""
    x = backend.randn((3, 5, 4), complex=True, seed=2)
    r = as_real_pairs(x)
    assert tuple(r.shape) == (3, 5, 4, 2) and r.dtype == backend.real
    np.testing.assert_array_equal(to_numpy(r)[..., 0], to_numpy(x).real)
    np.testing.assert_array_equal(to_numpy(r)[..., 1], to_numpy(x).imag)
    back = from_real_pairs(r)
    assert back.dtype == backend.complex
    np.testing.assert_array_equal(to_numpy(back), to_numpy(x))
    # a strided input takes the copying path and gives the same pairs
    np.testing.assert_array_equal(to_numpy(as_real_pairs(x[:, ::2, :])), to_numpy(r)[:, ::2, :])
