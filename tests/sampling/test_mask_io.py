"""Masks on disk: save_mask / load_mask without pickle, and ``csbox recon --accel mask.npz``."""

import json

import numpy as np
import pytest

from csbox.cli import main
from csbox.io import write_cfl
from csbox.mri import shepp_logan_kspace
from csbox.sampling import load_mask, poisson_disc, save_mask


def test_roundtrip_and_refusals(tmp_path):
    m = poisson_disc((16, 16), acceleration=3, calib=4, seed=0)
    save_mask(tmp_path / "m.npz", m)
    np.testing.assert_array_equal(load_mask(tmp_path / "m.npz", shape=(16, 16)), m)
    with pytest.raises(ValueError, match="shape"):
        load_mask(tmp_path / "m.npz", shape=(8, 8))
    np.save(tmp_path / "obj.npy", np.array([object()]), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj\.npy"):
        load_mask(tmp_path / "obj.npy")
    with pytest.raises(TypeError, match="mask must be boolean"):
        save_mask(tmp_path / "x.npz", m.astype(int))


def test_recon_accepts_a_mask_file(tmp_path):
    n = 40
    k = shepp_logan_kspace((n, n), 6, seed=0).kspace  # (coil, ky, kx)
    write_cfl(tmp_path / "ksp", np.transpose(k, (2, 1, 0))[:, :, None, :])
    mask = poisson_disc((n, n), acceleration=2, calib=16, seed=3)
    save_mask(tmp_path / "learned.npz", mask)
    out = tmp_path / "img.npy"
    argv = ["recon", str(tmp_path / "ksp.cfl"), str(out), "--method", "cg", "--iter", "5",
            "--accel", str(tmp_path / "learned.npz"), "--calib", "16", "--no-progress"]
    assert main(argv) == 0
    meta = json.loads((tmp_path / "img.npy.json").read_text())
    assert any("learned.npz" in s for s in meta["steps"])
    assert np.load(out).shape == (n, n)
    save_mask(tmp_path / "small.npz", np.ones((8, 8), bool))
    argv[argv.index("--accel") + 1] = str(tmp_path / "small.npz")
    assert main(argv) != 0  # the wrong shape is refused with a one-line message


def test_recon_accepts_a_trajectory_file(tmp_path):
    from csbox.mri import radial
    from csbox.sampling import save_trajectory

    n = 40
    k = shepp_logan_kspace((n, n), 6, seed=0).kspace
    write_cfl(tmp_path / "ksp", np.transpose(k, (2, 1, 0))[:, :, None, :])
    save_trajectory(tmp_path / "traj.npz", radial(40, 2 * n), (n, n))
    out = tmp_path / "img.npy"
    argv = ["recon", str(tmp_path / "ksp.cfl"), str(out), "--method", "cg", "--iter", "5",
            "--accel", str(tmp_path / "traj.npz"), "--calib", "16", "--no-progress"]
    assert main(argv) == 0
    meta = json.loads((tmp_path / "img.npy.json").read_text())
    assert any("trajectory of" in s and "traj.npz" in s for s in meta["steps"])
    assert np.load(out).shape == (n, n)


def test_reconstruct_raw_mask_file_equals_the_array(tmp_path):
    from csbox.io import read_cfl  # noqa: F401  (the reader of the cfl input, through the CLI)
    from csbox.mri import reconstruct_raw
    from csbox.mri.pipeline import _retrospective

    mask = poisson_disc((24, 24), acceleration=2, calib=10, seed=1)
    save_mask(tmp_path / "m.npz", mask)
    log: list[str] = []
    np.testing.assert_array_equal(_retrospective((24, 24), tmp_path / "m.npz", 10, 0, log), mask)
    assert "m.npz" in log[0]
    with pytest.raises(ValueError, match="accel"):
        _retrospective((20, 24), tmp_path / "m.npz", 10, 0, [])
    assert callable(reconstruct_raw)
