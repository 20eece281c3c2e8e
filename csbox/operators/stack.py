r"""Block operators: vertical and horizontal stacks, block diagonal.

With operators ``A_1 .. A_k``:

- ``VStack([A_1, .., A_k])`` (common input): ``x -> [A_1 x; ..; A_k x]``;
  adjoint ``sum_i A_i^H y_i``; normal ``sum_i A_i^H A_i`` (each block's fast
  normal form).
- ``HStack([A_1, .., A_k])`` (common output): ``[x_1; ..; x_k] -> sum_i A_i x_i``.
- ``BlockDiag([A_1, .., A_k])``: ``[x_1; ..; x_k] -> [A_1 x_1; ..; A_k x_k]``;
  normal ``blockdiag(A_i^H A_i)``.

The stacked side is a flat vector (each block's array raveled in C order and
concatenated), so blocks of any shapes combine; :meth:`split` and
:meth:`join` convert between the flat vector and the list of blocks. Leading
batch axes are carried through, as for every csbox operator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import Array, array_namespace
from ..linop import LinearOperator

__all__ = ["BlockDiag", "HStack", "VStack"]


def _check_ops(ops: Sequence[LinearOperator], what: str) -> list[LinearOperator]:
    if isinstance(ops, LinearOperator) or not isinstance(ops, Sequence):
        raise TypeError(f"{what}: ops must be a list of LinearOperators, got {type(ops).__name__}")
    ops = list(ops)
    if not ops:
        raise ValueError(f"{what}: ops is empty")
    for i, A in enumerate(ops):
        if not isinstance(A, LinearOperator):
            raise TypeError(f"{what}: ops[{i}] must be a LinearOperator, got {type(A).__name__}")
    return ops


def _offsets(shapes: list[tuple[int, ...]]) -> list[int]:
    return [0, *np.cumsum([math.prod(s) for s in shapes]).tolist()]


def _split(v: Array, shapes: list[tuple[int, ...]]) -> list[Array]:
    """Blocks of the flat trailing axis of ``v`` reshaped to ``shapes`` (batch axes kept)."""
    xp = array_namespace(v)
    off = _offsets(shapes)
    batch = tuple(v.shape[:-1])
    return [xp.reshape(v[..., off[i] : off[i + 1]], (*batch, *s)) for i, s in enumerate(shapes)]


def _join(blocks: list[Array], shapes: list[tuple[int, ...]]) -> Array:
    """Concatenate blocks shaped ``(*batch, *shapes[i])`` into ``(*batch, total)``."""
    xp = array_namespace(*blocks)
    flat = [xp.reshape(b, (*tuple(b.shape[: b.ndim - len(s)]), math.prod(s))) for b, s in zip(blocks, shapes,
                                                                                              strict=True)]
    dt = flat[0].dtype
    for f in flat[1:]:
        dt = xp.result_type(dt, f.dtype)
    return xp.concat([f if f.dtype == dt else xp.astype(f, dt) for f in flat], axis=-1)


def _dtype(ops: list[LinearOperator]) -> np.dtype:
    return np.result_type(*[A.dtype for A in ops])


def _flat_concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(p) for p in parts])


def _root_sum_squares(parts: list[np.ndarray]) -> np.ndarray:
    return np.sqrt(sum(np.asarray(p) ** 2 for p in parts))


class VStack(LinearOperator):
    """``x -> [A_1 x; ..; A_k x]`` for operators with a common input shape (flat stacked output).

    Parameters
    ----------
    ops : list of LinearOperator
        Blocks with equal ``ishape``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Diagonal, Identity, VStack
    >>> A = VStack([Identity(3), Diagonal(np.array([1.0, 2.0, 3.0]))])
    >>> A.ishape, A.oshape
    ((3,), (6,))
    >>> A @ np.ones(3)
    array([1., 1., 1., 1., 2., 3.])
    """

    def __init__(self, ops: Sequence[LinearOperator]):
        ops = _check_ops(ops, "VStack")
        if any(A.ishape != ops[0].ishape for A in ops):
            raise ValueError(f"VStack: input shapes differ: {[A.ishape for A in ops]}")
        self.ops = ops
        self.shapes = [A.oshape for A in ops]
        super().__init__(ops[0].ishape, (sum(A.size_out for A in ops),), _dtype(ops))

    def split(self, y: Array) -> list[Array]:
        """The blocks ``[y_1, .., y_k]`` of a stacked output ``y``."""
        return _split(y, self.shapes)

    def join(self, blocks: list[Array]) -> Array:
        """The stacked output of blocks ``[y_1, .., y_k]``."""
        return _join(blocks, self.shapes)

    def _apply(self, x: Array) -> Array:
        return _join([A._apply(x) for A in self.ops], self.shapes)

    def _adjoint(self, y: Array) -> Array:
        out = None
        for A, b in zip(self.ops, self.split(y), strict=True):
            t = A._adjoint(b)
            out = t if out is None else out + t
        return out

    def _make_normal(self) -> LinearOperator:
        N = self.ops[0].normal()
        for A in self.ops[1:]:
            N = N + A.normal()
        return N

    def _column_norms(self, **probe: Any) -> np.ndarray:
        # a column is the blocks' columns stacked: ||.||^2 adds up
        return _root_sum_squares([A.column_norms(**probe) for A in self.ops])

    def _row_norms(self, **probe: Any) -> np.ndarray:
        return _flat_concat([A.H.column_norms(**probe) for A in self.ops])


class HStack(LinearOperator):
    """``[x_1; ..; x_k] -> sum_i A_i x_i`` for operators with a common output shape (flat stacked input).

    Parameters
    ----------
    ops : list of LinearOperator
        Blocks with equal ``oshape``.
    """

    def __init__(self, ops: Sequence[LinearOperator]):
        ops = _check_ops(ops, "HStack")
        if any(A.oshape != ops[0].oshape for A in ops):
            raise ValueError(f"HStack: output shapes differ: {[A.oshape for A in ops]}")
        self.ops = ops
        self.shapes = [A.ishape for A in ops]
        super().__init__((sum(A.size_in for A in ops),), ops[0].oshape, _dtype(ops))

    def split(self, x: Array) -> list[Array]:
        """The blocks ``[x_1, .., x_k]`` of a stacked input ``x``."""
        return _split(x, self.shapes)

    def join(self, blocks: list[Array]) -> Array:
        """The stacked input of blocks ``[x_1, .., x_k]``."""
        return _join(blocks, self.shapes)

    def _apply(self, x: Array) -> Array:
        out = None
        for A, b in zip(self.ops, self.split(x), strict=True):
            t = A._apply(b)
            out = t if out is None else out + t
        return out

    def _adjoint(self, y: Array) -> Array:
        return _join([A._adjoint(y) for A in self.ops], self.shapes)

    def _column_norms(self, **probe: Any) -> np.ndarray:
        return _flat_concat([A.column_norms(**probe) for A in self.ops])

    def _row_norms(self, **probe: Any) -> np.ndarray:
        return _root_sum_squares([A.H.column_norms(**probe) for A in self.ops])


class BlockDiag(LinearOperator):
    """``[x_1; ..; x_k] -> [A_1 x_1; ..; A_k x_k]`` (flat stacked input and output).

    Parameters
    ----------
    ops : list of LinearOperator
        Blocks of any shapes.
    """

    def __init__(self, ops: Sequence[LinearOperator]):
        ops = _check_ops(ops, "BlockDiag")
        self.ops = ops
        self.ishapes = [A.ishape for A in ops]
        self.oshapes = [A.oshape for A in ops]
        super().__init__((sum(A.size_in for A in ops),), (sum(A.size_out for A in ops),), _dtype(ops))

    def split(self, x: Array) -> list[Array]:
        """The input blocks ``[x_1, .., x_k]`` of a stacked input ``x``."""
        return _split(x, self.ishapes)

    def join(self, blocks: list[Array]) -> Array:
        """The stacked input of blocks ``[x_1, .., x_k]``."""
        return _join(blocks, self.ishapes)

    def _apply(self, x: Array) -> Array:
        return _join([A._apply(b) for A, b in zip(self.ops, self.split(x), strict=True)], self.oshapes)

    def _adjoint(self, y: Array) -> Array:
        ys = _split(y, self.oshapes)
        return _join([A._adjoint(b) for A, b in zip(self.ops, ys, strict=True)], self.ishapes)

    def _make_normal(self) -> LinearOperator:
        return BlockDiag([A.normal() for A in self.ops])

    def _column_norms(self, **probe: Any) -> np.ndarray:
        return _flat_concat([A.column_norms(**probe) for A in self.ops])

    def _row_norms(self, **probe: Any) -> np.ndarray:
        return _flat_concat([A.H.column_norms(**probe) for A in self.ops])
