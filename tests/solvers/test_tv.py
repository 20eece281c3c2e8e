"""tv_denoise (FGP) against scikit-image's Chambolle solver, its own duality gap, and on every backend."""

import numpy as np
import pytest

from csbox.backend import array_namespace, to_numpy
from csbox.operators import Gradient, Identity
from csbox.penalties import TV
from csbox.phantoms import shepp_logan
from csbox.solvers import pdhg, tv_denoise


def _objective(x, b, lam, iso=True):
    g = Gradient(x.shape) @ x
    tv = np.sum(np.sqrt(np.sum(np.abs(g) ** 2, axis=0))) if iso else np.sum(np.abs(g))
    return 0.5 * np.sum(np.abs(x - b) ** 2) + lam * tv


def _noisy(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return shepp_logan(n) + 0.1 * rng.standard_normal((n, n))


def test_matches_skimage_chambolle():
    """scikit-image's denoise_tv_chambolle minimises the same objective (weight = lam, the same
    forward differences and Neumann boundary). The objective F is 1-strongly convex, so any x has
    ||x - x*||^2 <= 2 (F(x) - F*); with F* >= F(ours) - gap this bounds both distances to x*, and
    the distance between the two images by their sum: a tolerance set by the math, not tuned.
    Chambolle's method stops at a looser objective (1e-4 relative here); a wrong weight
    scaling (lam vs 2 lam or 1 / lam) would move the objective by percents."""
    skimage = pytest.importorskip("skimage.restoration")
    b = _noisy(48)
    lam = 0.1
    res = tv_denoise(b, lam, max_iter=5000, tol=1e-10, check_every=100)
    assert res.gap < 1e-7 * res.history["objective"][-1] or res.n_iter == 5000
    ref = skimage.denoise_tv_chambolle(b, weight=lam, eps=1e-10, max_num_iter=20000)
    f_ours, f_ref = _objective(res.x, b, lam), _objective(ref, b, lam)
    assert f_ours <= f_ref + 1e-9 * f_ref  # never worse than the reference
    assert f_ref - f_ours < 1e-3 * f_ref
    bound = np.sqrt(2 * (f_ref - f_ours + res.gap)) + np.sqrt(2 * res.gap)
    assert np.linalg.norm(res.x - ref) <= bound
    assert np.linalg.norm(res.x - ref) < 0.01 * np.linalg.norm(ref)


def test_duality_gap_bounds_the_error_and_history():
    b = _noisy(32, seed=1)
    lam = 0.2
    exact = tv_denoise(b, lam, max_iter=3000, tol=1e-12, check_every=200).x
    res = tv_denoise(b, lam, max_iter=40, tol=None, check_every=5)
    gaps = np.array(res.history["gap"])
    assert np.all(gaps >= 0) and gaps[-1] < gaps[0]
    # strong convexity: ||x - x*||^2 <= 2 gap
    assert np.sum((res.x - exact) ** 2) <= 2 * res.gap * (1 + 1e-6)
    np.testing.assert_allclose(res.history["objective"][-1], _objective(res.x, b, lam), rtol=1e-12)


@pytest.mark.parametrize("isotropic", [True, False])
def test_matches_long_pdhg_run(isotropic):
    """An independent algorithm (Chambolle-Pock on the split TV = l2,1 o D) reaches the same minimiser."""
    b = _noisy(16, seed=2)
    lam = 0.15
    fgp = tv_denoise(b, lam, isotropic=isotropic, max_iter=5000, tol=1e-12, check_every=500)
    pd = pdhg(Identity(b.shape), b, TV(lam, isotropic=isotropic), max_iter=3000, tol=None, check_every=3000)
    assert _objective(fgp.x, b, lam, isotropic) <= _objective(pd.x, b, lam, isotropic) + 1e-9
    np.testing.assert_allclose(fgp.x, pd.x, atol=1e-5)


def test_every_backend_complex_and_batched(backend):
    rng = np.random.default_rng(3)
    b = _noisy(16, seed=3) + 0.1j * rng.standard_normal((16, 16))
    stack = np.stack([b, 2 * b])
    ref = [tv_denoise(s, 0.1, max_iter=300, tol=None).x for s in stack]
    bb = backend.asarray(stack)
    res = tv_denoise(bb, 0.1, axes=(1, 2), max_iter=300, tol=None)
    assert array_namespace(res.x) is array_namespace(bb)
    assert res.x.dtype == backend.complex
    tol = 1e-4 if backend.single else 1e-10
    for i in range(2):
        np.testing.assert_allclose(to_numpy(res.x)[i], ref[i], atol=tol * np.abs(ref[i]).max())
    # warm start from the dual: already converged, so one more check stops it
    again = tv_denoise(backend.asarray(stack), 0.1, axes=(1, 2), dual0=res.dual, max_iter=300, tol=1e-3)
    assert again.converged and again.n_iter <= 10


def test_lam_zero_and_constant_image():
    b = _noisy(8)
    np.testing.assert_allclose(tv_denoise(b, 0.0, max_iter=5).x, b)
    c = np.full((8, 8), 3.0)
    np.testing.assert_allclose(tv_denoise(c, 1.0, max_iter=5).x, c)


def test_bad_input():
    b = _noisy(8)
    with pytest.raises(ValueError, match="lam"):
        tv_denoise(b, -1.0)
    with pytest.raises(TypeError, match="image"):
        tv_denoise([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="dual0"):
        tv_denoise(b, 1.0, dual0=np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="axes"):
        tv_denoise(b, 1.0, axes=(0, 5))
    with pytest.raises(TypeError, match="isotropic"):
        tv_denoise(b, 1.0, isotropic=1)
    with pytest.raises(ValueError, match="NaN"):
        tv_denoise(np.full((4, 4), np.nan), 1.0)
