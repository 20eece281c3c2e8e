"""The MRI demos call fista with the 0.2 penalty objects, not the deprecated 0.1 keywords."""

import warnings

import numpy as np

from csbox.demos import mri_radial, mri_tv
from csbox.mri import density_compensation, radial
from csbox.operators import NUFFT, Wavelet
from csbox.phantoms import shepp_logan


def test_mri_tv_convergence_no_deprecated_keywords():
    img = shepp_logan(32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        out = mri_tv._convergence(img, Wavelet(img.shape, "db4", level=2), 3)
    assert set(out["l1-wavelet"]) == {"FISTA", "ADMM", "PDHG"}


def test_mri_radial_reconstruct_no_deprecated_keywords():
    n = 32
    k = radial(16, 2 * n)
    E = NUFFT((n, n), k)
    img = shepp_logan(n).astype(complex)
    y = E @ img
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for quick in (True, False):  # quick: no cycle spinning; full: cycle spinning
            rec = mri_radial.reconstruct(E, k, y, density_compensation(k, (n, n)), n, quick, coils=False)
            # l1-wavelet CS on noiseless data improves on density-compensated gridding
            err = {m: np.linalg.norm(np.abs(x) - np.abs(img)) for m, x in rec.items()}
            assert err["cs"] < err["gridding"], (quick, err)
