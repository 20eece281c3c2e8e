"""Problems shared by the benchmarks, built from the public csbox API only."""

from __future__ import annotations

import numpy as np

from csbox.operators import PartialFourier
from csbox.sampling import cartesian, variable_density


def cs_mri_problem(img: np.ndarray, acceleration: float) -> tuple[PartialFourier, np.ndarray]:
    """The CS-MRI demo's problem: centred partial Fourier, Cartesian Gaussian VD mask, complex64 data.

    Phase-encode lines (axis 0) drawn with a Gaussian density (sigma = 0.2 of the half-width,
    seed 0) around a fully sampled centre of ``max(8, n/16)`` lines, as ``csbox demo mri``.
    """
    n = img.shape[0]
    lines = variable_density(n, acceleration=acceleration, density="gauss", sigma=0.2, calib=max(8, n // 16),
                             seed=0)
    A = PartialFourier(img.shape, cartesian(lines, img.shape, axis=0), centered=True)
    return A, (A @ img).astype(np.complex64)
