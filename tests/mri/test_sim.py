"""Analytic multi-coil phantom k-space and band-limited birdcage maps."""

import math

import numpy as np
import pytest

from csbox.mri import Sense, birdcage_maps, shepp_logan_kspace
from csbox.mri.sim import _ellipse_kspace
from csbox.phantoms import MODIFIED_SHEPP_LOGAN


@pytest.fixture(scope="module")
def sim():
    return shepp_logan_kspace((96, 96), 8)


def test_dc_is_the_weighted_area():
    # rho_hat(0) = sum_e A_e pi a_e b_e exactly (J1(2 pi q)/q -> pi)
    ref = sum(A * math.pi * a * b for A, a, b, *_ in MODIFIED_SHEPP_LOGAN)
    assert abs(_ellipse_kspace(np.zeros(1), np.zeros(1))[0] - ref) < 1e-12


def test_ellipse_transform_against_quadrature():
    # independent check: midpoint-rule FT of a finely rendered phantom (1024^2 on [-1, 1)^2); its
    # error is the boundary pixels' area, ~ perimeter * h / 2 ~ 1e-3 of the DC value
    n = 1024
    h = 2.0 / n
    g = (np.arange(n) - n // 2) * h + h / 2
    u, x = np.meshgrid(g, g, indexing="ij")
    img = np.zeros((n, n))
    for A, a, b, x0, y0, phi in MODIFIED_SHEPP_LOGAN:
        t = math.radians(phi)
        xr = (x - x0) * math.cos(t) + (-u - y0) * math.sin(t)
        yr = -(x - x0) * math.sin(t) + (-u - y0) * math.cos(t)
        img[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0] += A
    for k0, k1 in [(0.0, 0.0), (1.5, -2.0), (-3.0, 0.5), (4.0, 4.0)]:
        num = np.sum(img * np.exp(-2j * math.pi * (k0 * u + k1 * x))) * h * h
        ana = _ellipse_kspace(np.array([k0]), np.array([k1]))[0]
        assert abs(num - ana) < 2e-3 * abs(_ellipse_kspace(np.zeros(1), np.zeros(1))[0]), (k0, k1)


def test_kspace_consistent_with_sense_model(sim):
    # Sense(maps) @ image reproduces the analytic data up to the part of the object's spectrum that
    # the maps fold in from the K = 4 bins beyond the grid's band. For an object with edges
    # |rho_hat|^2 ~ |k|^-3, so that part falls as ~1/n: 1.6 % at 96^2, halved or better at 192^2
    def mismatch(s):
        return np.linalg.norm(Sense(s.maps) @ s.image - s.kspace) / np.linalg.norm(s.kspace)

    rel = mismatch(sim)
    assert rel < 0.03
    assert mismatch(shepp_logan_kspace((192, 192), 8)) < 0.6 * rel
    # the reference image is the phantom up to Gibbs ringing at the edges
    assert np.median(np.abs(sim.image - sim.phantom)) < 0.02


def test_kspace_of_one_coil_with_constant_map_is_the_phantom_transform():
    s = shepp_logan_kspace((64, 64), 1, max_freq=0)
    # one coil and K = 0: the map is a constant, the data are exactly c * rho_hat on the grid
    c = s.maps[0, 0, 0]
    k = (np.arange(64) - 32) / 2.0
    ref = 64 / 4.0 * _ellipse_kspace(k[:, None], k[None, :])
    np.testing.assert_allclose(s.kspace[0], c * ref, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("shape", [(33, 31), (33, 32)])
def test_odd_sizes_put_dc_at_n_over_2(shape):
    """Centred k-space has DC at n // 2 for odd n too: one coil, K = 0 is exactly c * rho_hat(k - n // 2),
    and the reference image of the real phantom is real (odd axes are Hermitian-symmetric). With
    ``-n // 2`` the grid was one bin off: a 2 pi / n phase ramp, imag/real ~ 1."""
    s = shepp_logan_kspace(shape, 1, max_freq=0)
    k0, k1 = ((np.arange(n) - n // 2) / 2.0 for n in shape)
    ref = math.sqrt(shape[0] * shape[1]) / 4.0 * _ellipse_kspace(k0[:, None], k1[None, :])
    np.testing.assert_allclose(s.kspace[0], s.maps[0, 0, 0] * ref, atol=1e-12 * np.abs(ref).max())
    # the even axis' unpaired Nyquist row leaves ~1 % imaginary part (0.014 at 64 x 64)
    assert np.linalg.norm(s.image.imag) < 0.02 * np.linalg.norm(s.image.real)


def test_birdcage_maps():
    m = birdcage_maps((64, 48), 8)
    assert m.shape == (8, 64, 48)
    r = np.sqrt(np.sum(np.abs(m) ** 2, 0))
    assert abs(r[32, 24] - 1.0) < 1e-12
    # band limit: the centred DFT of each map has no energy beyond |m| <= K = 4 bins
    k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(m, axes=(-2, -1))), axes=(-2, -1))
    outside = np.ones((64, 48), bool)
    outside[32 - 4 : 32 + 5, 24 - 4 : 24 + 5] = False
    assert np.abs(k[:, outside]).max() < 1e-9 * np.abs(k).max()
    # the same physical maps at another resolution
    m2 = birdcage_maps((128, 96), 8)
    np.testing.assert_allclose(m2[:, ::2, ::2], m, atol=1e-12)


def test_noise_and_validation():
    a = shepp_logan_kspace((32, 32), 2, noise_std=0.5, seed=1)
    b = shepp_logan_kspace((32, 32), 2)
    d = a.kspace - b.kspace
    assert abs(np.mean(np.abs(d) ** 2) - 0.25) < 0.05  # E|n|^2 = noise_std^2, 2048 samples
    with pytest.raises(ValueError, match="shape"):
        shepp_logan_kspace((32,), 2)
    with pytest.raises(ValueError, match="coil_radius"):
        birdcage_maps((32, 32), 2, coil_radius=1.0)
    with pytest.raises(TypeError, match="n_coils"):
        birdcage_maps((32, 32), 2.5)
    with pytest.raises(ValueError, match="max_freq"):
        birdcage_maps((8, 8), 2, max_freq=5)
