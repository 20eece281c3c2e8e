"""reconstruct_raw: the raw-data pipeline on the real brain scan of data/ and on small simulated scans."""

import dataclasses

import numpy as np
import pytest

from csbox import data
from csbox.io import MRIHeader, RawMRI
from csbox.metrics import psnr
from csbox.mri import Sense, espirit_maps, prewhiten, reconstruct_raw, shepp_logan_kspace

pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def brain():
    raw = data.load("brain-16ch")
    ref = np.abs(Sense(espirit_maps(raw.kspace, calib_width=24)).H @ raw.kspace)
    return raw, ref


def _sim_raw(n=48, coils=6, noise=None, **kw):
    s = shepp_logan_kspace((n, n), coils, seed=0)
    k = s.kspace.astype(np.complex64)
    hdr = MRIHeader(matrix=(n, n, 1))
    return RawMRI(k, np.ones((n, n), bool), hdr, ("coil", "ky", "kx"), noise=noise, **kw)


def test_defaults_give_a_good_image_on_the_real_scan(brain):
    # issue 27: the default lam must work on a real scan without tuning. R = 4 Poisson disc, 24x24
    # calibration: measured zero-filled 24.4 dB, CG-SENSE 33.4 dB, l1-wavelet 37.0 dB (default lam); the
    # margins below leave ~1 dB for other BLAS / FFT builds
    raw, ref = brain
    l1 = reconstruct_raw(raw, "l1-wavelet", accel=4)
    cg = reconstruct_raw(raw, "cg", accel=4)
    p_l1, p_cg = psnr(np.abs(l1.image), ref), psnr(np.abs(cg.image), ref)
    assert p_l1 > 35.5 and p_l1 > p_cg + 2.0, (p_l1, p_cg)
    image, maps = l1  # unpacks as image, maps
    assert image.shape == (128, 128) and maps.shape == (16, 128, 128) and image.dtype == np.complex64
    assert l1.mask.mean() == pytest.approx(0.25, abs=1e-3)
    assert set(l1.timings) >= {"espirit", "reconstruction", "total"} and l1.results[0].n_iter == 100


def test_scaling_the_raw_data_scales_the_image():
    # k-space near 1e13 (as some scanners store it): the relative lam makes the image scale with the
    # data and nothing else (float32 rounding amplified by the iterations: 1e-4 relative)
    raw = _sim_raw()
    a = reconstruct_raw(raw, "tv", accel=3, calib=16, max_iter=10).image
    big = dataclasses.replace(raw, kspace=(raw.kspace * np.float32(1e13)).astype(np.complex64))
    b = reconstruct_raw(big, "tv", accel=3, calib=16, max_iter=10).image
    assert np.linalg.norm(b / 1e13 - a) <= 1e-4 * np.linalg.norm(a)


def test_prewhitening_uses_the_noise_scan():
    rng = np.random.default_rng(1)
    mix = np.eye(6) + 0.3 * rng.standard_normal((6, 6))
    noise = (mix @ (rng.standard_normal((6, 600)) + 1j * rng.standard_normal((6, 600)))).astype(np.complex64)
    raw = _sim_raw(noise=noise)
    rec = reconstruct_raw(raw, "cg", max_iter=10)
    assert any("prewhitened with 600 noise samples" in s for s in rec.steps)
    # the same as whitening by hand and reconstructing a scan without a noise scan
    white = np.asarray(prewhiten(raw.kspace, noise)[0])
    by_hand = reconstruct_raw(dataclasses.replace(raw, kspace=white, noise=None), "cg", max_iter=10)
    np.testing.assert_allclose(rec.image, by_hand.image, rtol=0, atol=1e-5 * np.abs(by_hand.image).max())
    skipped = reconstruct_raw(raw, "cg", max_iter=10, prewhiten=False)
    assert not any("prewhitened" in s for s in skipped.steps)


def test_coil_compression_and_leading_slices():
    raw = _sim_raw()
    full = reconstruct_raw(raw, "cg", accel=2, calib=16, max_iter=15)
    cc = reconstruct_raw(raw, "cg", accel=2, calib=16, max_iter=15, n_coils=4)
    assert cc.maps.shape == (4, 48, 48)
    # 4 of 6 virtual coils keep almost all the energy of the smooth simulated coils: near the same image
    assert psnr(np.abs(cc.image), np.abs(full.image)) > 30
    two = RawMRI(np.stack([raw.kspace, 2 * raw.kspace]), np.ones((2, 48, 48), bool), raw.header,
                 ("slice", "coil", "ky", "kx"))
    rec = reconstruct_raw(two, "l1-wavelet", max_iter=5)
    assert rec.image.shape == (2, 48, 48) and rec.maps.shape == (2, 6, 48, 48) and len(rec.results) == 2
    # each slice is calibrated and normalised on its own: a slice twice as bright gives twice the image
    tol = 1e-4 * np.abs(rec.image).max()
    np.testing.assert_allclose(np.abs(rec.image[1]), 2 * np.abs(rec.image[0]), atol=tol)


def test_readout_oversampling_removed():
    raw = _sim_raw(n=48)
    # a 2x oversampled readout: zero-pad the image along x, as a scanner's oversampled ADC sees it
    img = np.fft.fftshift(np.fft.ifft(np.fft.ifftshift(raw.kspace, axes=-1), axis=-1, norm="ortho"), axes=-1)
    img = np.pad(img, ((0, 0), (0, 0), (24, 24)))
    k2 = np.fft.fftshift(np.fft.fft(np.fft.ifftshift(img, axes=-1), axis=-1, norm="ortho"), axes=-1)
    hdr = MRIHeader(matrix=(96, 48, 1), recon_matrix=(48, 48, 1), fov_mm=(512, 256, 5),
                    recon_fov_mm=(256, 256, 5))
    over = RawMRI(k2.astype(np.complex64), np.ones((48, 96), bool), hdr, ("coil", "ky", "kx"))
    rec = reconstruct_raw(over, "cg", max_iter=10)
    assert rec.image.shape == (48, 48) and "oversampling removed: 96 -> 48" in rec.steps[0]
    np.testing.assert_allclose(rec.image, reconstruct_raw(raw, "cg", max_iter=10).image, atol=1e-4)


def test_bad_input():
    raw = _sim_raw()
    with pytest.raises(TypeError, match="RawMRI"):
        reconstruct_raw(raw.kspace)
    with pytest.raises(ValueError, match="method must be one of"):
        reconstruct_raw(raw, "fista")
    with pytest.raises(ValueError, match="accel"):
        reconstruct_raw(raw, accel=0.5)
    centre_missing = raw.mask.copy()
    centre_missing[24, 24] = False
    with pytest.raises(ValueError, match="calibration region"):
        reconstruct_raw(dataclasses.replace(raw, mask=centre_missing))
    radial = dataclasses.replace(raw, header=MRIHeader(matrix=(48, 48, 1), trajectory="radial"))
    with pytest.raises(ValueError, match="Cartesian"):
        reconstruct_raw(radial)


def test_a_trajectory_file_resamples_the_scan_along_it(brain, tmp_path):
    # issue 31 item 5: reconstruct_raw(accel=trajectory.npz) (and csbox recon --accel) resample the
    # fully sampled coil images along the file's trajectory and reconstruct with coords=
    from csbox.mri import radial
    from csbox.sampling import save_trajectory

    raw, ref = brain
    save_trajectory(tmp_path / "t.npz", radial(100, 256), (128, 128))  # 100 spokes of 256: R ~ 2
    rec = reconstruct_raw(raw, "cg", accel=tmp_path / "t.npz", max_iter=15)
    assert rec.image.shape == (128, 128) and "trajectory" in rec.steps[-2]
    assert psnr(np.abs(rec.image), ref) > 35.0  # measured 37.7 dB
    with pytest.raises(ValueError, match="llr"):
        reconstruct_raw(raw, "llr", accel=tmp_path / "t.npz")
    save_trajectory(tmp_path / "small.npz", radial(8, 64), (32, 32))
    with pytest.raises(ValueError, match="expected"):
        reconstruct_raw(raw, "cg", accel=tmp_path / "small.npz")
