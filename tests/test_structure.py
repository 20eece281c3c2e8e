"""The 0.2 base: scatter by a gather, the sparse matrix, the one cache, metrics, patches and test signals."""

import numpy as np
import pytest

from csbox._sparse import Scatter, SparseMatrix, scatter, topk_indices
from csbox.backend import ArrayCache, to_numpy
from csbox.dictionary import assemble_patches, dct_dictionary, extract_patches
from csbox.metrics import nmse_db, psnr, support_recovery, to_db
from csbox.phantoms import lines_and_circles
from csbox.sparse_wht import sparse_wht_signal


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scatter_matches_numpy_setitem(backend, axis):
    rng = np.random.default_rng(0)
    v = rng.standard_normal((3, 4, 5))
    n = 9
    idx = rng.choice(n, v.shape[axis], replace=False)
    ref = np.full(tuple(n if a == axis % 3 else s for a, s in enumerate(v.shape)), -2.0)
    sl = [slice(None)] * 3
    sl[axis] = idx
    ref[tuple(sl)] = v
    out = scatter(backend.asarray(v), idx, n, axis=axis, fill=-2.0)
    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-6)
    assert out.dtype == backend.asarray(v).dtype


def test_scatter_rejects_bad_index():
    with pytest.raises(ValueError, match="distinct"):
        Scatter(np.array([1, 1]), 4)
    with pytest.raises(ValueError, match=r"lie in \[0, 4\)"):
        Scatter(np.array([4]), 4)
    with pytest.raises(TypeError, match="1-D integer"):
        Scatter(np.array([0.5]), 4)
    with pytest.raises(ValueError, match="size must be an int >= len"):
        Scatter(np.arange(3), 2)
    with pytest.raises(ValueError, match="expected 2"):
        Scatter(np.arange(2), 4)(np.zeros(3))


def test_sparse_matrix_sums_duplicates_like_scipy(backend):
    import scipy.sparse

    rows = np.array([0, 2, 2, 1, 0])
    cols = np.array([1, 3, 3, 0, 1])
    vals = np.array([1.0, 2.0, 3.0, -1.0, 0.5])
    ref = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(3, 4)).toarray()
    v = np.arange(4.0)
    S = SparseMatrix.from_host(rows, cols, vals, (3, 4), like=backend.asarray(v), dtype=backend.real)
    np.testing.assert_allclose(to_numpy(S.matvec(backend.asarray(v))), ref @ v, rtol=1e-6)
    w = np.arange(3.0)
    np.testing.assert_allclose(to_numpy(S.rmatvec(backend.asarray(w))), ref.T @ w, rtol=1e-6)


def test_topk_indices(backend):
    x = np.random.default_rng(1).permutation(50).astype(float)
    idx = np.sort(to_numpy(topk_indices(backend.asarray(x), 7)))
    np.testing.assert_array_equal(idx, np.sort(np.argsort(x)[-7:]))


def test_array_cache_builds_once_per_namespace_and_dtype():
    calls = []

    def build(x, dtype):
        calls.append(dtype)
        return np.ones(2, dtype=dtype)

    c = ArrayCache(build=build)
    x = np.zeros(3)
    assert c.like(x, np.float32).dtype == np.float32 and c.like(x, np.float32) is c.like(x, np.float32)
    c.like(x, np.float64)
    assert calls == [np.float32, np.float64]
    with pytest.raises(TypeError, match="exactly one of value or build"):
        ArrayCache()
    S = SparseMatrix.cache(np.array([0]), np.array([1]), np.array([2.0]), (2, 2))
    assert S.like(x, x.dtype) is S.like(x, x.dtype)


def test_metrics_against_definitions():
    ref = np.array([[0.0, 1.0], [0.5, 0.25]])
    x = ref + np.array([[0.1, 0.0], [0.0, -0.1]])
    mse = 0.02 / 4
    assert psnr(x, ref) == pytest.approx(10 * np.log10(1.0 / mse))
    assert psnr(-x, ref) == pytest.approx(psnr(x, ref))  # magnitudes by default
    assert psnr(-x, ref, magnitude=False) < psnr(x, ref)
    assert psnr(x, ref, peak=2.0) == pytest.approx(10 * np.log10(4.0 / mse))
    assert psnr(ref, ref) == np.inf
    assert nmse_db(x, ref) == pytest.approx(10 * np.log10(0.02 / np.sum(ref**2)))
    assert support_recovery(np.array([0, 1.0, 1e-5, 2.0]), np.array([0, 3.0, 0, 0])) == 0.5
    np.testing.assert_allclose(to_db(np.array([1.0, 0.1])), [0.0, -20.0], atol=1e-9)
    with pytest.raises(ValueError, match="shape"):
        psnr(x[0], ref)
    with pytest.raises(ValueError, match="finite"):
        nmse_db(x * np.nan, ref)
    with pytest.raises(ValueError, match="all zero"):
        nmse_db(x, 0 * ref)


def test_patches_round_trip_and_dct_is_orthonormal():
    img = np.random.default_rng(0).random((20, 17))
    P, pos = extract_patches(img, 5, 3)
    np.testing.assert_array_equal(P[1], img[0:5, 3:8].ravel())
    covered = assemble_patches(P, pos, img.shape, 5)
    m = assemble_patches(np.ones_like(P), pos, img.shape, 5) > 0
    np.testing.assert_allclose(covered[m], img[m])
    for D in (dct_dictionary(8), dct_dictionary(16, ndim=1)):
        np.testing.assert_allclose(D.T @ D, np.eye(D.shape[0]), atol=1e-12)
    with pytest.raises(ValueError, match="size must be <="):
        extract_patches(img, 30)
    # positions outside the image were a numpy broadcast error (or wrapped round for negative ones)
    for bad in ([(16, 0)], [(0, -1)]):
        with pytest.raises(ValueError, match="not inside an image"):
            assemble_patches(P[:1], bad, img.shape, 5)


def test_camera_crop_size_is_checked():
    from csbox.phantoms import camera

    pytest.importorskip("pywt")
    with pytest.raises(TypeError, match="n must be an int"):  # was a slicing TypeError
        camera(100.5)
    with pytest.raises(ValueError, match="n must be <= 512"):
        camera(513)


def test_sparse_wht_signal_has_the_stated_spectrum():
    from scipy.linalg import hadamard

    fn, supp, vals = sparse_wht_signal(6, 5, seed=3)
    x = fn(np.arange(64, dtype=np.int64))
    X = hadamard(64) @ x / 8.0  # orthonormal WHT (Sylvester order = bit inner products)
    np.testing.assert_allclose(X[supp], vals, atol=1e-12)
    assert np.count_nonzero(np.abs(X) > 1e-9) == 5


def test_lines_and_circles():
    imgs = lines_and_circles(3, 32, seed=0)
    assert imgs.shape == (3, 32, 32) and imgs.min() >= 0 and imgs.max() <= 1 and imgs.max() >= 0.5
    np.testing.assert_array_equal(imgs, lines_and_circles(3, 32, seed=0))
