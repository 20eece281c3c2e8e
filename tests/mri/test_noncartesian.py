"""Non-Cartesian SENSE (``Sense(maps, coords=...)``) and learned spoke selection."""

from __future__ import annotations

import numpy as np
import pytest

from csbox.backend import to_numpy
from csbox.mri import Sense
from csbox.mri.trajectories import radial, spiral
from csbox.operators import NUFFT
from csbox.solvers import cg
from csbox.testing import dottest


def _maps(n_coils: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = (np.mgrid[:n, :n] - n / 2) / n
    maps = np.array([np.exp(-((yy - rng.uniform(-.5, .5)) ** 2 + (xx - rng.uniform(-.5, .5)) ** 2))
                     * np.exp(1j * rng.uniform(0, 2 * np.pi)) for _ in range(n_coils)])
    return maps / np.sqrt(np.sum(np.abs(maps) ** 2, axis=0))


def test_sense_dottest_and_toeplitz_every_backend(backend):
    E = Sense(_maps(3, 12), coords=radial(9, 24))
    assert E.oshape == (3, 9, 24)
    dottest(E, xp=backend.xp, device=backend.device, dtype=backend.real, batch=(2,))
    x = np.random.default_rng(1).standard_normal((2, 12, 12)) + 0j
    ref = E.H @ (E @ x)
    got = to_numpy(E.normal() @ backend.asarray(x))
    # Toeplitz PSF from a NUFFT at eps = 1e-6: equal to A^H A within a few eps (float32: ~1e-5)
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < max(20 * backend.rtol, 1e-5)


def test_sense_equals_per_coil_nufft():
    maps = _maps(4, 16)
    k = spiral(3, 200, 16)
    E = Sense(maps, coords=k)
    A = NUFFT((16, 16), k)
    x = np.random.default_rng(2).standard_normal((16, 16)) + 1j
    y = E @ x
    for c in range(4):
        assert np.allclose(y[c], A @ (maps[c] * x), atol=1e-12)
    ref = E.H @ (E @ x)
    assert np.linalg.norm(E.normal() @ x - ref) / np.linalg.norm(ref) < 1e-5


def test_cg_sense_recovers_image_from_radial_data():
    n = 24
    maps = _maps(6, n)
    yy, xx = np.mgrid[:n, :n] - n / 2
    # smooth objects: their spectrum lies inside the radial disc, so the data determine them
    x = np.exp(-((yy - 2) ** 2 + xx**2) / 8) + 0.5j * np.exp(-((yy + 4) ** 2 + (xx - 3) ** 2) / 6)
    E = Sense(maps, coords=radial(24, 2 * n))  # 24 spokes: R ~ 1.6, 6 coils
    res = cg(E, E @ x, max_iter=200, tol=1e-10)
    # noiseless: CG-SENSE converges to the image up to the NUFFT's eps = 1e-6 (measured 2e-5)
    assert np.linalg.norm(res.x - x) / np.linalg.norm(x) < 1e-4


def test_spoke_subsets_and_dps_training_runs():
    pytest.importorskip("torch")
    from csbox.mri.spokes import golden_subset, train_spoke_selection, uniform_subset

    g = golden_subset(10, 4)
    assert g.sum() == 4 and g[:4].all()
    u = uniform_subset(40, 4)
    assert u.sum() == 4
    for bad in (-1, 11):  # a negative count used to drop the last spokes; too many kept all
        for fn in (golden_subset, uniform_subset):
            with pytest.raises(ValueError, match="n_select"):
                fn(10, bad)
    for fn in (uniform_subset, golden_subset):  # no spoke kept measures nothing: refused
        with pytest.raises(ValueError, match="n_select"):
            fn(10, 0)
    theta = np.sort(np.mod(np.arange(40) * (np.pi * 2 / (1 + 5 ** 0.5)), np.pi)[u])
    gaps = np.diff(np.r_[theta, theta[0] + np.pi])
    assert np.all(np.abs(gaps - np.pi / 4) < 0.15)  # near-uniform lines
    rng = np.random.default_rng(0)
    imgs = rng.random((8, 8, 8))
    out = train_spoke_selection(imgs, 8, 3, epochs=1, batch_size=4, n_iter=1)
    assert set(out["masks"]) == {"dps", "golden", "uniform"}
    assert out["masks"]["dps"].sum() == 3
    assert all(np.isfinite(s["psnr"]) for s in out["scores"].values())
    # gradients reach the sampler's logits through the NUFFT
    assert out["sampler"].logits.grad is not None and float(out["sampler"].logits.grad.abs().sum()) > 0


def test_espirit_from_gridded_radial_centre():
    from csbox.mri import espirit_maps
    from csbox.mri.dcf import gridded_kspace
    from csbox.mri.sim import birdcage_maps, shepp_logan_kspace

    n = 64
    sim = shepp_logan_kspace((n, n), n_coils=8)
    maps_true, img = sim.maps, sim.image
    k = radial(96, 2 * n)  # centre fully sampled: spokes < 0.5 apart within |k| < 96 / pi
    y = Sense(maps_true, coords=k) @ img
    ksp = gridded_kspace(y, k, (n, n))
    est = espirit_maps(ksp, calib_width=20)
    obj = np.abs(sim.phantom) > 0.05
    num = np.abs(np.sum(np.conj(est) * maps_true, axis=0))
    den = np.linalg.norm(est, axis=0) * np.linalg.norm(maps_true, axis=0) + 1e-12
    # the #16 criterion: estimated maps span the true ones pixel-wise, averaged over the object
    # (measured 0.9998: the gridded centre is Cartesian k-space up to the NUFFT eps)
    assert np.mean((num / den)[obj]) >= 0.98
    assert birdcage_maps((n, n), 8).shape == maps_true.shape
