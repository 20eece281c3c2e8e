"""NUFFT: exact NDFT agreement, centred-FFT convention, adjoints, engines, Toeplitz normal, autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest

from csbox._nufft_backend import have_finufft
from csbox.backend import array_namespace, to_numpy
from csbox.operators import NUFFT, PartialFourier
from csbox.testing import dottest

RNG = np.random.default_rng(7)
SHAPES = [(31,), (32,), (16, 23), (20, 12), (8, 9, 10), (6, 8, 5)]


def ndft_matrix(coords: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Dense non-uniform DFT ``E[j, r] = exp(-2 pi i k_j . (r - n//2) / n) / sqrt(N)`` (the oracle)."""
    grids = np.meshgrid(*[np.arange(n) - n // 2 for n in shape], indexing="ij")
    phase = sum(coords[:, a, None] * grids[a].reshape(1, -1) / shape[a] for a in range(len(shape)))
    return np.exp(-2j * np.pi * phase) / math.sqrt(math.prod(shape))


def random_coords(shape: tuple[int, ...], m: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(-n / 2, n / 2, m) for n in shape], axis=-1)


def crandn(*shape: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


ENGINES = ["generic"] + (["finufft"] if have_finufft() else [])


@pytest.mark.parametrize("impl", ENGINES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("eps", [1e-3, 1e-6, 1e-10])
def test_matches_exact_ndft(shape, eps, impl):
    k = random_coords(shape, 300, seed=len(shape))
    E = ndft_matrix(k, shape)
    x = crandn(*shape, seed=1)
    A = NUFFT(shape, k, eps=eps, impl=impl)
    y_ref = E @ x.reshape(-1)
    y = A @ x
    # the relative l2 error of both engines is measured at 0.2-1.5 eps (Beatty's KB rule, finufft's
    # ES kernel); 3 eps leaves room for the random points without letting a wrong kernel pass
    assert np.linalg.norm(y - y_ref) / np.linalg.norm(y_ref) < 3 * eps
    r = crandn(300, seed=2)
    xa_ref = (E.conj().T @ r).reshape(shape)
    xa = A.H @ r
    assert np.linalg.norm(xa - xa_ref) / np.linalg.norm(xa_ref) < 3 * eps


def test_default_accuracy_within_1e_5():
    shape = (24, 17)
    k = random_coords(shape, 500, seed=3)
    x = crandn(*shape, seed=4)
    for impl in ENGINES:
        y = NUFFT(shape, k, impl=impl) @ x
        ref = ndft_matrix(k, shape) @ x.reshape(-1)
        assert np.linalg.norm(y - ref) / np.linalg.norm(ref) <= 1e-5


@pytest.mark.parametrize("impl", ENGINES)
@pytest.mark.parametrize("shape", [(16, 16), (15, 10), (7, 8, 6)], ids=str)
def test_integer_coords_equal_centred_partial_fourier(shape, impl):
    mask = np.random.default_rng(5).random(shape) < 0.4
    k = np.argwhere(mask) - np.array(shape) // 2  # flat C order, as PartialFourier orders its output
    P = PartialFourier(shape, mask, centered=True)
    A = NUFFT(shape, k.astype(float), eps=1e-9, impl=impl)
    x = crandn(*shape, seed=6)
    y = P @ x
    assert np.linalg.norm(A @ x - y) / np.linalg.norm(y) < 3e-9
    assert np.linalg.norm(A.H @ y - P.H @ y) / np.linalg.norm(P.H @ y) < 3e-9


@pytest.mark.parametrize("shape", [(12,), (10, 7), (4, 5, 6)], ids=str)
def test_dottest_every_backend(shape, backend):
    k = random_coords(shape, 50, seed=8).reshape(5, 10, len(shape))
    A = NUFFT(shape, k, impl="generic")
    dottest(A, xp=backend.xp, device=backend.device, dtype=backend.real)
    dottest(A, xp=backend.xp, device=backend.device, dtype=backend.real, batch=(2, 3))


def test_generic_engine_same_on_every_backend(backend):
    shape = (16, 12)
    k = random_coords(shape, 200, seed=9)
    x = crandn(2, *shape, seed=10)
    A = NUFFT(shape, k, impl="generic")
    ref_y, ref_x = A @ x, A.H @ (A @ x)
    xb = backend.asarray(x)
    y = A @ xb
    assert array_namespace(y).__name__ == backend.xp.__name__
    assert str(y.device) == str(xb.device)
    assert y.dtype == backend.complex
    xa = A.H @ y
    assert np.allclose(to_numpy(y), ref_y, rtol=0, atol=backend.rtol * np.abs(ref_y).max() * 10)
    assert np.allclose(to_numpy(xa), ref_x, rtol=0, atol=backend.rtol * np.abs(ref_x).max() * 10)


@pytest.mark.skipif(not have_finufft(), reason="finufft not installed")
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
@pytest.mark.parametrize("shape", [(33,), (16, 23), (8, 9, 6)], ids=str)
def test_finufft_equals_generic(shape, dtype):
    k = random_coords(shape, 400, seed=11).reshape(4, 100, len(shape))
    x = crandn(3, *shape, seed=12).astype(dtype)
    F = NUFFT(shape, k, impl="finufft")
    G = NUFFT(shape, k, impl="generic")
    # both approximate the same NDFT within eps = 1e-6 (finufft's single-precision floor is ~1e-6,
    # plus float32 rounding of sums over ~N terms), so they agree within a few eps of each other
    tol = 5e-6 if dtype == np.complex128 else 5e-5
    yf, yg = F @ x, G @ x
    assert yf.dtype == dtype and yg.dtype == dtype
    assert np.linalg.norm(yf - yg) / np.linalg.norm(yg) < tol
    xf, xg = F.H @ yg, G.H @ yg
    assert np.linalg.norm(xf - xg) / np.linalg.norm(xg) < tol
    dottest(F, rtol=1e-5, batch=(2,))


@pytest.mark.parametrize("impl", ENGINES)
@pytest.mark.parametrize("shape", [(20,), (16, 13), (6, 7, 8)], ids=str)
def test_toeplitz_normal_equals_AHA(shape, impl):
    k = random_coords(shape, 250, seed=13)
    A = NUFFT(shape, k, eps=1e-9, impl=impl)
    x = crandn(2, *shape, seed=14)
    w = np.random.default_rng(15).random(250)
    for weights in (None, w):
        ref = A.H @ ((1.0 if weights is None else w) * (A @ x))
        got = A.normal(weights) @ x
        # the PSF comes from one NUFFT at eps = 1e-9: agreement to ~1e-9 relative
        assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 1e-8
    N = A.normal()
    assert N is A.normal()
    dottest(N)


def test_toeplitz_normal_every_backend(backend):
    shape = (12, 10)
    A = NUFFT(shape, random_coords(shape, 120, seed=16), impl="generic")
    x = crandn(*shape, seed=17)
    ref = A.H @ (A @ x)
    got = to_numpy(A.normal() @ backend.asarray(x))
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < max(20 * backend.rtol, 1e-5)


def test_torch_gradients_match_finite_differences():
    torch = pytest.importorskip("torch")
    shape = (6, 5)
    k = random_coords(shape, 40, seed=18)
    A = NUFFT(shape, k, eps=1e-10, impl="generic")
    y0 = torch.as_tensor(crandn(40, seed=19))
    x = torch.as_tensor(crandn(*shape, seed=20), dtype=torch.complex128).requires_grad_(True)

    def loss(x):
        r = A @ x - y0
        return torch.sum(torch.abs(r) ** 2) + torch.sum(torch.abs(A.H @ r) ** 2)

    assert torch.autograd.gradcheck(loss, (x,), eps=1e-6, atol=1e-6)
    # the gradient also has the closed form 2 A^H (A x - y) + 2 A^H A A^H(A x - y) (Wirtinger, x conj)
    g, = torch.autograd.grad(loss(x), x)
    with torch.no_grad():
        r = A @ x - y0
        ref = 2 * (A.H @ r) + 2 * (A.H @ (A @ (A.H @ r)))
    assert torch.allclose(g, ref, atol=1e-10)


def test_batched_leading_axes_one_call():
    shape = (10, 12)
    k = random_coords(shape, 60, seed=21).reshape(3, 20, 2)
    x = crandn(4, 2, *shape, seed=22)
    for impl in ENGINES:
        A = NUFFT(shape, k, impl=impl)
        y = A @ x
        assert y.shape == (4, 2, 3, 20)
        assert np.allclose(y[1, 1], A @ x[1, 1], atol=1e-12)
        assert (A.H @ y).shape == x.shape


def test_validation_messages():
    with pytest.raises(ValueError, match="coords must have shape"):
        NUFFT((8, 8), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="axis 1"):
        NUFFT((8, 8), np.array([[0.0, 4.5]]))
    with pytest.raises(ValueError, match="NaN"):
        NUFFT((8,), np.array([[np.nan]]))
    with pytest.raises(ValueError, match="eps"):
        NUFFT((8,), np.zeros((2, 1)), eps=0.5)
    with pytest.raises(ValueError, match="impl"):
        NUFFT((8,), np.zeros((2, 1)), impl="fast")
    with pytest.raises(ValueError, match="1, 2 or 3"):
        NUFFT((2, 2, 2, 2), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="weights"):
        NUFFT((8,), np.zeros((2, 1))).normal(np.array([1.0, -1.0]))
    if have_finufft():
        torch = pytest.importorskip("torch")
        with pytest.raises(TypeError, match="finufft"):
            NUFFT((8,), np.zeros((2, 1)), impl="finufft") @ torch.zeros(8)
