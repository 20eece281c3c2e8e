"""Convex penalties: closed forms (SVD, block thresholds), global optimality of every prox, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csbox.backend import array_namespace, to_numpy
from csbox.penalties import TV, GroupL21, Indicator, LocallyLowRank, NuclearNorm, Tikhonov


def _svt_ref(X, t):
    U, s, Vh = np.linalg.svd(X, full_matrices=False)
    return (U * np.maximum(s - t, 0)[..., None, :]) @ Vh


def test_nuclear_norm_prox_is_svt_on_every_backend(backend):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 7, 5)) + 1j * rng.standard_normal((3, 7, 5))
    P = NuclearNorm(0.8)
    Xb = backend.asarray(X)
    out = P.prox(Xb, 1.5)
    assert array_namespace(out) is array_namespace(Xb)
    tol = 1e-4 if backend.single else 1e-10
    np.testing.assert_allclose(to_numpy(out), _svt_ref(X, 1.2), atol=tol * np.abs(X).max())
    ref_val = 0.8 * np.linalg.svd(X, compute_uv=False).sum()
    assert float(to_numpy(P.value(Xb))) == pytest.approx(ref_val, rel=tol)


def _block_low_rank_image(rng, frames=6, n=32, block=8, rank=1):
    """Each 8x8 block of a (frames, n, n) series is rank 1 across frames, plus noise."""
    x = np.zeros((frames, n, n))
    for i in range(0, n, block):
        for j in range(0, n, block):
            u = rng.standard_normal((block * block, rank))
            v = rng.standard_normal((rank, frames))
            x[:, i : i + block, j : j + block] = (u @ v).T.reshape(frames, block, block)
    return x


def test_llr_prox_blockwise_svt_and_denoises_block_low_rank_image(backend):
    rng = np.random.default_rng(1)
    clean = _block_low_rank_image(rng)
    noisy = clean + 0.3 * rng.standard_normal(clean.shape)
    P = LocallyLowRank(8, 1.0, random_shift=False)
    out = to_numpy(P.prox(backend.asarray(noisy), 2.5))
    # reference: SVT of every 64 x 6 block matrix
    ref = np.zeros_like(noisy)
    for i in range(0, 32, 8):
        for j in range(0, 32, 8):
            B = noisy[:, i : i + 8, j : j + 8].reshape(6, 64).T
            ref[:, i : i + 8, j : j + 8] = _svt_ref(B, 2.5).T.reshape(6, 8, 8)
    tol = 1e-4 if backend.single else 1e-10
    np.testing.assert_allclose(out, ref, atol=tol * np.abs(ref).max())
    # the rank-1 blocks are recovered better than by the noisy data (noise energy cut ~6x: rank 1 of 6)
    assert np.linalg.norm(out - clean) < 0.6 * np.linalg.norm(noisy - clean)


def test_llr_random_shift_and_partial_blocks():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 10, 13))  # batch 2, 4 frames, sizes not multiples of 8
    P = LocallyLowRank((8, 8), 0.5, random_shift=True, seed=3)
    out = P.prox(x, 1.0)
    assert out.shape == x.shape
    # a block that fits inside the image is SVT of its own matrix regardless of padding:
    # with no shift, the top-left 8x8 block
    Q = LocallyLowRank((8, 8), 0.5, random_shift=False)
    o2 = Q.prox(x, 1.0)
    B = x[1, :, :8, :8].reshape(4, 64).T
    np.testing.assert_allclose(o2[1, :, :8, :8], _svt_ref(B, 0.5).T.reshape(4, 8, 8), atol=1e-12)
    # the partial edge block [B; 0] has the prox [SVT(B); 0]
    B = x[0, :, 8:, 8:].reshape(4, -1).T
    np.testing.assert_allclose(o2[0, :, 8:, 8:], _svt_ref(B, 0.5).T.reshape(4, 2, 5), atol=1e-12)
    # a zero shift leaves the two the same; different seeds give different tilings
    assert not np.allclose(out, o2)


def test_group_l21_and_tikhonov_and_indicator_closed_forms(backend):
    rng = np.random.default_rng(3)
    v = rng.standard_normal((2, 5, 4))
    vb = backend.asarray(v)
    tol = 1e-5 if backend.single else 1e-12
    out = to_numpy(GroupL21(0.5, axis=0).prox(vb, 2.0))
    nrm = np.linalg.norm(v, axis=0, keepdims=True)
    np.testing.assert_allclose(out, v * np.maximum(1 - 1.0 / nrm, 0), atol=tol)
    np.testing.assert_allclose(to_numpy(Tikhonov(0.5).prox(vb, 2.0)), v / 2.0, atol=tol)
    np.testing.assert_allclose(to_numpy(Indicator(low=0.0).prox(vb)), np.maximum(v, 0), atol=tol)
    np.testing.assert_allclose(to_numpy(Indicator(-0.2, 0.3).prox(vb)), np.clip(v, -0.2, 0.3), atol=tol)
    assert float(to_numpy(Indicator(low=0.0).value(vb))) == np.inf
    assert float(to_numpy(Indicator(low=0.0).value(backend.asarray(np.abs(v))))) == 0.0


def _perturbations(rng, shape, n=20):
    for scale in (1e-3, 1e-1, 1.0):
        for _ in range(n // 3 + 1):
            yield scale * rng.standard_normal(shape)


PENALTIES = {
    "nuclear": lambda: NuclearNorm(0.4),
    "llr": lambda: LocallyLowRank(2, 0.4, random_shift=False),
    "group": lambda: GroupL21(0.5, axis=0),
    "tikhonov": lambda: Tikhonov(0.7),
    "box": lambda: Indicator(-0.5, 0.5),
}


def _check_prox_optimal(P, name, seed, step, rel_slack):
    rng = np.random.default_rng(seed)
    shape = (3, 4, 5) if name in ("llr", "nuclear", "group") else (4, 5)
    v = 2.0 * rng.standard_normal(shape)

    def F(x):
        return step * float(P.value(x)) + 0.5 * np.sum((x - v) ** 2)

    p = P.prox(v, step)
    fp = F(p)
    slack = rel_slack * (1 + abs(fp))
    for d in _perturbations(rng, shape):
        q = p + d
        if name == "box":
            q = np.clip(q, -0.5, 0.5)  # outside the box F is inf: compare feasible points
        assert fp <= F(q) + slack


@pytest.mark.parametrize("name", sorted(PENALTIES))
@given(seed=st.integers(0, 2**31 - 1), step=st.floats(0.1, 3.0))
def test_prox_is_the_global_minimiser(name, seed, step):
    """step * P(p) + ||p - v||^2 / 2 <= the same at p + d for random d (exact proxes: up to rounding)."""
    _check_prox_optimal(PENALTIES[name](), name, seed, step, 1e-10)


@pytest.mark.parametrize("isotropic", [True, False])
@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 1), step=st.floats(0.1, 3.0))
def test_tv_prox_is_the_global_minimiser(isotropic, seed, step):
    """TV's prox (FGP, 1000 iterations on a 4x5 image) is optimal up to its duality gap.

    The gap bounds F(p) - min F; with the 1/k^2 rate of FGP it is far below
    the 1e-7 relative slack after 1000 iterations on 20 pixels.
    """
    _check_prox_optimal(TV(0.3, isotropic=isotropic, inner_max_iter=1000), "tv", seed, step, 1e-7)


def test_tv_value_and_split():
    x = np.zeros((4, 5))
    x[:, 2:] = 1.0  # one vertical edge of height 4
    assert float(TV(2.0).value(x)) == pytest.approx(2.0 * 4)
    assert float(TV(2.0, isotropic=False).value(x)) == pytest.approx(2.0 * 4)
    x[2:, :] += 1.0  # an L-shaped pair of edges: isotropic < anisotropic at the corner
    assert float(TV(1.0).value(x)) < float(TV(1.0, isotropic=False).value(x))
    D, g = TV(1.0).split((4, 5))
    assert float(g.value(D @ x)) == pytest.approx(float(TV(1.0).value(x)))


def test_bad_input():
    with pytest.raises(ValueError, match="lam"):
        TV(-1.0)
    with pytest.raises(TypeError, match="isotropic"):
        TV(1.0, isotropic="yes")
    with pytest.raises(ValueError, match="inner_max_iter"):
        TV(1.0, inner_max_iter=0)
    with pytest.raises(ValueError, match="block"):
        LocallyLowRank((0, 8))
    with pytest.raises(ValueError, match="frames"):
        LocallyLowRank(8).prox(np.ones((8, 8)), 1.0)
    with pytest.raises(ValueError, match="matrices"):
        NuclearNorm(1.0).prox(np.ones(5), 1.0)
    with pytest.raises(ValueError, match="low must be <= high"):
        Indicator(1.0, 0.0)
    with pytest.raises(ValueError, match="at least one"):
        Indicator()
    with pytest.raises(TypeError, match="real"):
        Indicator(low=0).prox(np.ones(3) + 1j)
    with pytest.raises(TypeError, match="axis"):
        GroupL21(1.0, axis="0")
    with pytest.raises(ValueError, match="step"):
        Tikhonov(1.0).prox(np.ones(3), 0.0)
