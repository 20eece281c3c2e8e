"""Shared parts of the splitting solvers (ADMM, PDHG): penalties as ``g(K x)``, problem checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._validation import check_array
from ..backend import Array, array_namespace, result_dtype
from ..linop import LinearOperator
from ..operators.basic import Identity
from ..penalties.base import InBasis, Penalty


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


def check_penalties(penalties: Any) -> list[Penalty]:
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
            raise ValueError(f"penalties[{i}] = {p!r} is not convex; ADMM and PDHG need convex penalties")
    return out


def check_problem(A: Any, y: Any) -> tuple[Any, tuple[int, ...], Any]:
    """Validate ``A`` and ``y``; return the namespace, the batch shape and the dtype of ``x``."""
    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    y = check_array("y", y, shape=A.oshape, cast_int=False)
    xp = array_namespace(y)
    return xp, tuple(y.shape[: y.ndim - len(A.oshape)]), result_dtype(xp, y.dtype, A.is_complex)


def sqnorm(xp: Any, v: Array) -> Array:
    """``||v||^2`` over every axis as a 0-d real array."""
    return xp.sum(xp.real(xp.conj(v) * v))
