"""prewhiten, coil_compress, estimate_noise against their math, on every backend of the fixture."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csbox.backend import to_numpy
from csbox.mri import coil_compress, estimate_noise, prewhiten, shepp_logan_kspace


def _correlated_noise(rng, c, n, mix):
    w = (rng.standard_normal((c, n)) + 1j * rng.standard_normal((c, n))) / np.sqrt(2)
    return mix @ w  # covariance mix mix^H


def _mixing(rng, c):
    # coupled coils with gains 0.5 to 3: a realistic, well-conditioned covariance
    return np.diag(rng.uniform(0.5, 3.0, c)) @ (np.eye(c) + 0.3 * rng.standard_normal((c, c)))


def test_prewhiten_makes_the_noise_white(backend):
    rng = np.random.default_rng(0)
    c, n = 6, 20000
    mix = _mixing(rng, c)
    noise = _correlated_noise(rng, c, n, mix)
    other = _correlated_noise(rng, c, n, mix)  # independent noise of the same covariance
    data = np.reshape(other, (c, 100, 200))
    white, w = prewhiten(backend.asarray(data), backend.asarray(noise), coil_axis=0)
    assert type(white) is type(backend.asarray(data)) and white.shape == data.shape
    cov = np.reshape(to_numpy(white), (c, -1))
    cov = cov @ cov.conj().T / n
    # sample covariances of n white samples have entries of std ~1/sqrt(n); the whitener itself is
    # estimated from n samples (another ~1/sqrt(n)): 6 standard deviations of both
    tol = 6 * np.sqrt(2.0 / n)
    np.testing.assert_allclose(cov, np.eye(c), atol=tol)
    wn = to_numpy(w)
    assert np.allclose(np.triu(wn, 1), 0)  # L^{-1} is lower triangular
    # and on the noise it was estimated from the result is white to rounding
    own, _ = prewhiten(backend.asarray(noise), backend.asarray(noise), coil_axis=0)
    own = to_numpy(own)
    np.testing.assert_allclose(own @ own.conj().T / n, np.eye(c), atol=50 * backend.rtol)


def test_prewhiten_from_a_covariance_and_on_another_axis(backend):
    rng = np.random.default_rng(1)
    c = 4
    mix = _mixing(rng, c)
    cov = mix @ mix.conj().T
    y = rng.standard_normal((3, c, 8, 8)) + 1j * rng.standard_normal((3, c, 8, 8))
    white, w = prewhiten(backend.asarray(y), covariance=backend.asarray(cov), coil_axis=1)
    wn = to_numpy(w)
    np.testing.assert_allclose(wn @ cov @ wn.conj().T, np.eye(c), atol=10 * backend.rtol)
    ref = np.einsum("ij,sjxy->sixy", wn, y)
    np.testing.assert_allclose(to_numpy(white), ref, rtol=10 * backend.rtol, atol=10 * backend.rtol)
    _, w2 = prewhiten(backend.asarray(y), covariance=backend.asarray(cov), coil_axis=1,
                      dwell_ratio=4.0)
    np.testing.assert_allclose(to_numpy(w2), wn / 2, rtol=10 * backend.rtol)  # Psi * 4 -> W / 2


def test_prewhiten_rejects_bad_input():
    y = np.zeros((4, 8, 8), complex)
    with pytest.raises(ValueError, match="exactly one of noise"):
        prewhiten(y)
    with pytest.raises(ValueError, match="exactly one of noise"):
        prewhiten(y, np.ones((4, 10)), covariance=np.eye(4))
    with pytest.raises(ValueError, match="3 coils, kspace 4"):
        prewhiten(y, covariance=np.eye(3))
    with pytest.raises(ValueError, match="positive definite"):
        prewhiten(y, covariance=np.diag([1.0, 1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="Hermitian"):
        prewhiten(y, covariance=np.triu(np.ones((4, 4))))
    with pytest.raises(ValueError, match="at least as many samples as coils"):
        prewhiten(y, np.ones((4, 3)))
    with pytest.raises(ValueError, match="dwell_ratio"):
        prewhiten(y, covariance=np.eye(4), dwell_ratio=0.0)
    with pytest.raises(ValueError, match="coil_axis"):
        prewhiten(y, covariance=np.eye(4), coil_axis=3)


@pytest.fixture(scope="module")
def phantom():
    """12-coil Shepp-Logan k-space with white noise (readout along the last axis)."""
    sim = shepp_logan_kspace((64, 64), n_coils=12, noise_std=1e-3, seed=2)
    return sim.kspace.astype(np.complex128)


def _energy(a):
    return float(np.sum(np.abs(a) ** 2))


def test_svd_compression_keeps_the_stated_energy(backend, phantom):
    k = backend.asarray(phantom)
    out, m = coil_compress(k, 4, method="svd", calib=24)
    assert out.shape == (4, 64, 64) and m.shape == (4, 12)
    mn = to_numpy(m)
    np.testing.assert_allclose(mn @ mn.conj().T, np.eye(4), atol=20 * backend.rtol)  # orthonormal rows
    cal = phantom[:, 20:44, :]  # the central 24 lines, the whole readout
    s = np.linalg.svd(np.reshape(np.moveaxis(cal, 0, -1), (-1, 12)), compute_uv=False)
    kept = _energy(to_numpy(out)[:, 20:44, :])
    # compressed calibration data keep exactly sum_{i<4} s_i^2 (Eckart-Young), to the working precision
    np.testing.assert_allclose(kept, np.sum(s[:4] ** 2), rtol=20 * backend.rtol)
    assert kept / np.sum(s**2) > 0.9  # birdcage coils are smooth: a few virtual coils hold most energy
    full, _ = coil_compress(k, 12, method="svd", calib=None)
    np.testing.assert_allclose(_energy(to_numpy(full)), _energy(phantom), rtol=20 * backend.rtol)


def test_geometric_compression_keeps_at_least_the_svd_energy_per_readout_position(backend, phantom):
    k = backend.asarray(phantom)
    n = 3
    svd, _ = coil_compress(k, n, method="svd", calib=24)
    gcc, mats = coil_compress(k, n, method="geometric", calib=24)
    assert gcc.shape == (n, 64, 64) and mats.shape == (64, n, 12)

    def per_x(a):  # calibration energy at each readout position x (hybrid space, ortho FFT)
        h = np.fft.ifft(np.fft.ifftshift(a[:, 20:44, :], axes=-1), axis=-1, norm="ortho")
        h = np.fft.fftshift(h, axes=-1)
        return np.sum(np.abs(h) ** 2, axis=(0, 1))

    e_svd, e_gcc = per_x(to_numpy(svd)), per_x(to_numpy(gcc))
    # per-x SVD is optimal at each x (Eckart-Young), the global matrix is one candidate there
    assert np.all(e_gcc >= e_svd * (1 - 20 * backend.rtol))
    assert e_gcc.sum() > e_svd.sum()
    # aligned matrices vary smoothly: neighbours' subspaces overlap more than unaligned ones would
    mn = to_numpy(mats)
    steps = np.linalg.norm(mn[1:] - mn[:-1], axis=(1, 2))
    assert np.median(steps) < 0.5 * np.sqrt(2 * n)  # sqrt(2n) = two unrelated orthonormal bases


def test_geometric_compression_with_all_coils_is_lossless(phantom):
    out, _ = coil_compress(phantom, 12, method="geometric", calib=None)
    # per-x unitary mixing in hybrid space: the energy is kept (and the RSS image too)
    np.testing.assert_allclose(_energy(out), _energy(phantom), rtol=1e-10)
    ax = (-2, -1)
    img = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(out, axes=ax), norm="ortho"), axes=ax)
    ref = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(phantom, axes=ax), norm="ortho"), axes=ax)
    energy = np.sum(np.abs(img) ** 2, 0)
    np.testing.assert_allclose(energy, np.sum(np.abs(ref) ** 2, 0), rtol=1e-9, atol=1e-15)


@given(n=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_compression_never_gains_energy(n, seed):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal((6, 10, 12)) + 1j * rng.standard_normal((6, 10, 12))
    for method in ("svd", "geometric"):
        out, _ = coil_compress(k, n, method=method, calib=None)
        assert _energy(out) <= _energy(k) * (1 + 1e-12)  # an orthonormal projection per sample / per x


def test_coil_compress_rejects_bad_input(phantom):
    with pytest.raises(ValueError, match="n_coils must be <= 12"):
        coil_compress(phantom, 13)
    with pytest.raises(ValueError, match="method must be one of"):
        coil_compress(phantom, 2, method="pca")
    with pytest.raises(ValueError, match="readout_axis must be a k-space axis"):
        coil_compress(phantom, 2, readout_axis=0)
    with pytest.raises(ValueError, match="calib must be >= 1"):
        coil_compress(phantom, 2, calib=0)


@pytest.fixture(scope="module")
def sim96():
    return shepp_logan_kspace((96, 96), n_coils=4, seed=3)


def test_estimate_noise_from_the_periphery(backend, sim96):
    rng = np.random.default_rng(3)
    sim = sim96
    # noise ~10x above the phantom's power in the outer 10 % of k-space (6e-4 per coil there): the
    # regime the estimator is for (outer k-space noise-dominated, as on most real scans)
    mix = np.diag(rng.uniform(1.0, 3.0, 4)) @ (np.eye(4) + 0.3 * rng.standard_normal((4, 4))) * 0.1
    cov = mix @ mix.conj().T
    k = sim.kspace + np.reshape(_correlated_noise(rng, 4, 96 * 96, mix), (4, 96, 96))
    est = to_numpy(estimate_noise(backend.asarray(k), coil_axis=0, fraction=0.1))
    assert est.shape == (4, 4)
    # 922 samples: sample-covariance entries have relative std ~1/sqrt(922) = 3 %; the phantom's
    # tails add <= 6e-4 on the diagonal: 6 std plus that bias, 20 % of the largest entry
    np.testing.assert_allclose(est, cov, atol=0.2 * np.abs(cov).max())
    # prewhitening with the estimate whitens the noise to about that accuracy
    white, _ = prewhiten(backend.asarray(k - sim.kspace), covariance=backend.asarray(est), coil_axis=0)
    wn = np.reshape(to_numpy(white), (4, -1))
    np.testing.assert_allclose(wn @ wn.conj().T / wn.shape[1], np.eye(4), atol=0.35)


def test_estimate_noise_uses_only_sampled_positions():
    rng = np.random.default_rng(4)
    k = (rng.standard_normal((2, 32, 32)) + 1j * rng.standard_normal((2, 32, 32))) / np.sqrt(2)
    k[:, ::2] = 0  # every other line not acquired
    est = estimate_noise(k, coil_axis=0, fraction=0.5)
    np.testing.assert_allclose(est, np.eye(2), atol=6 / np.sqrt(256))  # 256 samples: std 1/16
    with pytest.raises(ValueError, match="too few"):
        estimate_noise(np.zeros((2, 4, 4), complex), coil_axis=0)
    with pytest.raises(ValueError, match="fraction"):
        estimate_noise(k, coil_axis=0, fraction=0.9)
