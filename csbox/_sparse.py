"""Sparse helpers on every namespace: scatter by a gather, top-k selection, a sparse matrix.

* :class:`Scatter` / :func:`scatter` write values into given positions of a
  longer axis (``out[..., index[i], ...] = v[..., i, ...]``, ``fill``
  elsewhere) without integer-array assignment, which ``array_api_strict`` and
  the standard forbid: the values are padded with one ``fill`` entry and taken
  with a precomputed inverse index (``inverse[index[i]] = i``, ``len(index)``
  elsewhere). The one implementation behind ``Restriction``'s adjoint, the
  active-set expansions of SBL and OT, the EMPM aperture grid and the dense
  fallback of :class:`SparseMatrix`.
* :func:`topk_indices`: the ``k`` largest entries, ``O(size)`` where the
  namespace has a partition.
* :class:`SparseMatrix`: ``scipy.sparse`` CSR on NumPy, ``cupyx.scipy.sparse``
  on CuPy, torch sparse COO on torch, a dense matrix elsewhere.

Private: the public API reaches these through the operators and solvers.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from ._validation import check_memory
from .backend import Array, ArrayCache, array_namespace, device, is_numpy, to_numpy

__all__ = ["Scatter", "SparseMatrix", "scatter", "topk_indices"]


class Scatter:
    """Scatter into the positions ``index`` of an axis of length ``size``, by one gather.

    Parameters
    ----------
    index : 1-D integer array (any namespace; read once on the host)
        Distinct positions in ``[0, size)``.
    size : int
        Length of the output axis.

    Notes
    -----
    ``out = take(concat([v, fill]), inverse)`` with ``inverse[index[i]] = i``
    and ``inverse[j] = len(index)`` (the fill entry) elsewhere; the inverse is
    built once and moved to each input's device once (:class:`ArrayCache`).
    """

    def __init__(self, index: Any, size: int):
        idx = to_numpy(index) if hasattr(index, "shape") else np.asarray(index)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"index must be a 1-D integer array, got dtype {idx.dtype} and shape {idx.shape}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < idx.size:
            raise ValueError(f"size must be an int >= len(index) = {idx.size}, got {size!r}")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise ValueError(f"index must lie in [0, {size}), got range [{idx.min()}, {idx.max()}]")
        inverse = np.full(int(size), idx.size, dtype=np.int64)
        inverse[idx] = np.arange(idx.size)
        if np.count_nonzero(inverse < idx.size) != idx.size:
            raise ValueError("index must hold distinct positions")
        self.index = idx
        self.size = int(size)
        self._inverse = ArrayCache(inverse)

    def __call__(self, v: Array, axis: int = -1, fill: float = 0.0) -> Array:
        """``v`` (``len(index)`` entries along ``axis``) written into ``size`` entries, ``fill`` elsewhere."""
        xp = array_namespace(v)
        axis = axis % v.ndim
        if v.shape[axis] != self.index.size:
            raise ValueError(f"v has {v.shape[axis]} entries along axis {axis}, expected {self.index.size}")
        shape = list(v.shape)
        shape[axis] = 1
        pad = xp.full(tuple(shape), fill, dtype=v.dtype, device=device(v))
        return xp.take(xp.concat([v, pad], axis=axis), self._inverse.like(v), axis=axis)


def scatter(v: Array, index: Any, size: int, *, axis: int = -1, fill: float = 0.0) -> Array:
    """One-off :class:`Scatter`: ``out[..., index[i], ...] = v[..., i, ...]`` along ``axis``, else ``fill``.

    Build a :class:`Scatter` once instead when the same ``index`` is used repeatedly.
    """
    return Scatter(index, size)(v, axis=axis, fill=fill)


def topk_indices(x: Array, k: int) -> Array:
    """Flat indices of the ``k`` largest entries of ``x`` (any order).

    ``argpartition`` on NumPy and CuPy (O(size)), ``torch.topk`` on torch, a
    full ``argsort`` on other namespaces.
    """
    xp = array_namespace(x)
    flat = xp.reshape(x, (-1,))
    k = int(min(max(k, 1), flat.shape[0]))
    if is_numpy(xp) or array_api_compat.is_cupy_namespace(xp):
        mod = np if is_numpy(xp) else __import__("cupy")
        return mod.argpartition(flat, flat.shape[0] - k)[flat.shape[0] - k :]
    if array_api_compat.is_torch_namespace(xp):
        return __import__("torch").topk(flat, k, sorted=False).indices
    return xp.argsort(flat, descending=True)[:k]


class SparseMatrix:
    """A sparse ``(n, m)`` matrix from COO ``(rows, cols, vals)`` with ``matvec`` and ``rmatvec``.

    ``scipy.sparse`` CSR on NumPy, ``cupyx.scipy.sparse`` on CuPy, torch's
    sparse COO on torch; on other namespaces a dense matrix filled by a
    :class:`Scatter` (array-API only, ``O(n m)`` per product). Repeated
    ``(row, col)`` pairs are summed, as in ``scipy.sparse``. ``rows``, ``cols``
    and ``vals`` live in one namespace on one device (see :meth:`from_host`).
    """

    def __init__(self, rows: Array, cols: Array, vals: Array, shape: tuple[int, int]):
        xp = array_namespace(vals)
        self.shape = shape
        self.nnz = int(vals.shape[0])
        if is_numpy(xp):
            import scipy.sparse

            self._S = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=shape)
            self._ST = self._S.T.tocsr()
        elif array_api_compat.is_cupy_namespace(xp):
            import cupyx.scipy.sparse as cusp

            self._S = cusp.coo_matrix((vals, (rows, cols)), shape=shape).tocsr()
            self._ST = self._S.T.tocsr()
        elif array_api_compat.is_torch_namespace(xp):
            import torch

            idx = torch.stack([rows, cols])
            kw = {"check_invariants": False}
            self._S = torch.sparse_coo_tensor(idx, vals, shape, **kw).coalesce()
            self._ST = torch.sparse_coo_tensor(idx.flip(0), vals, shape[::-1], **kw).coalesce()
        else:
            n, m = shape
            flat = to_numpy(rows).astype(np.int64) * m + to_numpy(cols).astype(np.int64)
            uniq, first = np.unique(flat, return_inverse=True)
            if uniq.size != flat.size:  # sum duplicates: one-hot (unique x nnz) product, host-built
                check_memory("the duplicate-summing matrix", uniq.size * flat.size, 8)
                onehot = xp.asarray(first[None, :] == np.arange(uniq.size)[:, None], device=device(vals))
                vals = xp.astype(onehot, vals.dtype) @ vals
                flat = uniq
            self._S = xp.reshape(scatter(vals, flat, n * m), (n, m))
            self._ST = xp.matrix_transpose(self._S)

    @classmethod
    def from_host(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int],
                  like: Array, dtype: Any = None) -> SparseMatrix:
        """The matrix of host COO arrays, on ``like``'s namespace and device (values cast to ``dtype``)."""
        xp = array_namespace(like)
        kw = {} if array_api_compat.is_cupy_namespace(xp) else {"device": device(like)}
        v = xp.asarray(vals, **kw)
        return cls(xp.asarray(rows, **kw), xp.asarray(cols, **kw),
                   v if dtype is None else xp.astype(v, dtype), shape)

    @classmethod
    def cache(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
              shape: tuple[int, int]) -> ArrayCache:
        """An :class:`ArrayCache` whose ``like(x, dtype)`` is this matrix, built once per namespace/dtype."""

        def build(x: Array, dtype: Any) -> SparseMatrix:
            return cls.from_host(rows, cols, vals, shape, x, dtype)

        return ArrayCache(build=build)

    def matvec(self, v: Array) -> Array:
        """``S v``."""
        return self._S @ v

    def rmatvec(self, v: Array) -> Array:
        """``S^T v``."""
        return self._ST @ v

    def rmatvec_conj(self, v: Array) -> Array:
        """``S^H v = conj(S^T conj(v))``."""
        xp = array_namespace(v)
        return xp.conj(self._ST @ xp.conj(v))
