"""Quick run of the mri-parallel demo: figures written, the methods ranked as they should be."""

import pytest

from csbox.demos import get


@pytest.mark.slow  # a quick run takes over a minute on 2 cores
def test_mri_parallel_quick(tmp_path):
    m = get("mri-parallel").run(tmp_path, quick=True)
    assert (tmp_path / "mri_parallel_recon.png").exists() and (tmp_path / "mri_parallel_maps.png").exists()
    for key, v in m.items():
        if key == "total_seconds":
            continue
        s = v["scores"]
        # every SENSE reconstruction beats the aliased zero-filled RSS; regularised ones beat CG at R = 4
        margin = 2.0 if key.endswith("R=4") else 0.0
        assert s["CG-SENSE"]["psnr"] > s["zero-filled RSS"]["psnr"] + margin, key
        if key.endswith("R=4"):
            assert s["l1-wavelet SENSE"]["psnr"] > s["CG-SENSE"]["psnr"], key
            assert s["TV SENSE"]["psnr"] > s["CG-SENSE"]["psnr"], key
        assert v["map_agreement"] > 0.98, key
