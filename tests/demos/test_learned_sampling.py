"""The learned-sampling demo in --quick mode: metrics keys, figure, reusable mask files."""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("skimage")


def test_learned_sampling_quick(tmp_path):
    from csbox.demos import registry
    from csbox.demos.learned_sampling import run
    from csbox.sampling import load_mask, load_trajectory

    assert "learned-sampling" in registry() and "dps-fourier" in registry()
    m = run(tmp_path, quick=True)
    for key in ("learned_cartesian", "poisson_disc", "variable_density", "learned_radial", "golden_angle"):
        assert key in m
    for R in (4, 8):
        row = m[f"R={R}"]
        n = {row[k]["samples"] for k in ("learned_cartesian", "poisson_disc", "variable_density")}
        assert len(n) == 1  # equal sample counts
        assert row["learned_cartesian"]["psnr"] > row["poisson_disc"]["psnr"]
        mask = load_mask(tmp_path / f"learned_mask_R{R}.npz")
        assert mask.sum() == n.pop() and mask[14:18, 14:18].all()  # the fixed centre
        radial = row["radial"]
        for key in ("learned_radial", "golden_angle"):
            assert radial[key]["spokes"] == radial["spokes"] and np.isfinite(radial[key]["psnr"])
        coords, _ = load_trajectory(tmp_path / f"learned_trajectory_R{R}.npz", (32, 32))
        assert coords.shape == (radial["spokes"], 64, 2)
    assert np.isfinite(m["learned_radial"]) and np.isfinite(m["golden_angle"])
    assert (tmp_path / "learned_sampling.png").exists()
    assert np.isfinite(m["learned_cartesian"])
