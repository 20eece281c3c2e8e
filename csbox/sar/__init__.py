"""Near-field MIMO-SAR imaging on irregular scans (Smith and Torlak, IEEE Access 2022).

* ``geometry``: :class:`FMCW` waveform, :class:`MIMOArray`, scan paths
  (:func:`linear_scan`, :func:`planar_scan`), :class:`ImageGrid`;
* ``operator``: :class:`MIMOSAR`, the exact forward model (adjoint: back-projection);
* ``rma``: :func:`empm`, the fast reconstruction through monostatic RMA;
* ``recon``: :func:`sparse_reconstruction`, l1 (FISTA) on the exact model;
* ``psf``: :func:`psf_widths`, :func:`target_to_clutter_db`.
"""

from .geometry import C0, FMCW, ImageGrid, MIMOArray, linear_scan, planar_scan
from .operator import MIMOSAR
from .psf import psf_widths, target_to_clutter_db
from .recon import sparse_reconstruction
from .rma import empm

__all__ = [
    "C0",
    "FMCW",
    "MIMOSAR",
    "ImageGrid",
    "MIMOArray",
    "empm",
    "linear_scan",
    "planar_scan",
    "psf_widths",
    "sparse_reconstruction",
    "target_to_clutter_db",
]
