"""Inverse-problem solvers for ``min_x data(A x, y) + sum_i P_i(x)``: FISTA/ISTA, CG, LSQR, ADMM, PDHG, TV.

The loop, stopping rules and :class:`~csbox.iterative.Result` they share live in
:mod:`csbox.iterative`; the other algorithm families have their own packages
(:mod:`csbox.ot`, :mod:`csbox.sbl`, :mod:`csbox.dictionary`, :mod:`csbox.sparse_wht`).
"""

from .admm import ADMMResult, admm
from .linear import CGResult, LSQRResult, cg, lsqr
from .pdhg import PDHGResult, pdhg
from .proximal import Backtracking, FixedStep, ProxGradResult, ProximalGradient, fista, ista
from .reconstruct import reconstruct
from .tv import TVResult, tv_denoise

__all__ = [
    "ADMMResult",
    "Backtracking",
    "CGResult",
    "FixedStep",
    "LSQRResult",
    "PDHGResult",
    "ProxGradResult",
    "ProximalGradient",
    "TVResult",
    "admm",
    "cg",
    "fista",
    "ista",
    "lsqr",
    "pdhg",
    "reconstruct",
    "tv_denoise",
]
