"""MIMO-SAR: adjoint, back-projection focus, EMPM vs BPA on irregular scans, range resolution, errors."""

import numpy as np
import pytest

from csbox.backend import to_numpy
from csbox.sar import (
    FMCW,
    MIMOSAR,
    ImageGrid,
    MIMOArray,
    empm,
    linear_scan,
    planar_scan,
    psf_widths,
    sparse_reconstruction,
    target_to_clutter_db,
)
from csbox.testing import dottest

WF = FMCW(n_samples=16)
ARR = MIMOArray.iwr1443()
LAM = WF.wavelength


def test_iwr1443_virtual_array():
    v = MIMOArray.iwr1443().virtual[:, 1]
    np.testing.assert_allclose(np.diff(np.sort(v)), LAM / 4, rtol=1e-12)
    assert v.size == 8


def test_dottest_backends(backend):
    pos = linear_scan(3, 2 * LAM, height_dev=0.01, seed=1)
    grid = ImageGrid.yz((-0.02, 0.02), (0.3, 0.35), 5, 4)
    A = MIMOSAR(ARR, WF, pos, grid, chunk=7)
    rtol = 1e-3 if backend.single else None
    dottest(A, xp=backend.xp, device=backend.device, dtype=backend.real, rtol=rtol)
    x = backend.randn(grid.shape, complex=True)
    ref = A @ to_numpy(x).astype(complex)
    np.testing.assert_allclose(to_numpy(A @ x), ref, rtol=1e-3 if backend.single else 1e-10,
                               atol=1e-3 * np.abs(ref).max() if backend.single else 1e-10)


def test_forward_matches_direct_sum():
    pos = linear_scan(2, 2 * LAM)
    grid = ImageGrid.yz((-0.01, 0.01), (0.3, 0.31), 3, 2)
    A = MIMOSAR(ARR, WF, pos, grid)
    rho = np.random.default_rng(0).standard_normal(grid.shape)
    s = A @ rho
    pts = grid.points
    k = WF.wavenumbers
    ref = np.zeros(A.oshape, complex)
    for li, p in enumerate(pos):
        for ti, t in enumerate(ARR.tx):
            for ri, r in enumerate(ARR.rx):
                d = np.linalg.norm(p + t - pts, axis=1) + np.linalg.norm(p + r - pts, axis=1)
                ref[li, ti, ri] = np.exp(-1j * np.outer(k, d)) @ rho.ravel()
    np.testing.assert_allclose(s, ref, rtol=1e-10, atol=1e-10)


@pytest.fixture(scope="module")
def psf():
    wf = FMCW(n_samples=32)
    pos = linear_scan(32, 2 * LAM, height_dev=0.03, seed=0)
    grid = ImageGrid.yz((-0.1, 0.1), (0.3, 0.7), 100, 100)
    A = MIMOSAR(ARR, wf, pos, grid)
    rho = np.zeros(grid.shape)
    rho[np.argmin(np.abs(grid.y)), np.argmin(np.abs(grid.z - 0.5))] = 1.0
    s = A @ rho
    return wf, pos, grid, s, A.H @ s


def test_backprojection_peaks_at_target(psf):
    _, _, grid, _, bpa = psf
    w = psf_widths(bpa, grid)
    assert abs(w["peak_y"]) <= grid.y[1] - grid.y[0] and abs(w["peak_z"] - 0.5) <= grid.z[1] - grid.z[0]


def test_empm_matches_bpa_and_beats_plain_rma(psf):
    wf, pos, grid, s, bpa = psf
    dy, dz = grid.y[1] - grid.y[0], grid.z[1] - grid.z[0]
    wb = psf_widths(bpa, grid)
    im = empm(s, ARR, wf, pos, grid, z_ref=0.3, window=None)
    we = psf_widths(im, grid)
    assert abs(we["peak_y"] - wb["peak_y"]) <= dy and abs(we["peak_z"] - wb["peak_z"]) <= dz
    assert abs(we["peak_y"]) <= dy and abs(we["peak_z"] - 0.5) <= dz
    for ax in ("y", "z"):
        assert we[ax] == pytest.approx(wb[ax], rel=0.2)
    a, b = np.abs(im).ravel(), np.abs(bpa).ravel()
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) >= 0.9
    plain = empm(s, ARR, wf, pos, grid, z_ref=0.3, window=None, correct=False)
    wp = psf_widths(plain, grid)
    c = np.abs(plain).ravel()
    assert c @ b / np.linalg.norm(c) / np.linalg.norm(b) < 0.6
    # without the corrections the height errors shift and smear the target: at its true position
    # the plain RMA image is well below its own peak, while EMPM peaks there
    iy, iz = np.argmin(np.abs(grid.y)), np.argmin(np.abs(grid.z - 0.5))
    assert np.abs(plain)[iy, iz] < 0.5 * np.abs(plain).max()
    assert np.abs(im)[iy, iz] > 0.9 * np.abs(im).max()
    assert wp is not None


def test_range_resolution_matches_theory():
    """Narrow aperture (4 steps, target at 1 m): the range -3 dB width is 0.886 c / (2B) without window."""
    wf = FMCW(n_samples=32)
    grid = ImageGrid.yz((-0.02, 0.02), (0.8, 1.2), 9, 201)
    A = MIMOSAR(ARR, wf, linear_scan(4, 2 * LAM), grid)
    rho = np.zeros(grid.shape)
    rho[4, 100] = 1
    w = psf_widths(A.H @ (A @ rho), grid)
    assert w["z"] == pytest.approx(0.886 * wf.range_resolution, rel=0.15)


def test_planar_empm_focuses_in_3d():
    wf = FMCW(n_samples=16)
    pos = planar_scan(24, 3, LAM / 4, 2 * LAM, height_dev=0.01, seed=2)
    src = ImageGrid(np.array([0.0]), np.array([0.0]), np.array([0.3]))
    s = MIMOSAR(ARR, wf, pos, src) @ np.ones(src.shape)
    grid = ImageGrid(np.linspace(-0.02, 0.02, 21), np.linspace(-0.02, 0.02, 21), np.linspace(0.25, 0.35, 21))
    vol = empm(s, ARR, wf, pos, grid, z_ref=0.3, n_fft=128)
    w = psf_widths(vol, grid)
    assert abs(w["peak_x"]) <= 0.002 + 1e-9 and abs(w["peak_y"]) <= 0.002 + 1e-9
    assert abs(w["peak_z"] - 0.3) <= 0.005 + 1e-9


def test_bad_input():
    grid = ImageGrid.yz((-0.01, 0.01), (0.3, 0.31), 3, 2)
    with pytest.raises(ValueError, match=r"positions must have shape \(L, 3\)"):
        MIMOSAR(ARR, WF, np.zeros((4, 2)), grid)
    with pytest.raises(ValueError, match="at least 2 positions"):
        MIMOSAR(ARR, WF, np.zeros((1, 3)), grid)
    with pytest.raises(ValueError, match="n_steps must be >= 2"):
        linear_scan(1, LAM)
    behind = ImageGrid.yz((-0.01, 0.01), (-0.3, 0.1), 3, 4)
    with pytest.raises(ValueError, match="behind or at the array"):
        MIMOSAR(ARR, WF, linear_scan(3, LAM), behind)
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        FMCW(n_samples=1)
    with pytest.raises(ValueError, match="must be > 0"):
        FMCW(bandwidth=-1.0)
    with pytest.raises(ValueError, match=r"tx positions must have shape \(n, 3\)"):
        MIMOArray(np.zeros((2, 2)), np.zeros((1, 3)))


def test_empm_validates_its_input():
    pos = linear_scan(4, 2 * LAM)
    grid = ImageGrid.yz((-0.02, 0.02), (0.3, 0.35), 5, 4)
    s = MIMOSAR(ARR, WF, pos, grid) @ np.ones(grid.shape)
    with pytest.raises(ValueError, match=r"data has shape .* expected \(L, n_tx, n_rx, K\)"):
        empm(s[..., :-1], ARR, WF, pos, grid)
    with pytest.raises(ValueError, match="positions must be finite with shape"):
        empm(s, ARR, WF, pos[:-1], grid)
    with pytest.raises(ValueError, match="data contains NaN"):
        empm(s * np.nan, ARR, WF, pos, grid)
    with pytest.raises(ValueError, match="window must be one of"):
        empm(s, ARR, WF, pos, grid, window="hamming")
    with pytest.raises(ValueError, match="max_angle must be < 90"):
        empm(s, ARR, WF, pos, grid, max_angle=90.0)
    with pytest.raises(ValueError, match="z_ref must be > 0"):
        empm(s, ARR, WF, pos, grid, z_ref=0.0)
    with pytest.raises(TypeError, match="n_fft must be an int"):
        empm(s, ARR, WF, pos, grid, n_fft=128.0)
    with pytest.raises(ValueError, match="smaller than the virtual aperture"):
        empm(s, ARR, WF, pos, grid, n_fft=8)
    with pytest.raises(TypeError, match=r"waveform must be a csbox\.sar\.FMCW"):
        empm(s, ARR, "77 GHz", pos, grid)
    with pytest.raises(TypeError, match="correct must be a bool"):
        empm(s, ARR, WF, pos, grid, correct="yes")


def test_geometry_validates_its_input():
    with pytest.raises(TypeError, match="n_steps must be an int"):
        linear_scan(4.0, LAM)
    with pytest.raises(ValueError, match="step must be > 0"):
        linear_scan(4, 0.0)
    with pytest.raises(ValueError, match="height_dev must be >= 0"):
        linear_scan(4, LAM, height_dev=-0.01)
    with pytest.raises(ValueError, match="dy must be finite"):
        planar_scan(4, 2, LAM, float("nan"))
    with pytest.raises(ValueError, match="at least 2 positions"):
        planar_scan(1, 1, LAM, LAM)
    with pytest.raises(TypeError, match="ny must be an int"):
        ImageGrid.yz((0, 1), (1, 2), 3.5, 4)
    with pytest.raises(ValueError, match="grid axis z must be a finite"):
        ImageGrid(np.zeros(1), np.zeros(2), np.array([np.nan]))
    with pytest.raises(TypeError, match="chunk must be an int"):
        MIMOSAR(ARR, WF, linear_scan(3, LAM), ImageGrid.yz((0, 0.01), (0.3, 0.31), 2, 2), chunk=2.0)
    with pytest.raises(ValueError, match=r"needs .* of memory"):
        MIMOSAR(ARR, WF, linear_scan(10**6, LAM), ImageGrid.yz((0, 0.01), (0.3, 0.31), 64, 64))


def test_psf_metrics():
    grid = ImageGrid.yz((-1.0, 1.0), (0.0, 2.0), 201, 201)
    Y, Z = np.meshgrid(grid.y, grid.z - 1.0, indexing="ij")
    # a separable Gaussian of standard deviation s has a -3 dB (half-amplitude^2) full width
    # 2 s sqrt(2 ln(10^(3/20))) ; linear interpolation between 0.01-spaced samples is exact to ~1e-4
    img = np.exp(-(Y**2) / (2 * 0.1**2) - Z**2 / (2 * 0.2**2))
    w = psf_widths(img, grid)
    k = 2 * np.sqrt(2 * np.log(10 ** (3 / 20)))
    assert w["y"] == pytest.approx(k * 0.1, rel=1e-3) and w["z"] == pytest.approx(k * 0.2, rel=1e-3)
    assert w["peak_y"] == pytest.approx(0.0, abs=1e-12) and w["peak_z"] == pytest.approx(1.0, abs=1e-12)
    near = (np.abs(Y) < 0.5) & (np.abs(Z) < 0.5)
    e = img**2
    assert target_to_clutter_db(img, near) == pytest.approx(10 * np.log10(e[near].sum() / e[~near].sum()))
    with pytest.raises(ValueError, match="expected the grid's"):
        psf_widths(img[:-1], grid)
    with pytest.raises(ValueError, match="level_db must be < 0"):
        psf_widths(img, grid, level_db=3.0)
    with pytest.raises(ValueError, match="near must mark some pixels"):
        target_to_clutter_db(img, np.zeros(img.shape, bool))


def test_sparse_reconstruction_beats_backprojection_on_a_sparse_scan():
    """l1 on the exact model of 4 of 16 positions: less clutter than back-projection (the demo's case (c))."""
    pos = linear_scan(16, 2 * LAM, height_dev=0.02, seed=0)[::4]
    grid = ImageGrid.yz((-0.04, 0.04), (0.45, 0.55), 24, 11)
    A = MIMOSAR(ARR, WF, pos, grid)
    rho = np.zeros(grid.shape)
    rho[6, 3], rho[16, 7] = 1.0, 0.7
    s = A @ rho
    near = np.zeros(grid.shape, bool)
    near[5:8, 2:5] = near[15:18, 6:9] = True
    res = sparse_reconstruction(A, s, lam_rel=0.05, max_iter=60)
    assert res.x.shape == grid.shape and res.n_iter == 60
    assert target_to_clutter_db(res.x, near) > target_to_clutter_db(A.H @ s, near) + 10.0
    with pytest.raises(TypeError, match=r"op must be a csbox\.sar\.MIMOSAR"):
        sparse_reconstruction(np.eye(3), s)
    with pytest.raises(ValueError, match="lam_rel must be < 1"):
        sparse_reconstruction(A, s, lam_rel=2.0)


def test_old_module_is_gone():
    import importlib

    with pytest.raises(ImportError):
        importlib.import_module("csbox.operators.sar")


def test_psf_widths_single_plane_axis_is_nan():
    """A one-plane x-y volume (known range) has no z lobe: NaN, not an IndexError; x and y widths as 2-D."""
    x = np.linspace(-1.0, 1.0, 201)
    grid = ImageGrid(x, x, np.array([0.5]))
    X, Y = np.meshgrid(x, x, indexing="ij")
    img = np.exp(-(X**2) / (2 * 0.1**2) - Y**2 / (2 * 0.2**2))[..., None]
    w = psf_widths(img, grid)
    k = 2 * np.sqrt(2 * np.log(10 ** (3 / 20)))  # -3 dB full width of a Gaussian / its sigma (see above)
    assert w["x"] == pytest.approx(k * 0.1, rel=1e-3) and w["y"] == pytest.approx(k * 0.2, rel=1e-3)
    assert np.isnan(w["z"]) and w["peak_z"] == 0.5


def test_empm_planar_resampling_is_periodic_below_the_aperture():
    """Image x (and y) just below the first virtual element falls in the FFT grid's last
    (wrap-around) interval: it must be interpolated between the last and first samples,
    not zeroed (0.2 left a whole row of zeros there)."""
    wf, arr = FMCW(n_samples=8), MIMOArray.iwr1443()
    lam = wf.wavelength
    pos = planar_scan(8, 2, lam / 4, 2 * lam)
    x0 = float(pos[:, 0].min())
    dx = lam / 4
    grid = ImageGrid(x0 + dx * np.linspace(-2.0, 2.0, 33), np.array([0.0]), np.array([0.25]))
    A = MIMOSAR(arr, wf, pos, ImageGrid(np.array([x0, x0 + 0.05]), np.array([0.0, 0.01]), np.array([0.25])))
    rho = np.zeros(A.ishape)
    rho[0, 0, 0] = 1.0
    line = np.abs(empm(A @ rho, arr, wf, pos, grid, n_fft=64))[:, 0, 0]
    # n_fft = 64 dx (62 mm) holds the wide response of this 8 dx aperture without wrap-around; it varies
    # on the x resolution (many dx): between samples dx / 8 apart it changes by far less than its
    # peak, while a zeroed sample would jump by about the peak
    assert line.min() > 0.5 * line.max()
    assert np.max(np.abs(np.diff(line))) < 0.1 * line.max()


def _target_data(yt, z, height_dev=0.0):
    """Beat samples of one point target at (0, yt, z) seen by 32 steps of 2 lambda (IWR1443, 32 samples)."""
    wf = FMCW(n_samples=32)
    pos = linear_scan(32, 2 * LAM, height_dev=height_dev, seed=0)
    src = ImageGrid(np.zeros(1), np.array([yt]), np.array([z]))
    return wf, pos, MIMOSAR(ARR, wf, pos, src) @ np.ones(src.shape)


def _aperture_edges(pos):
    v = (pos[:, None, 1] + ARR.virtual[None, :, 1]).ravel()
    return float(v.min()), float(v.max())


@pytest.mark.parametrize("offset", [0.5, 1.0, 1.25])
def test_empm_peak_matches_matched_filter_off_centre(offset):
    """Targets half-way to the edge, at the edge and a quarter beyond it (in half apertures), 0.3 m away:
    the EMPM peak lies where the matched filter (exact back-projection) peaks, within 0.25 resolution
    cells (offsets over the -3 dB widths, combined). 0.2.0 interpolated the inverse FFT's own grid
    linearly onto the image grid; that grid samples the complex image at about its Nyquist rate (dy =
    lambda / 4 for |k_y| up to 2 k sin 60 deg, dz = 2 pi / (k_z band) = 3.5 mm), so the peak snapped to
    a grid node: 0.28, 0.32, 0.34 cells off for a target midway between nodes (as here). EMPM's own
    approximations (the d^2 / (4 Z_ref) multistatic phase, linear Stolt interpolation in k) leave
    0.05-0.08 cells here and at most 0.19 over 24 placements across a node cell (0.1 mm grids)."""
    k = FMCW(n_samples=32).wavenumbers
    dz = 2 * np.pi / (2 * k[-1] - k[0])  # 1 / (k_z band) with max_angle = 60 deg: 2 k0 cos 60 = k0
    wf, pos, _ = _target_data(0.0, 0.3)
    lo, hi = _aperture_edges(pos)
    yc = 0.5 * (lo + hi) + offset * 0.5 * (hi - lo)
    yt = lo + (np.round((yc - lo) / (LAM / 4)) + 0.5) * LAM / 4  # midway between virtual elements
    z = (np.round(0.3 / dz) + 0.5) * dz
    wf, pos, s = _target_data(yt, z)
    # +-4 mm x +-10 mm holds the -3 dB lobe (<= 2.9 mm x 11 mm wide here) around the target
    grid = ImageGrid.yz((yt - 0.004, yt + 0.004), (z - 0.01, z + 0.01), 81, 81)
    wb = psf_widths(MIMOSAR(ARR, wf, pos, grid).H @ s, grid)
    assert abs(wb["peak_y"] - yt) <= 0.1e-3 + 1e-12 and abs(wb["peak_z"] - z) <= 0.25e-3 + 1e-12
    we = psf_widths(empm(s, ARR, wf, pos, grid, z_ref=0.3, window=None), grid)
    assert np.hypot((we["peak_y"] - wb["peak_y"]) / wb["y"], (we["peak_z"] - wb["peak_z"]) / wb["z"]) <= 0.25


def test_empm_backends(backend):
    """EMPM in every namespace: the same image as NumPy's (float64 to 1e-10, float32 to 1e-3 of its peak)."""
    pos = linear_scan(8, 2 * LAM)
    grid = ImageGrid.yz((-0.02, 0.04), (0.27, 0.33), 7, 6)
    s = MIMOSAR(ARR, WF, pos, ImageGrid(np.zeros(1), np.array([0.03]), np.array([0.3]))) @ np.ones((1, 1))
    ref = empm(s, ARR, WF, pos, grid, n_fft=128)
    im = empm(backend.asarray(s), ARR, WF, pos, grid, n_fft=128)
    assert im.shape == grid.shape and im.dtype == backend.complex
    # float32: sums of ~10^4 complex64 terms (FFT, Stolt, synthesis), each ~1e-7 relative, fit well in 1e-3
    tol = (1e-3 if backend.single else 1e-10) * np.abs(ref).max()
    np.testing.assert_allclose(to_numpy(im), ref, rtol=0, atol=tol)


def _ncc(a, b):
    a, b = np.abs(a).ravel(), np.abs(b).ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_empm_irregular_heights_documented_cone():
    """empm's Notes: with heights off the reference plane by dz the plane correction leaves a phase
    2 k dz (1 - cos theta) at look angle theta. Here dz <= 1.5 cm (k <= 1695 rad/m): a target at the
    centre at 0.5 m (theta <= 14 deg: 2 k dz (1 - cos theta) <= 1.5 rad at the aperture's ends, less where the
    heights are smaller) focuses where back-projection does; one at the aperture's edge at 0.3 m (theta up to
    40 deg: up to 12 rad) defocuses: its image no longer matches back-projection (the flat scan's does)."""
    wf, pos, _ = _target_data(0.0, 0.3)
    lo, hi = _aperture_edges(pos)
    for yt, z, valid in ((0.5 * (lo + hi), 0.5, True), (hi, 0.3, False)):
        grid = ImageGrid.yz((yt - 0.02, yt + 0.02), (z - 0.04, z + 0.04), 41, 41)
        for dev in (0.0, 0.03):
            wf, pos, s = _target_data(yt, z, height_dev=dev)
            bpa = MIMOSAR(ARR, wf, pos, grid).H @ s
            im = empm(s, ARR, wf, pos, grid, z_ref=0.3, window=None)
            wb, we = psf_widths(bpa, grid), psf_widths(im, grid)
            cells = np.hypot((we["peak_y"] - wb["peak_y"]) / wb["y"], (we["peak_z"] - wb["peak_z"]) / wb["z"])
            if valid or dev == 0.0:  # measured: NCC 0.989-0.999, peak on back-projection's sample
                assert _ncc(im, bpa) >= 0.97 and cells <= 0.25
            else:  # measured: NCC 0.75, peak 1.5 cells off
                assert _ncc(im, bpa) < 0.85 and cells > 0.5


@pytest.mark.parametrize("uniform", [True, False])
def test_empm_synthesis_is_the_inverse_dft_at_the_grid_points(backend, uniform):
    """The image synthesis out_q = sum_m a_m exp(j k_m c_q) / n against the dense sum in NumPy: through
    Bluestein's chirp-z transform on a uniform axis (k in FFT order, as a spatial FFT gives it), through
    a matrix otherwise (float64 to 1e-10; float32 to 1e-4 relative of the largest output)."""
    from csbox.sar.rma import _synthesize

    rng = np.random.default_rng(3)
    n, nq = 64, 300
    k = 2 * np.pi * np.fft.fftfreq(n, d=LAM / 4)
    c = np.linspace(-0.07, 0.21, nq) if uniform else np.sort(rng.uniform(-0.07, 0.21, nq))
    a = rng.standard_normal((3, n, 5)) + 1j * rng.standard_normal((3, n, 5))
    ref = np.einsum("imj,mq->iqj", a, np.exp(1j * np.outer(k, c)) / n)
    out = _synthesize(backend.xp, backend.asarray(a), k, c, axis=1)
    assert out.shape == (3, nq, 5)
    tol = (1e-4 if backend.single else 1e-10) * np.abs(ref).max()
    np.testing.assert_allclose(to_numpy(out), ref, rtol=0, atol=tol)
