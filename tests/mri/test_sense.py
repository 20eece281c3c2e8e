"""The SENSE operator: adjoint, normal operator, agreement with per-coil PartialFourier, batching."""

import numpy as np
import pytest

from csbox.mri import Sense
from csbox.operators import PartialFourier, Wavelet
from csbox.testing import dottest


def _maps(shape, n_coils=4, n_maps=None, seed=0):
    rng = np.random.default_rng(seed)
    lead = (n_coils,) if n_maps is None else (n_maps, n_coils)
    return rng.standard_normal((*lead, *shape)) + 1j * rng.standard_normal((*lead, *shape))


def _mask(shape, seed=1, p=0.4):
    return np.random.default_rng(seed).random(shape) < p


@pytest.mark.parametrize("shape", [(16, 12), (15, 12), (7, 9, 4)])
def test_dottest_every_backend(backend, shape):
    # the fast path (even sizes: modulations instead of shifts) and the shifted path (odd sizes)
    A = Sense(backend.asarray(_maps(shape)), _mask(shape))
    dottest(A, xp=backend.xp, device=backend.device, dtype=backend.real, batch=(2,))
    dottest(A.normal(), xp=backend.xp, device=backend.device, dtype=backend.real)


def test_dottest_multimap_frames_and_compositions(backend):
    shape = (8, 10)
    frames_mask = _mask((3, *shape))
    A = Sense(_maps(shape, n_maps=2), frames_mask, ndim=2)
    assert A.ishape == (3, 2, *shape) and A.oshape == (3, 4, *shape)
    kw = {"xp": backend.xp, "device": backend.device, "dtype": backend.real}
    dottest(A, **kw)
    W = Wavelet(A.ishape, "db2", level=1, axes=(-2, -1))
    dottest(A @ W.H, **kw)
    dottest(2.0 * A.normal() + A.H @ A, **kw)


def test_normal_matches_adjoint_of_forward(backend):
    for shape, mask in (((16, 12), _mask((16, 12))), ((9, 12), _mask((9, 12))), ((16, 12), None)):
        A = Sense(_maps(shape), mask)
        x = backend.randn(shape, complex=True, seed=3)
        got, ref = A.normal() @ x, A.H @ (A @ x)
        err = float(np.linalg.norm(_np(got - ref)))
        # same arithmetic up to rounding: rtol of the working precision times a few FFT passes
        assert err <= 10 * backend.rtol * float(np.linalg.norm(_np(ref))), (shape, mask is None)


def _np(a):
    from csbox.backend import to_numpy

    return to_numpy(a)


@pytest.mark.parametrize("shape", [(16, 12), (15, 11)])
def test_forward_is_partial_fourier_per_coil(shape):
    maps, mask = _maps(shape), _mask(shape)
    x = _maps(shape, n_coils=1, seed=5)[0]
    P = PartialFourier(shape, mask, centered=True)
    y = Sense(maps, mask) @ x
    for c in range(maps.shape[0]):
        kc = np.zeros(shape, complex)
        kc[mask] = P @ (maps[c] * x)
        # orthonormal centred DFTs computed two ways: equal to double-precision rounding
        np.testing.assert_allclose(y[c], kc, atol=1e-12 * np.abs(kc).max())
    ref = np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(maps * x, axes=(-2, -1)), axes=(-2, -1), norm="ortho"),
                          axes=(-2, -1)) * mask
    np.testing.assert_allclose(y, ref, atol=1e-12 * np.abs(ref).max())


def test_batch_and_frames_broadcast():
    shape = (8, 8)
    maps = _maps(shape)
    masks = _mask((2, *shape))
    A = Sense(maps, masks)
    x = _maps((2, *shape), n_coils=3)  # (3 slices, 2 frames, 8, 8)
    y = A @ x
    assert y.shape == (3, 2, 4, *shape)
    for f in range(2):
        np.testing.assert_allclose(y[1, f], Sense(maps, masks[f]) @ x[1, f], atol=1e-12)


def test_multimap_is_sum_over_maps():
    shape = (8, 6)
    maps = _maps(shape, n_maps=2)
    mask = _mask(shape)
    x = _maps(shape, n_coils=2, seed=9)
    y = Sense(maps, mask, ndim=2) @ x
    np.testing.assert_allclose(y, Sense(maps[0], mask) @ x[0] + Sense(maps[1], mask) @ x[1], atol=1e-12)


def test_fully_sampled_normal_is_pointwise():
    shape = (8, 6)
    maps = _maps(shape)
    x = _maps(shape, n_coils=1, seed=2)[0]
    A = Sense(maps)
    np.testing.assert_allclose(A.normal() @ x, np.sum(np.abs(maps) ** 2, 0) * x, atol=1e-12)
    assert A.acceleration == 1.0


def test_precision_follows_input():
    A = Sense(_maps((8, 8)), _mask((8, 8)))
    y = A @ np.ones((8, 8), np.complex64)
    assert y.dtype == np.complex64 and (A.H @ y).dtype == np.complex64
    assert (A @ np.ones((8, 8), np.float32)).dtype == np.complex64


def test_validation():
    maps = _maps((8, 8))
    with pytest.raises(ValueError, match="coords"):
        Sense(maps, _mask((8, 8)), coords=np.zeros((10, 2)))  # Cartesian or non-Cartesian, not both
    with pytest.raises(ValueError, match="mask has shape"):
        Sense(maps, np.ones((8, 7), bool))
    with pytest.raises(ValueError, match="samples nothing"):
        Sense(maps, np.zeros((8, 8), bool))
    with pytest.raises(TypeError, match="mask"):
        Sense(maps, np.full((8, 8), 0.5))
    with pytest.raises(ValueError, match="maps has shape"):
        Sense(_maps((8, 8), n_maps=2), ndim=1)
    with pytest.raises(ValueError, match="NaN"):
        Sense(np.full((2, 4, 4), np.nan))
    with pytest.raises(ValueError, match="expected"):
        Sense(maps) @ np.ones((8, 7))
    assert "Sense 4 coils" in repr(Sense(maps, _mask((8, 8))))


def test_lipschitz_bound():
    from csbox.linop import LinearOperator

    maps = _maps((16, 12))
    mask = _mask((16, 12), p=0.6)
    for A in (Sense(maps, mask), Sense(maps), Sense(_maps((16, 12), n_maps=2), mask, ndim=2)):
        est = LinearOperator.lipschitz(A, max_iter=500, tol=1e-10)
        # an upper bound of lambda_max(A^H A) (power iteration approaches it from below)
        assert A.lipschitz() >= est * (1 - 1e-8)
    A = Sense(maps)
    # fully sampled, one map: the bound is the exact max_r sum_c |S_c(r)|^2
    assert abs(A.lipschitz() - LinearOperator.lipschitz(A, max_iter=2000, tol=1e-12)) < 0.05 * A.lipschitz()


def test_coil_batch_matches_all_coils(backend):
    # coil batches of 3 of 7 coils (uneven last batch): forward, adjoint and normal equal the unbatched ones
    for shape in ((16, 12), (9, 12)):
        maps, mask = _maps(shape, n_coils=7), _mask(shape)
        A, B = Sense(maps, mask), Sense(maps, mask, coil_batch=3)
        x = backend.randn(shape, complex=True, seed=4)
        y = A @ x
        for got, ref in ((B @ x, y), (B.H @ y, A.H @ y), (B.normal() @ x, A.normal() @ x)):
            err = float(np.linalg.norm(_np(got - ref)))
            assert err <= 10 * backend.rtol * float(np.linalg.norm(_np(ref)))
        dottest(B, xp=backend.xp, device=backend.device, dtype=backend.real)
    with pytest.raises(ValueError, match="coil_batch"):
        Sense(_maps((8, 8)), coil_batch=0)
