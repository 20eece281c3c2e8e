"""Inverse-problem solvers for ``min_x f(A x; y) + sum_i P_i(x)``: FISTA/ISTA, CG, LSQR, ADMM, PDHG, TV.

The data term ``f`` is an object of :mod:`csbox.penalties` (least squares by default,
weighted least squares, the constraint ``||Ax - y|| <= eps``); every solver accepts a
:class:`~csbox.linop.LinearOperator` or a 2-D array as ``A``. Each method is a function and
a step-able class (``ProximalGradient``, ``CG``, ``LSQR``, ``ADMM``, ``PDHG``). The loop,
stopping rules and :class:`~csbox.iterative.Result` they share live in
:mod:`csbox.iterative`; the other algorithm families have their own packages
(:mod:`csbox.ot`, :mod:`csbox.sbl`, :mod:`csbox.dictionary`, :mod:`csbox.sparse_wht`).
"""

from ._problem import InverseResult
from .admm import ADMM, ADMMResult, admm
from .linear import CG, LSQR, CGResult, LSQRResult, cg, lsqr
from .pdhg import PDHG, PDHGResult, pdhg
from .proximal import Backtracking, FixedStep, ProxGradResult, ProximalGradient, fista, ista
from .reconstruct import reconstruct
from .tv import TVResult, tv_denoise

__all__ = [
    "ADMM",
    "CG",
    "LSQR",
    "PDHG",
    "ADMMResult",
    "Backtracking",
    "CGResult",
    "FixedStep",
    "InverseResult",
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
