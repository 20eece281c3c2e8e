"""Shared parts of the splitting solvers (ADMM, PDHG): penalties and the data term as ``g(K x)``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..backend import Array
from ..linop import LinearOperator
from ..operators import Identity
from ..penalties import InBasis, Penalty
from ._problem import Problem, sqnorm


@dataclass
class Term:
    """One penalty written ``g(K x)``; ``orthonormal`` when ``K^H K = I`` (identity, orthonormal W)."""

    penalty: Penalty
    K: LinearOperator
    g: Penalty
    orthonormal: bool

    def normal(self, v: Array) -> Array:
        return v if self.orthonormal else self.K.normal()._apply(v)


def split(penalty: Penalty, ishape: tuple[int, ...]) -> Term:
    """``penalty(x) = g(K x)``, ``g`` proximable (TV: l2,1 of the gradient; ``P.in_basis(W)``: P(W x))."""
    if hasattr(penalty, "split"):
        K, g = penalty.split(ishape)
        return Term(penalty, K, g, False)
    if isinstance(penalty, InBasis):
        if penalty.W.ishape != ishape:
            raise ValueError(f"{penalty!r} acts on {penalty.W.ishape}, but A's input is {ishape}")
        return Term(penalty, penalty.W, penalty.penalty, True)
    return Term(penalty, Identity(ishape), penalty, True)


def check_penalties(penalties: Any, solver: str = "ADMM and PDHG") -> list[Penalty]:
    """A non-empty list of convex :class:`Penalty` objects (a single one is wrapped)."""
    if isinstance(penalties, Penalty):
        penalties = [penalties]
    if isinstance(penalties, (str, bytes)) or not isinstance(penalties, Sequence):
        raise TypeError(f"penalties must be a Penalty or a list of them, got {type(penalties).__name__}")
    out = list(penalties)
    if not out:
        raise ValueError("penalties is empty")
    for i, p in enumerate(out):
        if not isinstance(p, Penalty):
            raise TypeError(f"penalties[{i}] must be a Penalty, got {type(p).__name__}")
        if not p.convex:
            raise ValueError(f"penalties[{i}] = {p!r} is not convex; {solver} needs convex penalties")
    return out


class _DataProx:
    """A data term ``f(v; y)`` seen as a split function ``g(v)`` of ``v = A x`` (its prox, no value)."""

    def __init__(self, prob: Problem):
        self.data, self.y = prob.data, prob.y

    def prox(self, v: Array, step: float = 1.0) -> Array:
        return self.data.prox(v, self.y, step)

    def __repr__(self) -> str:
        return repr(self.data)


def data_term(prob: Problem) -> Term:
    """The data term as one more split ``z_0 = A x`` (a constraint, used through its prox)."""
    return Term(prob.data, prob.A, _DataProx(prob), False)  # type: ignore[arg-type]


def data_metrics(prob: Problem, Ax: Array, terms_Kx: Iterable[tuple[Term, Array]]) -> dict[str, Any]:
    """``objective`` (the data term where smooth, plus every penalty), ``residual`` and, for a
    constraint, ``infeasibility`` (``max(||Ax - y|| - eps, 0) / ||y||``), from ``A x`` and the kept
    ``K_i x``."""
    xp, data, y = prob.xp, prob.data, prob.y
    obj = data.value(Ax, y) if data.smooth else None
    for t, Kx in terms_Kx:
        if isinstance(t.g, _DataProx):
            continue
        v = t.g.value(Kx)
        obj = v if obj is None else obj + v
    out = {"objective": obj, "residual": data.residual(Ax, y)}
    if not data.smooth:
        y_n = xp.sqrt(sqnorm(xp, y))
        out["infeasibility"] = data.distance(Ax, y) / xp.where(y_n > 0, y_n, xp.ones_like(y_n))
    return out
