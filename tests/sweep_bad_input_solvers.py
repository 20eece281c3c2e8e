"""Solver cases of the bad-input sweep (see ``tests/sweep_bad_input.py``).

The small adapters at the top (``_fista``, ``_sbl``...) are the only places
that know each solver's signature.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .sweep_bad_input import CASES, INF, NAN

R = np.random.default_rng(0)
M = R.standard_normal((20, 40))
X0 = np.zeros(40)
X0[[3, 17]] = [1.0, -2.0]
Y = M @ X0
F1, F2 = R.standard_normal((6, 8)), R.standard_normal((5, 7))
YK = np.kron(F1, F2) @ np.where(R.random(56) < 0.1, 1.0, 0.0)


def _sv() -> Any:
    """One namespace over the families' packages (solvers, penalties, ot, sbl, dictionary, sparse_wht)."""
    from types import SimpleNamespace

    import csbox.dictionary
    import csbox.ot
    import csbox.penalties
    import csbox.sbl
    import csbox.solvers
    import csbox.sparse_wht

    mods = (csbox.solvers, csbox.penalties, csbox.ot, csbox.sbl, csbox.dictionary, csbox.sparse_wht)
    return SimpleNamespace(**{n: getattr(m, n) for m in mods for n in m.__all__})


def _A(mat: np.ndarray = M) -> Any:
    from csbox.operators import MatrixOperator

    return MatrixOperator(mat)


def _fista(A: Any = None, y: Any = Y, **kw: Any) -> Any:
    kw.setdefault("lam", 0.1)
    return _sv().fista(_A() if A is None else A, y, max_iter=kw.pop("max_iter", 30), **kw)


def _sbl(A: Any = M, y: Any = Y, **kw: Any) -> Any:
    return _sv().sbl(A, y, max_iter=kw.pop("max_iter", 30), **kw)


def _ksbl(factors: Any = None, y: Any = YK, **kw: Any) -> Any:
    return _sv().kron_sbl([F1, F2] if factors is None else factors, y, max_iter=kw.pop("max_iter", 20), **kw)


def _komp(factors: Any = None, y: Any = YK, k: Any = 3, **kw: Any) -> Any:
    return _sv().kron_omp([F1, F2] if factors is None else factors, y, k, **kw)


def _spright(signal: Any = None, log2n: int = 10, **kw: Any) -> Any:
    from csbox.operators import fwht

    if signal is None:
        c = np.zeros(2**log2n)
        c[[5, 77, 300]] = [1.0, -2.0, 0.5]
        signal = fwht(c) if log2n <= 20 else None
    return _sv().spright(signal, log2n, **kw)


A_OT = np.full(20, 1 / 20)
C_OT = np.abs(np.subtract.outer(np.arange(20.0), np.arange(20.0))) / 20


def _sk(a: Any = A_OT, b: Any = A_OT, C: Any = C_OT, reg: Any = 0.05, **kw: Any) -> Any:
    return _sv().sinkhorn(a, b, C, reg, max_iter=kw.pop("max_iter", 200), **kw)


def _sns(a: Any = A_OT, b: Any = A_OT, C: Any = C_OT, reg: Any = 0.05, **kw: Any) -> Any:
    return _sv().sinkhorn_newton_sparse(a, b, C, reg, **kw)


YD = R.standard_normal((16, 200))


def _odl(Y: Any = YD, **kw: Any) -> Any:
    return _sv().orthogonal_dictionary_learning(Y, max_iter=kw.pop("max_iter", 10), **kw)


def _online(**kw: Any) -> Any:
    Y = kw.pop("Y", YD)
    return _sv().OnlineOrthogonalDictionary(16, **kw).fit(Y.T)


S = CASES
for label, arg, f in [
    ("fista(y NaN)", "y", lambda: _fista(y=np.where(np.arange(20) == 0, NAN, Y))),
    ("fista(y empty)", "y|shape", lambda: _fista(y=Y[:0])),
    ("fista(y wrong shape)", "y|shape", lambda: _fista(y=Y[:5])),
    ("fista(y int)", "accept", lambda: _fista(y=np.ones(20, int))),
    ("fista(plain matrix)", "accept", lambda: _fista(A=M)),
    ("fista(lam=-1)", "lam", lambda: _fista(lam=-1.0)),
    ("fista(lam=nan)", "lam", lambda: _fista(lam=NAN)),
    ("fista(step=0)", "step", lambda: _fista(step=0.0)),
    ("fista(max_iter=-1)", "max_iter", lambda: _fista(max_iter=-1)),
    ("fista(tol=-1)", "tol", lambda: _fista(tol=-1.0)),
    ("fista(check_every=0)", "check_every", lambda: _fista(check_every=0)),
    ("fista(x0 wrong shape)", "x0", lambda: _fista(x0=np.zeros(3))),
    ("fista(step 100x too big)", "diverg|step", lambda: _fista(step=100.0 / _A().lipschitz(), max_iter=200)),
    ("fista(operator with NaN scale)", "scale|finite", lambda: _fista(A=_A() * NAN)),
    ("fista(zero operator)", "zero|lipschitz", lambda: _fista(A=_A(np.zeros((20, 40))))),
]:
    S["fista"].append((label, arg, f))

for label, arg, f in [
    ("sbl(y NaN)", "y", lambda: _sbl(y=np.where(np.arange(20) == 0, NAN, Y))),
    ("sbl(empty)", "y|empty", lambda: _sbl(A=M[:0], y=Y[:0])),
    ("sbl(int data)", "accept", lambda: _sbl(A=np.ones((20, 40), int), y=np.ones(20, int))),
    ("sbl(noise_var=-1)", "noise_var", lambda: _sbl(noise_var=-1.0)),
    ("sbl(update='x')", "update", lambda: _sbl(update="x")),
    ("sbl(max_iter=-1)", "max_iter", lambda: _sbl(max_iter=-1)),
    ("sbl(A NaN)", "A", lambda: _sbl(A=np.where(M > 2, NAN, M))),
    ("sbl(shape mismatch)", "y|shape", lambda: _sbl(y=Y[:7])),
    ("kron_sbl(factor NaN)", "factor", lambda: _ksbl(factors=[np.where(F1 > 1, NAN, F1), F2])),
    ("kron_sbl(int y)", "accept", lambda: _ksbl(y=np.ones(30, int))),
    ("kron_sbl(method='x')", "method", lambda: _ksbl(method="x")),
    ("kron_sbl(y wrong length)", "y|shape", lambda: _ksbl(y=YK[:7])),
    ("kron_sbl(one factor)", "factor", lambda: _ksbl(factors=[F1])),
    ("kron_omp(factor NaN)", "factor", lambda: _komp(factors=[np.where(F1 > 1, NAN, F1), F2])),
    ("kron_omp(zero factor)", "factor|zero", lambda: _komp(factors=[np.zeros_like(F1), F2])),
    ("kron_omp(k=0)", "n_nonzero", lambda: _komp(k=0)),
    ("kron_omp(k=1000)", "n_nonzero", lambda: _komp(k=1000)),
    ("kron_omp(y NaN)", "y", lambda: _komp(y=np.full(30, NAN))),
]:
    S["sbl"].append((label, arg, f))

for label, arg, f in [
    ("spright(n=0)", "n|log2", lambda: _sv().spright(np.ones(1), 0)),
    ("spright(length != 2^n)", "signal|length", lambda: _sv().spright(np.ones(1000), 10)),
    ("spright(NaN signal)", "signal", lambda: _spright(signal=np.full(1024, NAN))),
    ("spright(n_nonzero=-1)", "n_nonzero", lambda: _spright(n_nonzero=-1)),
    ("spright(noise_var=-1)", "noise", lambda: _spright(noise_var=-1.0)),
    ("spright(delays='x')", "delays", lambda: _spright(delays="x")),
    ("spright(bins=2**40)", "bins|memory|needs", lambda: _spright(bins=2**40)),
    (
        "spright(non-sparse callable, N=2^40)",
        "budget|queries",
        lambda: _sv().spright(lambda idx: np.cos(np.asarray(idx, dtype=float) * 0.37), 40),
    ),
]:
    S["spright"].append((label, arg, f))

for label, arg, f in [
    ("sinkhorn(reg=0)", "reg", lambda: _sk(reg=0.0)),
    ("sinkhorn(reg=-1)", "reg", lambda: _sk(reg=-1.0)),
    ("sinkhorn(a NaN)", "a", lambda: _sk(a=np.full(20, NAN))),
    ("sinkhorn(a negative)", "a", lambda: _sk(a=-A_OT)),
    ("sinkhorn(masses differ)", "mass", lambda: _sk(b=2 * A_OT)),
    ("sinkhorn(C shape)", "C", lambda: _sk(C=C_OT[:5])),
    ("sinkhorn(C NaN)", "C", lambda: _sk(C=np.full((20, 20), NAN))),
    ("sinkhorn(mass_rtol=-1)", "mass_rtol", lambda: _sk(mass_rtol=-1.0)),
    ("sns(density=2)", "density", lambda: _sns(density=2.0)),
    ("sns(reg=inf)", "reg", lambda: _sns(reg=INF)),
    ("grid_cost(p=-1)", "p", lambda: _sv().grid_cost((3, 3), p=-1)),
    ("grid_cost((400, 400))", "memory|needs", lambda: _sv().grid_cost((400, 400))),
    ("cost_matrix(complex)", "X|complex", lambda: _sv().cost_matrix(np.ones((3, 2)) * 1j, np.ones((3, 2)))),
    ("cost_matrix(metric='x')", "metric", lambda: _sv().cost_matrix(np.ones((3, 2)), np.ones((3, 2)), "x")),
    (
        "wasserstein_grid(method='foo')",
        "method",
        lambda: _sv().wasserstein_grid(np.ones((4, 4)) / 16, np.ones((4, 4)) / 16, method="foo"),
    ),
    (
        "wasserstein_grid(shapes differ)",
        "mu|nu|shape",
        lambda: _sv().wasserstein_grid(np.ones((4, 4)) / 16, np.ones((3, 3)) / 9),
    ),
]:
    S["ot"].append((label, arg, f))

for label, arg, f in [
    ("odl(p=2 flat)", "p", lambda: _odl(p=2)),
    ("odl(NaN)", "Y", lambda: _odl(Y=np.full((16, 200), NAN))),
    ("odl(empty)", "Y", lambda: _odl(Y=np.ones((16, 0)))),
    ("odl(1-D)", "Y", lambda: _odl(Y=np.ones(16))),
    ("online(n_epochs=0)", "n_epochs", lambda: _online(n_epochs=0)),
    ("online(NaN)", "X|Y", lambda: _online(Y=np.full((16, 200), NAN))),
    (
        "sparse_code(n_nonzero=0)",
        "n_nonzero",
        lambda: _sv().sparse_code(np.eye(4), np.ones((3, 4)), n_nonzero=0),
    ),
    ("sparse_code(method='x')", "method", lambda: _sv().sparse_code(np.eye(4), np.ones((3, 4)), method="x")),
    (
        "sparse_code(D/Y mismatch)",
        "D|Y|shape",
        lambda: _sv().sparse_code(np.eye(4), np.ones((5, 3)), n_nonzero=1),
    ),
]:
    S["dictionary"].append((label, arg, f))


def _pen(name: str) -> Any:
    try:
        import csbox.penalties as p

        return getattr(p, {"Soft": "L1", "Hard": "L0"}.get(name, name))()
    except (ImportError, AttributeError):
        return getattr(_sv(), name)()


for label, arg, f in [
    ("L1.prox(step=-1)", "step", lambda: _pen("Soft").prox(np.ones(3), -1.0)),
    ("L1.prox(step=nan)", "step", lambda: _pen("Soft").prox(np.ones(3), NAN)),
    ("L0.prox(step=0)", "step", lambda: _pen("Hard").prox(np.ones(3), 0.0)),
    ("MCP(gamma=0)", "gamma", lambda: _sv().MCP(gamma=0.0)),
    ("CEL0(col_norms=-1)", "col_norms", lambda: _sv().CEL0(col_norms=-1.0)),
]:
    S["penalties"].append((label, arg, f))
