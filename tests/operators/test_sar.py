"""MIMO-SAR: adjoint, back-projection focus, EMPM vs BPA on irregular scans, range resolution, errors."""

import numpy as np
import pytest

from csbox.backend import to_numpy
from csbox.operators.sar import (
    FMCW,
    MIMOSAR,
    ImageGrid,
    MIMOArray,
    empm,
    linear_scan,
    planar_scan,
    psf_widths,
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
    with pytest.raises(ValueError, match="at least 2 positions"):
        linear_scan(1, LAM)
    behind = ImageGrid.yz((-0.01, 0.01), (-0.3, 0.1), 3, 4)
    with pytest.raises(ValueError, match="behind or at the array"):
        MIMOSAR(ARR, WF, linear_scan(3, LAM), behind)
    with pytest.raises(ValueError, match="n_samples must be an int >= 2"):
        FMCW(n_samples=1)
    with pytest.raises(ValueError, match="must be > 0"):
        FMCW(bandwidth=-1.0)
    with pytest.raises(ValueError, match=r"tx positions must have shape \(n, 3\)"):
        MIMOArray(np.zeros((2, 2)), np.zeros((1, 3)))
