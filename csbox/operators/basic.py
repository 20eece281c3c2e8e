"""Basic operators: dense matrix, identity, diagonal, restriction (sampling)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._sparse import Scatter
from .._validation import check_shape
from ..backend import Array, ArrayCache, array_namespace, to_numpy
from ..linop import LinearOperator

__all__ = ["Diagonal", "Identity", "MatrixOperator", "Restriction"]


def _batch(x: Array, n_core: int) -> tuple[int, ...]:
    return tuple(x.shape[: x.ndim - n_core])


class MatrixOperator(LinearOperator):
    """A dense matrix ``M`` of shape ``(m, n)`` acting on vectors: ``y = M x``.

    Parameters
    ----------
    M : array, shape (m, n)
        NumPy array or an array of any array-API namespace. It is moved to the
        namespace, device and precision of each input once, then cached.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import MatrixOperator
    >>> A = MatrixOperator(np.arange(6.0).reshape(2, 3))
    >>> A.ishape, A.oshape
    ((3,), (2,))
    >>> A @ np.ones(3)
    array([ 3., 12.])
    >>> A.H @ np.ones(2)
    array([3., 5., 7.])
    """

    def __init__(self, M: Array):
        if not hasattr(M, "shape") or len(M.shape) != 2:
            raise ValueError(f"MatrixOperator: M must be a 2-D array, got {getattr(M, 'shape', M)!r}")
        host = to_numpy(M)
        if host.dtype.kind not in "fciu":
            raise TypeError(f"MatrixOperator: M must be numeric, got dtype {host.dtype}")
        if host.size == 0:
            raise ValueError(f"MatrixOperator: M is empty (shape {host.shape})")
        if not np.all(np.isfinite(host)):
            raise ValueError("MatrixOperator: M contains NaN or Inf")
        dtype = np.complex128 if host.dtype.kind == "c" else np.float64
        super().__init__((M.shape[1],), (M.shape[0],), dtype)
        xp = array_namespace(M)
        self._M = ArrayCache(M)
        self._MT = ArrayCache(xp.matrix_transpose(M) if hasattr(xp, "matrix_transpose") else M.T)
        self._Mc = ArrayCache(xp.conj(M) if self.is_complex else M)

    @property
    def matrix(self) -> Array:
        """The matrix as given."""
        return self._M.value

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        return xp.matmul(x, self._MT.like(x, x.dtype))

    def _adjoint(self, y: Array) -> Array:
        y = self._as_out_dtype(y)
        xp = array_namespace(y)
        return xp.matmul(y, self._Mc.like(y, y.dtype))

    def _column_norms(self, **_: Any) -> np.ndarray:
        # ||M[:, i]||_2 from the matrix itself (no probing)
        return np.linalg.norm(to_numpy(self.matrix), axis=0)

    def _row_norms(self, **_: Any) -> np.ndarray:
        return np.linalg.norm(to_numpy(self.matrix), axis=1)


class Identity(LinearOperator):
    """The identity on arrays of ``shape``.

    Parameters
    ----------
    shape : int or sequence of int
        ``ishape = oshape`` (positive sizes).
    """

    def __init__(self, shape: int | Sequence[int]):
        shape = check_shape("shape", shape)
        super().__init__(shape, shape, "float64")

    def _apply(self, x: Array) -> Array:
        return x

    def _adjoint(self, y: Array) -> Array:
        return y

    def _make_adjoint(self) -> LinearOperator:
        return self

    @property
    def _isometry(self) -> bool:
        return True


class Diagonal(LinearOperator):
    """Elementwise multiplication ``y = d * x`` by a fixed array ``d`` (shape = ``d.shape``).

    Parameters
    ----------
    d : array
        The diagonal, at least 1-D and finite (real or complex; complex makes the operator
        complex); ``ishape = oshape = d.shape``. Moved once to each input's namespace and device.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Diagonal
    >>> D = Diagonal(np.array([1.0, -2.0, 3.0]))
    >>> D @ np.ones(3)
    array([ 1., -2.,  3.])
    >>> round(float(D.lipschitz()), 6)
    9.0
    """

    def __init__(self, d: Array):
        if not hasattr(d, "shape"):
            d = np.asarray(d)
        host = to_numpy(d)
        if host.dtype.kind not in "biufc":
            raise TypeError(f"Diagonal: d must be a numeric array, got dtype {host.dtype}")
        if host.ndim == 0:
            raise ValueError("Diagonal: d must have at least one dimension")
        if host.size == 0:
            raise ValueError(f"Diagonal: d is empty (shape {host.shape})")
        if not np.all(np.isfinite(host)):
            raise ValueError("Diagonal: d contains NaN or Inf")
        super().__init__(host.shape, host.shape, np.complex128 if host.dtype.kind == "c" else "float64")
        xp = array_namespace(d)
        self._d = ArrayCache(d)
        self._dc = ArrayCache(xp.conj(d) if self.is_complex else d)

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        return self._d.like(x, x.dtype) * x

    def _adjoint(self, y: Array) -> Array:
        y = self._as_out_dtype(y)
        return self._dc.like(y, y.dtype) * y

    def _column_norms(self, **_: Any) -> np.ndarray:
        # |d|: column (and row) i of diag(d) is d_i e_i
        return np.abs(to_numpy(self._d.value))

    _row_norms = _column_norms

    def _make_normal(self) -> LinearOperator:
        d = to_numpy(self._d.value)
        return Diagonal(np.abs(d) ** 2)


def _mask_to_numpy(mask: Array, shape: tuple[int, ...], arg: str = "mask") -> np.ndarray:
    """Validate a sampling mask and return it as a NumPy boolean array."""
    if not hasattr(mask, "shape"):
        mask = np.asarray(mask)
    host = to_numpy(mask)
    if tuple(host.shape) != tuple(shape):
        raise ValueError(f"{arg} has shape {tuple(host.shape)}, expected {tuple(shape)}")
    if host.dtype != np.bool_:
        if host.dtype.kind not in "fiu":
            raise TypeError(f"{arg} must be a boolean array, got dtype {host.dtype}")
        if host.dtype.kind == "f" and not np.all(np.isfinite(host)):
            raise ValueError(f"{arg} contains NaN or Inf; it must be a boolean array")
        if not np.all((host == 0) | (host == 1)):
            raise ValueError(f"{arg} must be a boolean array (or 0/1 values), got dtype {host.dtype}")
        host = host.astype(bool)
    if not host.any():
        raise ValueError(f"{arg} selects no samples")
    return host


class Restriction(LinearOperator):
    """Keep the entries of an array at given positions: ``y = x[indices]``.

    Parameters
    ----------
    shape : tuple of int
        Input shape.
    indices : array
        Either a boolean mask of ``shape`` or flat (C-order) integer indices,
        distinct, into ``prod(shape)``. The output is the selected entries in
        increasing flat-index order (for a mask) or in the given order.

    Notes
    -----
    The adjoint scatters with a gather: the samples are padded with one zero
    and taken with a precomputed inverse index, so it runs on namespaces that
    forbid integer-array assignment (``array_api_strict``).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Restriction
    >>> R = Restriction(6, np.array([0, 2, 5]))
    >>> R @ np.arange(6.0)
    array([0., 2., 5.])
    >>> R.H @ np.ones(3)
    array([1., 0., 1., 0., 0., 1.])
    """

    def __init__(self, shape: int | Sequence[int], indices: Array):
        shape = check_shape("shape", shape)
        n = math.prod(shape)
        host = to_numpy(indices) if hasattr(indices, "shape") else np.asarray(indices)
        if host.dtype == np.bool_ or (host.shape == shape and host.dtype.kind == "f"):
            idx = np.flatnonzero(_mask_to_numpy(indices, shape, "indices"))
        else:
            if host.dtype.kind not in "iu" or host.ndim != 1:
                raise TypeError(
                    f"indices must be a boolean mask of shape {shape} or 1-D integer indices, "
                    f"got dtype {host.dtype} and shape {host.shape}"
                )
            idx = host.astype(np.int64)
            if idx.size == 0:
                raise ValueError("indices selects no samples")
            if idx.min() < 0 or idx.max() >= n:
                raise ValueError(f"indices must lie in [0, {n}), got range [{idx.min()}, {idx.max()}]")
            if np.unique(idx).size != idx.size:
                raise ValueError("indices must be distinct")
        super().__init__(shape, (idx.size,), "float64")
        self.indices = idx
        self._idx = ArrayCache(idx)
        self._scatter = Scatter(idx, n)

    @property
    def mask(self) -> np.ndarray:
        """The selection as a boolean NumPy array of ``ishape``."""
        m = np.zeros(self.size_in, dtype=bool)
        m[self.indices] = True
        return m.reshape(self.ishape)

    def _apply(self, x: Array) -> Array:
        xp = array_namespace(x)
        b = _batch(x, len(self.ishape))
        flat = xp.reshape(x, (*b, self.size_in))
        return xp.take(flat, self._idx.like(x), axis=len(b))

    def _adjoint(self, y: Array) -> Array:
        xp = array_namespace(y)
        b = _batch(y, 1)
        return xp.reshape(self._scatter(y, axis=-1), (*b, *self.ishape))

    def _make_normal(self) -> LinearOperator:
        return Diagonal(self.mask.astype(np.float64))

    def _column_norms(self, **_: Any) -> np.ndarray:
        # column i is e_k when i is the k-th kept entry, zero otherwise
        return self.mask.astype(np.float64)

    def _row_norms(self, **_: Any) -> np.ndarray:
        return np.ones(self.oshape)
