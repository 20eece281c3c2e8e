"""The mri-tv demo in quick mode: figures written, TV improves on zero filling, the SSIM helper."""

import numpy as np
import pytest

from csbox.demos.mri_tv import run, ssim


@pytest.mark.slow  # a quick run takes over a minute on 2 cores
def test_mri_tv_quick(tmp_path):
    m = run(tmp_path, quick=True)
    assert (tmp_path / "mri_tv_reconstructions.png").exists()
    assert (tmp_path / "mri_tv_convergence.png").exists()
    for rate in ("R=4", "R=8"):
        assert m[rate]["TV"]["psnr"] > m[rate]["zero-filled"]["psnr"], rate
        assert m[rate]["TV"]["ssim"] > m[rate]["zero-filled"]["ssim"], rate
    assert set(m["final_gap"]["l1-wavelet"]) == {"FISTA", "ADMM", "PDHG"}


def test_ssim_bounds():
    rng = np.random.default_rng(0)
    ref = rng.random((32, 32))
    assert ssim(ref, ref) == 1.0
    assert ssim(ref + 0.3 * rng.standard_normal((32, 32)), ref) < 0.9
