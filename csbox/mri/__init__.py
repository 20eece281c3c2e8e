"""Parallel (multi-coil) MRI: the SENSE operator, coil maps, simulation, reconstructions.

Conventions
-----------
- **Coil axis first.** Coil images and k-space are ``(..., n_coils, *image_shape)``;
  coil maps are ``(n_coils, *image_shape)``, or ``(n_maps, n_coils, *image_shape)``
  for soft-SENSE (several ESPIRiT maps per coil). Axes in front are a batch
  (slices, frames) and are carried through.
- **Cartesian k-space is centred and orthonormal**: DC at index ``n // 2`` on each
  axis, ``y = fftshift(fftn(ifftshift(x), norm="ortho"))``, exactly
  :class:`~csbox.operators.PartialFourier` with ``centered=True`` (and BART's
  ``fft -u`` and SigPy's ``sp.fft``). Sampling masks are centred boolean arrays
  (:mod:`csbox.sampling`), and :class:`Sense` returns zero-filled k-space on the
  full grid, so measured data are used as they are.
- **Images are complex.** Magnitudes are taken only for display and metrics.
- Coil maps from :func:`espirit_maps` and :func:`walsh_maps` have unit norm over
  coils at each pixel inside the object (``sum_c |S_c|^2 = 1``) and a smooth phase
  (relative to the first principal component of the coils).

BART's ``.cfl`` files (column-major, ``[x, y, z, coil, map, ...]``) are read and
written by :func:`csbox.io.read_cfl` / :func:`csbox.io.write_cfl`; move BART's coil
axis (3) to the front with ``np.moveaxis``.
"""

from .coils import espirit_maps, rss, walsh_maps
from .dcf import density_compensation, gridded_density, gridded_kspace, gridding_reconstruction
from .pipeline import METHODS, RawReconstruction, reconstruct_raw
from .preprocess import coil_compress, estimate_noise, prewhiten
from .recon import cg_sense, l1_wavelet_sense, llr_sense, tv_sense
from .sense import Sense
from .sim import birdcage_maps, shepp_logan_kspace
from .trajectories import radial, spiral, stack_of_stars

__all__ = [
    "METHODS",
    "RawReconstruction",
    "Sense",
    "birdcage_maps",
    "cg_sense",
    "coil_compress",
    "density_compensation",
    "espirit_maps",
    "estimate_noise",
    "gridded_density",
    "gridded_kspace",
    "gridding_reconstruction",
    "l1_wavelet_sense",
    "llr_sense",
    "prewhiten",
    "radial",
    "reconstruct_raw",
    "rss",
    "shepp_logan_kspace",
    "spiral",
    "stack_of_stars",
    "tv_sense",
    "walsh_maps",
]
