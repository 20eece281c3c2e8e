"""Kronecker-structured operators ``A_1 ⊗ A_2 ⊗ ... ⊗ A_I``, applied by mode-wise products."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import Array, array_namespace
from ..linop import LinearOperator
from .basic import MatrixOperator

__all__ = ["Kronecker"]


class Kronecker(LinearOperator):
    """The Kronecker product of operators, ``y = (A_1 ⊗ ⋯ ⊗ A_I) x``.

    Parameters
    ----------
    *factors : LinearOperator or 2-D array
        At least two factors, each mapping vectors of length ``n_i`` to length
        ``m_i`` (arrays are wrapped in :class:`MatrixOperator`).

    Notes
    -----
    Input and output are flat vectors of lengths ``prod(n_i)`` and
    ``prod(m_i)`` in C (row-major) order, so ``Kronecker(A, B) @ x`` equals
    ``numpy.kron(A, B) @ x``. The product is never formed: ``x`` is reshaped to
    ``(n_1, ..., n_I)`` and factor ``i`` is applied along axis ``i``, costing
    ``sum_i (prod_{j<i} m_j)(prod_{j>=i} n_j) m_i`` operations instead of
    ``prod(m_i n_i)``. ``normal()`` is ``A_1^H A_1 ⊗ ... ⊗ A_I^H A_I``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Kronecker
    >>> rng = np.random.default_rng(0)
    >>> A1, A2 = rng.standard_normal((3, 4)), rng.standard_normal((5, 6))
    >>> K = Kronecker(A1, A2)
    >>> K.ishape, K.oshape
    ((24,), (15,))
    >>> x = rng.standard_normal(K.ishape)
    >>> bool(np.allclose(K @ x, np.kron(A1, A2) @ x))
    True
    """

    def __init__(self, *factors: LinearOperator | Array):
        if len(factors) == 1 and isinstance(factors[0], (list, tuple)):
            factors = tuple(factors[0])
        if len(factors) < 2:
            raise ValueError(f"Kronecker needs at least two factors, got {len(factors)}")
        ops = []
        for i, f in enumerate(factors):
            if not isinstance(f, LinearOperator):
                if not hasattr(f, "shape") or len(f.shape) != 2:
                    raise ValueError(f"factors[{i}] must be a LinearOperator or a 2-D array")
                f = MatrixOperator(f)
            if len(f.ishape) != 1 or len(f.oshape) != 1:
                raise ValueError(
                    f"factors[{i}] must map vectors to vectors, got {f.oshape} <- {f.ishape}"
                )
            ops.append(f)
        self.factors = tuple(ops)
        self.n = tuple(f.ishape[0] for f in ops)
        self.m = tuple(f.oshape[0] for f in ops)
        dtype = np.result_type(*[f.dtype for f in ops])
        super().__init__((math.prod(self.n),), (math.prod(self.m),), dtype)

    def __repr__(self) -> str:
        dims = " ⊗ ".join(f"{m}x{n}" for m, n in zip(self.m, self.n, strict=True))
        return f"<Kronecker {dims}, {self.dtype}>"

    def _modewise(self, x: Array, sizes: tuple[int, ...], adjoint: bool) -> Array:
        xp = array_namespace(x)
        x = self._as_out_dtype(x)
        batch = tuple(x.shape[:-1])
        nb = len(batch)
        t = xp.reshape(x, (*batch, *sizes))
        for i, f in enumerate(self.factors):
            ax = nb + i
            t = xp.moveaxis(t, ax, -1)
            t = f._adjoint(t) if adjoint else f._apply(t)
            t = xp.moveaxis(t, -1, ax)
        return xp.reshape(t, (*batch, -1))

    def _apply(self, x: Array) -> Array:
        return self._modewise(x, self.n, adjoint=False)

    def _adjoint(self, y: Array) -> Array:
        return self._modewise(y, self.m, adjoint=True)

    def _column_norms(self, **probe: Any) -> np.ndarray:
        # ||(A ⊗ B) e_{ij}|| = ||A e_i|| ||B e_j||: a factor without a closed form is probed alone
        # (n_i columns instead of prod(n_i))
        out = np.ones(1)
        for f in self.factors:
            out = np.kron(out, f.column_norms(**probe))
        return out

    def _row_norms(self, **probe: Any) -> np.ndarray:
        out = np.ones(1)
        for f in self.factors:
            out = np.kron(out, f.H.column_norms(**probe))
        return out

    def _make_normal(self) -> LinearOperator:
        return Kronecker(*[f.normal() for f in self.factors])
