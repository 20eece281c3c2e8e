"""Quick runs of the mri (real scan) and mri-parallel demos: figures written, methods ranked."""

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


def test_mri_demo_on_the_real_scan(tmp_path):
    # the front-page demo: the real 16-channel scan of data/ at R = 6. Measured (full run): zero-filled
    # 23.5 dB, CG-SENSE 33.2 dB, l1-wavelet 35.2 dB, TV 35.4 dB; --quick runs fewer iterations, so the
    # margins are smaller than those
    m = get("mri").run(tmp_path, quick=True)
    assert (tmp_path / "mri.png").stat().st_size > 50_000
    assert m["data"] == "brain_flash_16ch.h5" and m["acceleration"] == 6.0
    for key in ("zero_filled", "cg_sense", "l1_wavelet_sense", "tv_sense"):
        assert set(m[key]) == {"psnr", "ssim", "time", "data_consistency"}, key
        assert 0 < m[key]["data_consistency"] < 0.2 and m[key]["time"] >= 0
    zf, cg, l1, tv = (m[k]["psnr"] for k in ("zero_filled", "cg_sense", "l1_wavelet_sense", "tv_sense"))
    assert cg > zf + 6 and l1 > cg + 1 and tv > cg + 0.5, (zf, cg, l1, tv)
    assert m["l1_wavelet_sense"]["ssim"] > m["cg_sense"]["ssim"] > m["zero_filled"]["ssim"]
