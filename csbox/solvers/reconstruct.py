r"""One call for regularised linear inverse problems: ``csbox.reconstruct``.

.. math:: \min_x f(A x; y) + \sum_i P_i(x)

with a data term ``f`` (:mod:`csbox.penalties`: :class:`~csbox.penalties.LeastSquares`
``0.5||Ax - y||^2`` by default, :class:`~csbox.penalties.WeightedLeastSquares`, or the
constraint :class:`~csbox.penalties.ResidualBall` ``||Ax - y|| <= eps``) and penalty
objects, the role of BART's ``pics`` and of SigPy's apps. ``solver="auto"`` picks:

- :func:`~csbox.solvers.cg` when every penalty is quadratic (``Tikhonov``:
  ``lam`` = the sum of their weights; no penalty: least squares) and the data term is
  least squares;
- FISTA for a single penalty with an exact prox (``L1``, ``P.in_basis(W)``,
  ``Indicator``, ``NuclearNorm``, ``LocallyLowRank``, ``GroupL21``) and a smooth data term;
- :func:`~csbox.solvers.admm` otherwise (TV, several penalties, a constraint): each
  penalty split as ``g(K x)`` with an exact prox, the x-update exact where it is diagonal in
  k-space, else a few CG iterations (BART's choice). ``solver="pdhg"`` runs Chambolle-Pock
  instead (no inner solves; cheaper per iteration, more iterations).

The result's ``data`` field and ``message`` say which problem was solved, by which solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..iterative import Result
from ..linop import LinearOperator
from ..penalties import TV, DataFidelity, Penalty
from ._problem import as_operator, check_data_term
from ._splitting import check_penalties
from .admm import admm
from .linear import cg
from .pdhg import pdhg
from .proximal import fista

__all__ = ["reconstruct"]

_SOLVERS = ("auto", "cg", "fista", "admm", "pdhg")


def _choose(solver: str, pens: list[Penalty], quadratic: bool, data: DataFidelity) -> str:
    """The ``"auto"`` rule: CG for quadratic-only problems, FISTA for one penalty with a direct prox
    (not TV, whose prox is itself iterative: it is split instead) and a smooth data term, ADMM
    otherwise."""
    if solver != "auto":
        return solver
    if quadratic and data.quadratic:
        return "cg"
    if len(pens) == 1 and not isinstance(pens[0], TV) and data.smooth:
        return "fista"
    return "admm"


def _forwarded(options: dict[str, Any], tol: float | None, **contract: Any) -> dict[str, Any]:
    """The keywords for the chosen solver: the contract ones and ``options``, then ``tol`` unless
    it is None (each solver then keeps its own default tolerance)."""
    kw = {**contract, **options}
    if tol is not None:
        kw["tol"] = tol
    return kw


def _stated(res: Result, solver: str, data: DataFidelity, pens: list[Penalty]) -> Result:
    """Write the problem solved into the result's message (and keep ``data`` on it)."""
    terms = " + ".join([data.formula, *(repr(p) for p in pens)])
    what = f"{solver}: min_x {terms}"
    res.message = f"{what}; {res.message}" if res.message else what
    return res


def _run(A: LinearOperator, y: Any, pens: list[Penalty], solver: str, data: DataFidelity,
         quadratic: bool, kw: dict[str, Any]) -> Result:
    if solver == "cg":
        if not quadratic:
            raise ValueError(f"solver='cg' needs quadratic penalties only (Tikhonov), got {pens!r}")
        return cg(A, y, sum(p.lam for p in pens), data=data, **kw)
    if not pens:
        raise ValueError(f"solver={solver!r} needs at least one penalty")
    if solver == "fista":
        if len(pens) != 1:
            raise ValueError(f"solver='fista' takes one penalty, got {len(pens)}")
        return fista(A, y, penalty=pens[0], data=data, **kw)
    if solver == "admm":
        return admm(A, y, pens, data=data, **kw)
    return pdhg(A, y, pens, data=data, **kw)


def reconstruct(
    A: LinearOperator | Any,
    y: Any,
    penalties: Penalty | Sequence[Penalty] = (),
    solver: str = "auto",
    *,
    data: DataFidelity | None = None,
    max_iter: int = 100,
    tol: float | None = None,
    x0: Any = None,
    callback: Any = None,
    progress: bool = False,
    **options: Any,
) -> Result:
    r"""Solve ``min_x f(A x; y) + sum_i P_i(x)`` with a suitable solver.

    Parameters
    ----------
    A : LinearOperator or 2-D array
        Forward operator (e.g. :class:`~csbox.operators.PartialFourier`; a matrix is wrapped
        in :class:`~csbox.operators.MatrixOperator`).
    y : array, shape ``(..., *A.oshape)``
        Data.
    penalties : Penalty or list of Penalty
        E.g. ``[L1(1e-3).in_basis(Wavelet(shape)), TV(1e-3)]``; empty: least squares.
    solver : {"auto", "cg", "fista", "admm", "pdhg"}
        ``"auto"``: CG for quadratic-only problems, FISTA for one proximable
        penalty, ADMM otherwise (see the module docstring).
    data : DataFidelity, optional
        The data term ``f``: ``LeastSquares()`` (default, ``0.5||Ax - y||^2``),
        ``WeightedLeastSquares(w)`` or ``ResidualBall(eps)`` (the constraint
        ``||Ax - y|| <= eps``: ADMM or PDHG only).
    max_iter : int
        Iteration cap of the chosen solver.
    tol : float, optional
        The chosen solver's tolerance (its default when ``None``).
    x0, callback, progress
        Passed to the solver.
    **options
        Solver-specific keywords (``rho``, ``x_update``, ``inner_max_iter``, ``inner_tol``
        for ADMM; ``balance`` for PDHG; ``restart`` for FISTA; ``M`` for CG...).

    Returns
    -------
    Result
        The chosen solver's typed result (:class:`~csbox.solvers.CGResult`,
        :class:`~csbox.solvers.ADMMResult`, :class:`~csbox.solvers.PDHGResult`,
        :class:`~csbox.solvers.ProxGradResult`); ``history["objective"]`` is the objective
        above, ``data`` the data term and ``message`` the problem and the solver, e.g.
        ``"admm: min_x 0.5||Ax - y||^2 + TV(lam=0.01, ...)"``.

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
    >>> type(res).__name__, res.message.split(":")[0]
    ('ADMMResult', 'admm')
    """
    A = as_operator(A)
    if solver not in _SOLVERS:
        raise ValueError(f"solver must be one of {list(_SOLVERS)}, got {solver!r}")
    term = check_data_term(data, solver="reconstruct")
    pens = [] if isinstance(penalties, Sequence) and not penalties else check_penalties(penalties)
    quadratic = all(getattr(p, "quadratic", False) for p in pens)
    solver = _choose(solver, pens, quadratic, term)
    kw = _forwarded(options, tol, max_iter=max_iter, x0=x0, callback=callback, progress=progress)
    return _stated(_run(A, y, pens, solver, term, quadratic, kw), solver, term, pens)
