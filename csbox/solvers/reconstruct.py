r"""One call for regularised linear inverse problems: ``csbox.reconstruct``.

.. math:: \min_x \tfrac12\|A x - y\|_2^2 + \sum_i P_i(x)

with penalty objects (:mod:`csbox.penalties`), the role of BART's ``pics``
and of SigPy's apps. ``solver="auto"`` picks:

- :func:`~csbox.solvers.cg` when every penalty is quadratic (``Tikhonov``:
  ``damp`` = the sum of their weights; no penalty: least squares);
- FISTA for a single penalty with an exact prox (``L1``, ``P.in_basis(W)``,
  ``Indicator``, ``NuclearNorm``, ``LocallyLowRank``, ``GroupL21``);
- :func:`~csbox.solvers.admm` otherwise (TV, or several penalties): each
  penalty split as ``g(K x)`` with an exact prox, a few CG iterations per
  ``x`` update (BART's choice). ``solver="pdhg"`` runs Chambolle-Pock instead
  (no inner solves; cheaper per iteration, more iterations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..iterative import Result
from ..linop import LinearOperator
from ..penalties.base import Penalty
from ..penalties.tv import TV
from ._splitting import check_penalties
from .admm import admm
from .linear import cg
from .pdhg import pdhg
from .proximal import fista

__all__ = ["reconstruct"]

_SOLVERS = ("auto", "cg", "fista", "admm", "pdhg")


def _choose(solver: str, pens: list[Penalty], quadratic: bool) -> str:
    """The ``"auto"`` rule: CG for quadratic-only problems, FISTA for one penalty with a direct prox
    (not TV, whose prox is itself iterative: it is split instead), ADMM otherwise."""
    if solver != "auto":
        return solver
    if quadratic:
        return "cg"
    if len(pens) == 1 and not isinstance(pens[0], TV):
        return "fista"
    return "admm"


def _forwarded(options: dict[str, Any], tol: float | None, **contract: Any) -> dict[str, Any]:
    """The keywords for the chosen solver: the contract ones and ``options``, then ``tol`` unless
    it is None (each solver then keeps its own default tolerance)."""
    kw = {**contract, **options}
    if tol is not None:
        kw["tol"] = tol
    return kw


def reconstruct(
    A: LinearOperator,
    y: Any,
    penalties: Penalty | Sequence[Penalty] = (),
    solver: str = "auto",
    *,
    max_iter: int = 100,
    tol: float | None = None,
    x0: Any = None,
    callback: Any = None,
    progress: bool = False,
    **options: Any,
) -> Result:
    r"""Solve ``min_x 0.5||A x - y||^2 + sum_i P_i(x)`` with a suitable solver.

    Parameters
    ----------
    A : LinearOperator
        Forward operator (e.g. :class:`~csbox.operators.PartialFourier`).
    y : array, shape ``(..., *A.oshape)``
        Data.
    penalties : Penalty or list of Penalty
        E.g. ``[L1(1e-3).in_basis(Wavelet(shape)), TV(1e-3)]``; empty: least squares.
    solver : {"auto", "cg", "fista", "admm", "pdhg"}
        ``"auto"``: CG for quadratic-only problems, FISTA for one proximable
        penalty, ADMM otherwise (see the module docstring).
    max_iter : int
        Iteration cap of the chosen solver.
    tol : float, optional
        The chosen solver's tolerance (its default when ``None``).
    x0, callback, progress
        Passed to the solver.
    **options
        Solver-specific keywords (``rho``, ``inner_iter`` for ADMM; ``balance`` for
        PDHG; ``restart`` for FISTA; ``M`` for CG...).

    Returns
    -------
    Result
        The chosen solver's typed result (:class:`~csbox.solvers.CGResult`,
        :class:`~csbox.solvers.ADMMResult`, :class:`~csbox.solvers.PDHGResult`,
        FISTA's result); ``history["objective"]`` is the objective above.

    Examples
    --------
    >>> import numpy as np
    >>> import csbox
    >>> from csbox.operators import PartialFourier, Wavelet
    >>> from csbox.penalties import L1, TV
    >>> rng = np.random.default_rng(0)
    >>> A = PartialFourier((32, 32), rng.random((32, 32)) < 0.4)
    >>> y = A @ rng.standard_normal((32, 32))
    >>> res = csbox.reconstruct(A, y, [L1(0.01).in_basis(Wavelet((32, 32), "haar")), TV(0.01)], max_iter=20)
    >>> type(res).__name__
    'ADMMResult'
    """
    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    if solver not in _SOLVERS:
        raise ValueError(f"solver must be one of {list(_SOLVERS)}, got {solver!r}")
    pens = [] if isinstance(penalties, Sequence) and not penalties else check_penalties(penalties)
    quadratic = all(getattr(p, "quadratic", False) for p in pens)
    solver = _choose(solver, pens, quadratic)
    kw = _forwarded(options, tol, max_iter=max_iter, x0=x0, callback=callback, progress=progress)
    if solver == "cg":
        if not quadratic:
            raise ValueError(f"solver='cg' needs quadratic penalties only (Tikhonov), got {pens!r}")
        return cg(A, y, sum(p.lam for p in pens), **kw)
    if not pens:
        raise ValueError(f"solver={solver!r} needs at least one penalty")
    if solver == "fista":
        if len(pens) != 1:
            raise ValueError(f"solver='fista' takes one penalty, got {len(pens)}")
        return fista(A, y, penalty=pens[0], **kw)
    if solver == "admm":
        return admm(A, y, pens, **kw)
    return pdhg(A, y, pens, **kw)
