r"""Sparse reconstruction of SAR reflectivity: l1-regularised least squares on the exact model.

.. math:: \hat\rho = \arg\min_\rho \tfrac12 \|A \rho - s\|_2^2 + \lambda \|\rho\|_1,
          \qquad \lambda = \lambda_{rel} \|A^H s\|_\infty

with ``A`` the exact :class:`~csbox.sar.MIMOSAR` model (any scan, including
sparse or irregular ones where EMPM cannot run), solved by FISTA. Where the
back-projection ``A^H s`` of a sparse scan shows grating lobes and clutter,
the l1 solution keeps the point targets.

References
----------
A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
inverse problems", SIAM J. Imaging Sci. 2009. J. W. Smith, M. Torlak, IEEE Access 2022.
"""

from __future__ import annotations

from typing import Any

from .._validation import check_int, check_scalar
from ..backend import Array
from ..solvers import fista
from .operator import MIMOSAR

__all__ = ["sparse_reconstruction"]


def sparse_reconstruction(
    op: MIMOSAR,
    data: Array,
    *,
    lam_rel: float = 0.05,
    max_iter: int = 100,
    tol: float | None = None,
    check_every: int = 10,
    callback: Any = None,
    progress: bool = False,
) -> Any:
    """l1-regularised reflectivity from beat samples ``data`` of the scan modelled by ``op``, by FISTA.

    Parameters
    ----------
    op : MIMOSAR
        The exact forward model of the (possibly sparse) scan.
    data : array ``op.oshape``
        Beat samples.
    lam_rel : float
        ``lambda`` as a fraction of ``||A^H data||_inf`` (in (0, 1)).
    max_iter, tol, check_every, callback, progress
        As for :func:`csbox.solvers.fista`.

    Returns
    -------
    Result
        FISTA's result; ``x`` is the reflectivity on ``op.grid`` (``op.ishape``).
    """
    if not isinstance(op, MIMOSAR):
        raise TypeError(f"op must be a csbox.sar.MIMOSAR, got {type(op).__name__}")
    lam_rel = check_scalar("lam_rel", lam_rel, low=0.0, high=1.0, low_open=True, high_open=True)
    max_iter = check_int("max_iter", max_iter, low=1)
    return fista(op, data, lam_rel=lam_rel, max_iter=max_iter, tol=tol, check_every=check_every,
                 callback=callback, progress=progress)
