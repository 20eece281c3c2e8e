"""Quick run of the mri-radial demo: figures written, iterative reconstructions beat gridding."""

import pytest


@pytest.mark.slow  # a quick run takes over a minute on 2 cores
def test_mri_radial_quick(tmp_path):
    pytest.importorskip("torch")
    from csbox.demos import mri_radial

    m = mri_radial.run(tmp_path, quick=True)
    assert (tmp_path / "mri_radial_reconstructions.png").exists()
    assert (tmp_path / "mri_radial_spokes.png").exists()
    for key in ("radial single-coil", "radial multi-coil", "spiral multi-coil"):
        # undersampled data: CG-SENSE (early-stopped least squares) improves on density-compensated gridding
        assert m[key]["cg"]["psnr"] > m[key]["gridding"]["psnr"], key
    # with coils, CG-SENSE gains over the coil-combined gridding image
    assert m["radial multi-coil"]["cg"]["psnr"] > m["radial multi-coil"]["gridding"]["psnr"] + 0.5
    assert set(m["spoke selection"]) >= {"dps", "golden", "uniform"}


def test_spoke_selection_quick_sizes_are_valid():
    # the quick mode once asked lines_and_circles for 12x12 images (it needs >= 16) and raised
    pytest.importorskip("torch")
    from csbox.demos import mri_radial

    out = mri_radial.spoke_selection(quick=True)
    assert out["size"] >= 16
    assert set(out["scores"]) >= {"dps", "golden", "uniform"}
