"""rf2iq as scanners deliver RF: band-pass sampling (4/3 fc), 4 fc, quadrature pairs, int16, t0.

A scanner band-pass filters the echo (analog) and samples it. We simulate the RF at
16 fc, apply an ideal band-pass (|f - fc| <= 0.3 fc, inside the 4/3 fc sampling's
recoverable band |f - fc| < fc/3) and decimate. The band-limited signal is then
exactly determined by its samples at every rate: the IQ, the DAS image and the
Kasai velocities from the decimated data must equal those of the 16 fc data, up to
the FFT low-pass's leakage at the record ends (the mixed record is not periodic),
which the interior comparisons exclude.
"""

import math

import numpy as np
import pytest

from csbox.ultrasound import (
    Probe,
    RotatingDisk,
    Transmit,
    das,
    demodulation_cutoff,
    image_grid,
    kasai,
    rf2iq,
    simulate_rf,
)

P = Probe.preset("L9-4/38")  # 5 MHz, 128 elements, 65 %: the scanner case
FC = P.fc
FS_HI = 16 * FC
NS = 12 * 250  # 16 fc samples; a multiple of 12 so every decimation ends together
TX = [Transmit()]


def band_pass(rf, half_band=0.3 * FC):
    f = np.fft.rfftfreq(rf.shape[-1], 1 / FS_HI)
    return np.fft.irfft(np.fft.rfft(rf) * (np.abs(f - FC) <= half_band), n=rf.shape[-1])


@pytest.fixture(scope="module")
def speckle_rf():
    rng = np.random.default_rng(0)
    xs, zs = rng.uniform(-3e-3, 3e-3, 30), rng.uniform(15e-3, 25e-3, 30)
    rf = simulate_rf(P, TX, xs, zs, rng.standard_normal(30), fs=FS_HI, n_samples=NS)
    return band_pass(rf)


def rel_err(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_cutoff_rule():
    assert demodulation_cutoff(4 * FC, FC) == pytest.approx(FC)  # mirror at 2 fc
    assert demodulation_cutoff(4 * FC, FC, 0.65) == pytest.approx(0.65 * FC)
    assert demodulation_cutoff(4 * FC / 3, FC, 0.65) == pytest.approx(FC / 3)  # mirror at 2 fc / 3
    with pytest.raises(ValueError, match="bands fold onto each other"):
        demodulation_cutoff(2 * FC, FC)
    with pytest.raises(ValueError, match=r"77 % bandwidth.*at most 0\.667"):
        demodulation_cutoff(4 * FC / 3, FC, 0.77)


def test_band_pass_sampled_iq_equals_fully_sampled(speckle_rf):
    ref = rf2iq(speckle_rf, FS_HI, FC, P.bandwidth)
    inner = slice(20, 230)  # 4/3 fc samples away from the record ends
    iq43 = rf2iq(speckle_rf[..., ::12], 4 * FC / 3, FC, P.bandwidth)
    # 0.3 %: the residual leakage of the non-periodic mixed record through the brick-wall low-pass
    assert rel_err(iq43[..., inner], ref[..., ::12][..., inner]) < 5e-3
    iq4 = rf2iq(speckle_rf[..., ::4], 4 * FC, FC, P.bandwidth)
    assert rel_err(iq4[..., 60:690], ref[..., ::4][..., 60:690]) < 1e-3
    # int16 ADC counts: quantisation 1/32767 of full scale, computed in float32
    scale = 32767 / np.abs(speckle_rf).max()
    counts = np.round(speckle_rf[..., ::12] * scale).astype(np.int16)
    iq16 = rf2iq(counts, 4 * FC / 3, FC, P.bandwidth)
    assert iq16.dtype == np.complex64
    assert rel_err(iq16[..., inner] / scale, ref[..., ::12][..., inner]) < 5e-3
    # already demodulated: returned unchanged
    assert rf2iq(iq43, 4 * FC / 3, FC) is iq43


def test_quadrature_pairs_bs100bw(speckle_rf):
    """Verasonics 100 % mode: pairs (x(k/fc), x(k/fc + 1/(4 fc))), stored at '2 fc'."""
    idx = np.stack([np.arange(0, NS, 16), np.arange(4, NS, 16)], -1).ravel()
    iq = rf2iq(speckle_rf[..., idx], 2 * FC, FC, P.bandwidth, quadrature=True)
    ref = rf2iq(speckle_rf, FS_HI, FC, P.bandwidth)[..., ::16]
    assert iq.shape == ref.shape
    assert rel_err(iq[..., 15:170], ref[..., 15:170]) < 2e-3
    with pytest.raises(ValueError, match="even number of samples"):
        rf2iq(speckle_rf[..., :5], 2 * FC, FC, quadrature=True)


def test_t0_sets_the_carrier_phase():
    """Record starting at t0: demodulating with t0 gives the IQ of the simulator's convention."""
    t0 = 13.3e-6
    xs, zs = np.array([0.0]), np.array([20e-3])
    rf = simulate_rf(P, TX, xs, zs, np.ones(1), fs=4 * FC, n_samples=400, t0=t0)
    from csbox.ultrasound import simulate

    iq_true = simulate(P, TX, xs, zs, np.ones(1), fs=4 * FC, n_samples=400, t0=t0)
    iq = rf2iq(rf, 4 * FC, FC, P.bandwidth, t0=t0)
    # the Gaussian pulse has ~1 % of its energy beyond the 0.65 fc cutoff
    assert rel_err(iq[..., 50:350], iq_true[..., 50:350]) < 0.03


def test_band_pass_sampled_image_and_velocities():
    disk = RotatingDisk(center=(0.0, 20e-3), radius=3e-3, angular_velocity=4 * math.pi)
    xs, zs, amp = disk.scatterers(300, seed=1)
    prf, n_pulses = 4000.0, 8
    x, z = image_grid(P, (-3.5e-3, 3.5e-3), (16.5e-3, 23.5e-3))
    full, bps = [], []
    for k in range(n_pulses):
        px, pz = disk.positions(xs, zs, k / prf)
        rf = band_pass(simulate_rf(P, TX, px, pz, amp, fs=FS_HI, n_samples=NS))
        full.append(rf2iq(rf[..., ::4], 4 * FC, FC, P.bandwidth))
        bps.append(rf2iq(rf[..., ::12], 4 * FC / 3, FC, P.bandwidth, upsample=3))
    img_full = das(np.stack(full), P, TX, x, z, fs=4 * FC)  # frames as a leading batch axis
    img_bp = das(np.stack(bps), P, TX, x, z, fs=4 * FC)
    assert rel_err(img_bp, img_full) < 5e-3
    # a (5, 3)-pixel window, as in colour Doppler: single pixels in speckle nulls have ill-defined phase
    v_full = kasai(np.moveaxis(img_full, 0, -1), prf=prf, fc=FC, window=(5, 3)).velocity
    v_bp = kasai(np.moveaxis(img_bp, 0, -1), prf=prf, fc=FC, window=(5, 3)).velocity
    X, Z = np.meshgrid(x, z)
    inside = np.hypot(X, Z - 20e-3) < 2.5e-3
    peak = 4 * math.pi * 3e-3
    assert np.abs(v_bp - v_full)[inside].max() < 0.01 * peak


def test_errors():
    with pytest.raises(TypeError, match="rf must be an array"):
        rf2iq([1.0, 2.0], 4e6, 1e6)
    with pytest.raises(ValueError, match="upsample must be >= 1"):
        rf2iq(np.zeros(8), 4e6, 1e6, upsample=0)
    with pytest.raises(ValueError, match="t0 of shape"):
        rf2iq(np.zeros((3, 8)), 4e6, 1e6, t0=np.zeros(2))
    for quadrature in (False, True):  # no samples: a ValueError, not a ZeroDivisionError
        with pytest.raises(ValueError, match="rf has no samples"):
            rf2iq(np.zeros((3, 0)), 4e6, 1e6, quadrature=quadrature)


def test_rf2iq_on_backends(backend, speckle_rf):
    from csbox.backend import to_numpy

    rf = speckle_rf[0, :4, ::12]  # 4/3 fc, 4 channels
    ref = rf2iq(rf, 4 * FC / 3, FC, P.bandwidth, upsample=3)
    dt = backend.xp.float32 if backend.single else backend.xp.float64
    x = backend.xp.asarray(rf, dtype=dt, device=backend.device)
    got = rf2iq(x, 4 * FC / 3, FC, P.bandwidth, upsample=3)
    assert got.dtype == (backend.xp.complex64 if backend.single else backend.xp.complex128)
    tol = 1e-4 if backend.single else 1e-10
    np.testing.assert_allclose(to_numpy(got), ref, atol=tol * np.abs(ref).max())
    idx = np.stack([np.arange(0, NS, 16), np.arange(4, NS, 16)], -1).ravel()
    pairs = speckle_rf[0, :2][:, idx]
    q = rf2iq(backend.xp.asarray(pairs, dtype=dt, device=backend.device), 2 * FC, FC, quadrature=True)
    q_ref = rf2iq(pairs, 2 * FC, FC, quadrature=True)
    assert q_ref.shape == (2, idx.size // 2)
    np.testing.assert_allclose(to_numpy(q), q_ref, atol=tol * np.abs(q_ref).max())
