"""Doppler: rotating-disk velocity profile (R^2), sign convention, aliasing flag, windows, backends."""

import math

import numpy as np
import pytest

from csbox.backend import to_numpy
from csbox.ultrasound import Probe, RotatingDisk, Transmit, bmode, das, image_grid, kasai, simulate

P = Probe.preset("L9-4/38")
FS = 4 * P.fc


def r2(v, truth, inside):
    return 1 - np.sum((v - truth)[inside] ** 2) / np.sum((truth[inside] - truth[inside].mean()) ** 2)


@pytest.fixture(scope="module")
def disk_ensemble():
    disk = RotatingDisk(center=(0.0, 20e-3), radius=4e-3, angular_velocity=50.0)  # edge 0.2 m/s
    xs, zs, amp = disk.scatterers(800, seed=0)
    prf, n_pulses = 10_000.0, 12
    frames = []
    for k in range(n_pulses):
        px, pz = disk.positions(xs, zs, k / prf)
        frames.append(simulate(P, [Transmit()], px, pz, amp, fs=FS, n_samples=700, t0=15e-6))
    x, z = image_grid(P, (-5e-3, 5e-3), (15.5e-3, 24.5e-3))
    img = das(np.stack(frames), P, [Transmit()], x, z, fs=FS, t0=15e-6)
    return disk, prf, x, z, np.moveaxis(img, 0, -1)


def test_rotating_disk_linear_profile(disk_ensemble):
    """Axial velocity of a turning disk is linear in x: R^2 >= 0.98 with a (5, 3)-pixel window."""
    disk, prf, x, z, ens = disk_ensemble
    X, Z = np.meshgrid(x, z)
    inside = np.hypot(X - disk.center[0], Z - disk.center[1]) < 0.9 * disk.radius
    d = kasai(ens, prf=prf, fc=P.fc, window=(5, 3))
    truth = disk.axial_velocity(X, Z)  # clinical sign: toward the probe positive
    assert r2(d.velocity, truth, inside) >= 0.98
    away = kasai(ens, prf=prf, fc=P.fc, window=(5, 3), positive="away")
    np.testing.assert_allclose(away.velocity, -d.velocity)
    assert d.nyquist == pytest.approx(1540 * prf / (4 * P.fc)) and not d.near_nyquist[inside].any()
    # Loupas: per-pixel mean frequency from the axial lag (dz = lambda / 4)
    lou = kasai(ens, prf=prf, fc=P.fc, window=(5, 3), dz=float(z[1] - z[0]))
    assert r2(lou.velocity, truth, inside) >= 0.98
    # half the pulses per ensemble: two estimates per pixel, each still on the profile
    two = kasai(ens, prf=prf, fc=P.fc, window=(5, 3), ensemble_size=6)
    assert two.velocity.shape == (*ens.shape[:2], 2)
    assert min(r2(two.velocity[..., i], truth, inside) for i in range(2)) >= 0.95


def test_kasai_on_tones_aliasing_and_variance():
    """A pure slow-time tone: exact velocity, zero variance; beyond Nyquist it wraps and is flagged."""
    prf, fc, c = 4000.0, 5e6, 1540.0
    nyq = c * prf / (4 * fc)
    n = np.arange(16)
    for frac in (0.3, -0.6, 0.9):
        v_toward = frac * nyq
        # toward the probe: the path shortens, the phase e^{-j 4 pi fc z / c} grows
        s = np.exp(1j * 4 * math.pi * fc * v_toward * n / (c * prf))[None, None, :]
        d = kasai(s, prf=prf, fc=fc)
        assert float(d.velocity[0, 0]) == pytest.approx(v_toward, rel=1e-9)
        assert float(d.variance[0, 0]) == pytest.approx(0.0, abs=1e-6 * prf**2)
        assert bool(d.near_nyquist[0, 0]) == (abs(frac) > 0.75)
    s = np.exp(1j * 4 * math.pi * fc * 1.2 * nyq * n / (c * prf))[None, None, :]
    assert float(kasai(s, prf=prf, fc=fc).velocity[0, 0]) == pytest.approx(-0.8 * nyq, rel=1e-9)  # aliased
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((1, 1, 4096)) + 1j * rng.standard_normal((1, 1, 4096))
    # white noise: |R1| / R0 ~ 0, variance -> PRF^2 / (2 pi^2)
    assert float(kasai(noise, prf=prf, fc=fc).variance[0, 0]) == pytest.approx(
        prf**2 / (2 * math.pi**2), rel=0.05
    )


def test_window_is_a_box_sum():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(1)
    ens = rng.standard_normal((9, 7, 5)) + 1j * rng.standard_normal((9, 7, 5))
    r1 = np.sum(np.conj(ens[..., :-1]) * ens[..., 1:], axis=-1)
    box = ndimage.uniform_filter(r1.real, (5, 3), mode="constant") + 1j * ndimage.uniform_filter(
        r1.imag, (5, 3), mode="constant"
    )
    expected = -1540 * 1000.0 * np.angle(box) / (4 * math.pi * 5e6) * -1
    got = kasai(ens, prf=1000.0, fc=5e6, window=(5, 3)).velocity
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_kasai_and_das_on_backends(backend, disk_ensemble):
    disk, prf, _, _, ens = disk_ensemble
    xp = backend.xp
    cdt = xp.complex64 if backend.single else xp.complex128
    e = xp.asarray(
        ens[:20, :15].astype(np.complex64 if backend.single else np.complex128), device=backend.device
    )
    d = kasai(e, prf=prf, fc=P.fc, window=(3, 3))
    ref = kasai(ens[:20, :15], prf=prf, fc=P.fc, window=(3, 3))
    tol = 1e-3 if backend.single else 1e-9
    np.testing.assert_allclose(to_numpy(d.velocity), ref.velocity, atol=tol * disk.radius * 50)
    rng = np.random.default_rng(2)
    iq = rng.standard_normal((2, 128, 300)) + 1j * rng.standard_normal((2, 128, 300))
    tx = [Transmit(), Transmit.from_delays(np.linspace(0, 1e-6, 128))]
    xg, zg = np.linspace(-3e-3, 3e-3, 7), np.linspace(5e-3, 7e-3, 6)
    ref_img = das(iq, P, tx, xg, zg, fs=FS, t0=[1e-6, 2e-6])
    img = das(xp.asarray(iq, dtype=cdt, device=backend.device), P, tx, xg, zg, fs=FS, t0=[1e-6, 2e-6])
    assert img.dtype == cdt and img.shape == (6, 7)
    np.testing.assert_allclose(
        to_numpy(img), ref_img, atol=(1e-4 if backend.single else 1e-10) * np.abs(ref_img).max()
    )


def test_errors():
    with pytest.raises(ValueError, match="positive must be one of"):
        kasai(np.ones((2, 2, 4), complex), prf=1e3, fc=1e6, positive="up")
    with pytest.raises(TypeError, match="complex beamformed IQ"):
        kasai(np.ones((2, 2, 4)), prf=1e3, fc=1e6)
    with pytest.raises(ValueError, match="n_pulses >= 2"):
        kasai(np.ones((2, 2, 1), complex), prf=1e3, fc=1e6)
    with pytest.raises(ValueError, match="window must be"):
        kasai(np.ones((2, 2, 4), complex), prf=1e3, fc=1e6, window=(1, 2, 3))
    for center in ((np.nan, 20e-3), (0.0,)):  # a NaN x was accepted, one coordinate an IndexError
        with pytest.raises(ValueError, match="center"):
            RotatingDisk(center=center)
    with pytest.raises(ValueError, match="c must be > 0"):  # was "axial_step must be > 0"
        image_grid(Probe.l11_5v(), c=-1540.0)
    with pytest.raises(ValueError, match="img is empty"):  # was numpy's zero-size reduction error
        bmode(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="nz >= 2"):  # the axial lag needs two rows (was an IndexError)
        kasai(np.ones((1, 2, 4), complex), prf=1e3, fc=1e6, dz=1e-5)
