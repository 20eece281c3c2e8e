"""Orthonormal periodized N-d discrete wavelet transform, written with array-API operations.

The transform is ``pywt.wavedecn(x, wavelet, mode="periodization", level=J)``
with the coefficients packed as by ``pywt.coeffs_to_array`` (approximation in
the leading corner, then the detail bands of each level): an orthonormal map of
an array onto an array of the same shape, so its adjoint is its inverse. The
filters come from PyWavelets; the arithmetic runs on the input's own namespace
and device with array-API operations:

- a level of a short axis (``n <= 64``) is one product with its dense orthogonal
  ``n x n`` matrix;
- a level of a long axis is a batch of small dense products on overlapping
  windows (the level matrix is banded and block-circulant: each block of 16
  outputs reads ``16 + L - 2`` inputs), a few large array operations instead of
  ``~4L`` strided passes;
- lengths with no block of 8 or 16 fall back to strided multiply-adds;
- complex inputs are transformed as their stacked real and imaginary parts (the
  filters are real: half the arithmetic of a complex product);
- CuPy arrays take one fused kernel per level (:mod:`._wavelet_cupy`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np

from .._validation import check_axes
from ..backend import ArrayCache, array_namespace
from ..linop import LinearOperator, _as_shape

__all__ = ["Wavelet"]

Array = Any


def _take_axis(x: Array, axis: int, start: int, stop: int | None, step: int = 1) -> Array:
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(start, stop, step)
    return x[tuple(idx)]


class _Filters:
    """Orthonormal analysis filters and the index offsets of pywt's periodization."""

    def __init__(self, name: str):
        import pywt

        try:
            w = pywt.Wavelet(name)
        except ValueError:
            raise ValueError(
                f"wavelet: unknown wavelet name {name!r}; expected a discrete wavelet of "
                f"PyWavelets such as 'haar', 'db4', 'sym8', 'coif3'"
            ) from None
        if not w.orthogonal:
            raise ValueError(f"wavelet: {name!r} is not orthogonal; Wavelet needs an orthonormal one")
        self.name = name
        self.lo = [float(v) for v in w.dec_lo]
        self.hi = [float(v) for v in w.dec_hi]
        self.length = len(self.lo)



def _periodic_pad(x: Array, axis: int, before: int, after: int) -> Array:
    """Periodic extension of ``x`` along ``axis`` by ``before`` and ``after`` samples."""
    xp = array_namespace(x)
    n = x.shape[axis]
    reps = -(-max(before, after, 1) // n)
    rep = xp.concat([x] * reps, axis=axis) if reps > 1 else x
    parts = [x]
    if before:
        parts.insert(0, _take_axis(rep, axis, rep.shape[axis] - before, None))
    if after:
        parts.append(_take_axis(rep, axis, 0, after))
    return xp.concat(parts, axis=axis)


_DENSE_MAX = 64  # up to this length one small dense matrix product per level is fastest
_BLOCK = 16  # output block of the banded (blocked) level: b samples from b + L - 2 inputs


def _level_matrix(n: int, f: _Filters) -> np.ndarray:
    """The orthogonal ``n x n`` matrix of one periodized analysis level (rows: cA then cD)."""
    return np.asarray(_analysis_strided(np.eye(n), 0, f))  # columns: transforms of unit vectors


class _Dense:
    """One level as a dense orthogonal matrix product (short axes)."""

    def __init__(self, n: int, f: _Filters):
        M = _level_matrix(n, f)
        self.M, self.MT = ArrayCache(M), ArrayCache(np.ascontiguousarray(M.T))

    def __call__(self, x3: Array, inverse: bool) -> Array:
        # x3: (lead, n, T); T == 1 is multiplied from the right (one tall product)
        if x3.shape[2] == 1:
            op = (self.M if inverse else self.MT).like(x3, x3.dtype)
            return (x3[..., 0] @ op)[..., None]
        op = (self.MT if inverse else self.M).like(x3, x3.dtype)
        return op @ x3


class _Blocked:
    """One level as small dense products on overlapping windows (the level matrix is banded).

    The periodized level matrix is block-circulant: the ``b/2`` approximation and
    ``b/2`` detail coefficients of block ``j`` read only the ``w = b + L - 2`` samples
    starting at ``j b - p``; the ``b`` samples of block ``j`` of the inverse read
    ``wa`` approximation and ``wd`` detail coefficients. Gathering those windows
    (one periodic pad, one concatenation) turns a level into a batch of
    ``(b/2 x w)`` products: ``O((b + L) n)`` work in a handful of array operations
    instead of ``~4L`` strided passes. The blocks are cut out of the level matrix
    of a reference length, so any orthogonal filter works.
    """

    def __init__(self, b: int, f: _Filters):
        R = 4 + 2 * -(-f.length // b)  # blocks of the reference length: windows never wrap
        n = b * R
        M = _level_matrix(n, f)
        h, j0 = n // 2, R // 2
        rows = j0 * (b // 2) + np.arange(b // 2)
        cols = np.flatnonzero(np.any(M[np.r_[rows, h + rows]] != 0, axis=0))
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        self.b, self.p, self.w = b, j0 * b - c0, c1 - c0
        FA, FD = M[rows, c0:c1], M[h + rows, c0:c1]
        t = j0 * b + np.arange(b)
        ia = np.flatnonzero(np.any(M[:h, t] != 0, axis=1))
        id_ = np.flatnonzero(np.any(M[h:, t] != 0, axis=1))
        a0, a1, d0, d1 = int(ia[0]), int(ia[-1]) + 1, int(id_[0]), int(id_[-1]) + 1
        self.pa, self.wa = j0 * (b // 2) - a0, a1 - a0
        self.pd, self.wd = j0 * (b // 2) - d0, d1 - d0
        G = np.concatenate([M[a0:a1, t].T, M[h + d0 : h + d1, t].T], axis=1)  # (b, wa + wd)
        self.FA, self.FD, self.G = ArrayCache(FA), ArrayCache(FD), ArrayCache(G)
        self.FAt, self.FDt = ArrayCache(np.ascontiguousarray(FA.T)), ArrayCache(np.ascontiguousarray(FD.T))
        self.Gt = ArrayCache(np.ascontiguousarray(G.T))

    def __call__(self, x3: Array, inverse: bool) -> Array:
        xp = array_namespace(x3)
        lead, n, T = x3.shape
        b = self.b
        if not inverse:
            W = _windows(x3, b, self.w, self.p)  # (lead, n/b, w, T)
            parts = [self._mul(W, F, Ft) for F, Ft in ((self.FA, self.FAt), (self.FD, self.FDt))]
            return xp.concat([xp.reshape(v, (lead, n // 2, T)) for v in parts], axis=1)
        m = n // 2
        W = xp.concat([_windows(_take_axis(x3, 1, 0, m), b // 2, self.wa, self.pa),
                       _windows(_take_axis(x3, 1, m, None), b // 2, self.wd, self.pd)], axis=2)
        return xp.reshape(self._mul(W, self.G, self.Gt), (lead, n, T))

    @staticmethod
    def _mul(W: Array, F: ArrayCache, Ft: ArrayCache) -> Array:
        # left products (k x w) @ (w x T) per window, or for T == 1 one batch of (n/b x w) @ (w x k)
        if W.shape[3] == 1:
            return W[..., 0] @ Ft.like(W, W.dtype)
        return F.like(W, W.dtype) @ W


def _windows(x3: Array, blk: int, width: int, before: int) -> Array:
    """Windows ``x3[:, j blk - before : j blk - before + width]`` (periodic) of ``(lead, n, T)``.

    Returns ``(lead, n / blk, width, T)``. When a window spans at most its own
    block and one sample range of each neighbour, it is the block with the tail
    of the previous block and the head of the next (each a one-block roll of a
    sliver): one concatenation. Otherwise a periodic pad to
    ``(n / blk + S - 1) blk`` samples is cut into ``S = ceil(width / blk)``
    shifted block views.
    """
    xp = array_namespace(x3)
    lead, n, T = x3.shape
    nb = n // blk
    after = width - blk - before
    if 0 <= before <= blk and 0 <= after <= blk and nb > 1:
        X4 = xp.reshape(x3, (lead, nb, blk, T))
        parts = [X4]
        if before:
            tail = _take_axis(X4, 2, blk - before, None)
            prev = [_take_axis(tail, 1, nb - 1, None), _take_axis(tail, 1, 0, nb - 1)]
            parts.insert(0, xp.concat(prev, axis=1))
        if after:
            head = _take_axis(X4, 2, 0, after)
            parts.append(xp.concat([_take_axis(head, 1, 1, None), _take_axis(head, 1, 0, 1)], axis=1))
        return xp.concat(parts, axis=2)
    S = -(-width // blk)
    total = (nb + S - 1) * blk
    ext = _periodic_pad(x3, 1, before, max(total - n - before, 0))
    ext = xp.reshape(_take_axis(ext, 1, 0, total), (lead, nb + S - 1, blk, T))
    pieces = [_take_axis(ext, 1, s, s + nb) for s in range(S)]
    pieces[-1] = _take_axis(pieces[-1], 2, 0, width - (S - 1) * blk)
    return xp.concat(pieces, axis=2)


_PLANS: dict = {}


def _plan(n: int, f: _Filters) -> Any:
    """The cached dense or blocked implementation of a level of length ``n`` (None: strided)."""
    blk = math.gcd(n, _BLOCK)
    key = (f.name, n if n <= _DENSE_MAX else -blk)
    plan = _PLANS.get(key)
    if plan is None and key not in _PLANS:
        if n <= _DENSE_MAX:
            plan = _Dense(n, f)
        elif blk >= 8:
            plan = _Blocked(blk, f)
        _PLANS[key] = plan
    return plan


def _level(x: Array, axis: int, f: _Filters, inverse: bool) -> Array:
    """One periodized level along ``axis`` (``inverse``: its adjoint = inverse).

    A fused kernel on CuPy; elsewhere a dense orthogonal matrix product for short
    axes, windowed block products for long ones, strided multiply-adds when the
    length has no block size.
    """
    if array_api_compat.is_cupy_array(x):
        from ._wavelet_cupy import dwt_level

        return dwt_level(x, axis, f.lo, f.hi, inverse=inverse)
    axis = axis % x.ndim
    n = x.shape[axis]
    plan = _plan(n, f)
    if plan is None:
        return _synthesis_strided(x, axis, f) if inverse else _analysis_strided(x, axis, f)
    xp = array_namespace(x)
    shape = tuple(x.shape)
    lead, T = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    return xp.reshape(plan(xp.reshape(x, (lead, n, T)), inverse), shape)


def _analysis_strided(x: Array, axis: int, f: _Filters) -> Array:
    """One periodized analysis step along ``axis``: returns ``concat([cA, cD])`` on that axis.

    ``cA[k] = sum_j lo[j] x[(2k + L/2 - j) mod n]`` (pywt's periodization
    offsets), likewise ``cD`` with ``hi``. Working on ``axis`` in place (rather
    than moving it last) keeps every slice a block of contiguous rows.
    """
    xp = array_namespace(x)
    n = x.shape[axis]
    half = f.length // 2
    pre = half - 1  # samples prepended so that every tap is a plain strided slice
    ext = _periodic_pad(x, axis, pre, half)
    m = n // 2
    a = d = None
    for j in range(f.length):
        off = half - j + pre
        s = _take_axis(ext, axis, off, off + 2 * m - 1, 2)
        if a is None:
            a, d = f.lo[j] * s, f.hi[j] * s
        else:
            a += f.lo[j] * s
            d += f.hi[j] * s
    return xp.concat([a, d], axis=axis)


def _synthesis_strided(c: Array, axis: int, f: _Filters) -> Array:
    """Adjoint (= inverse) of :func:`_analysis_strided` along ``axis``."""
    xp = array_namespace(c)
    m = c.shape[axis] // 2
    half = f.length // 2
    P = half
    ae = _periodic_pad(_take_axis(c, axis, 0, m), axis, P, P)
    de = _periodic_pad(_take_axis(c, axis, m, None), axis, P, P)
    outs = []
    for r in (0, 1):
        acc = None
        for j in range(f.length):
            q = half - j - r
            if q % 2:
                continue
            start = P - q // 2
            sa = _take_axis(ae, axis, start, start + m)
            sd = _take_axis(de, axis, start, start + m)
            if acc is None:
                acc = f.lo[j] * sa
            else:
                acc += f.lo[j] * sa
            acc += f.hi[j] * sd
        outs.append(acc)
    x = xp.stack(outs, axis=axis + 1)
    shape = list(c.shape)
    return xp.reshape(x, tuple(shape))


def _split_complex(x: Array) -> tuple[Array, Any]:
    """A complex ``x`` as its real and imaginary parts stacked on a new leading axis.

    The filters are real, so one real product on the stacked parts does the work
    of a complex product at half the arithmetic. CuPy's fused kernel takes complex
    arrays as they are.
    """
    xp = array_namespace(x)
    if array_api_compat.is_cupy_array(x) or not xp.isdtype(x.dtype, "complex floating"):
        return x, None
    return xp.stack([xp.real(x), xp.imag(x)], axis=0), x.dtype


def _join_complex(z: Array, dtype: Any) -> Array:
    """Inverse of :func:`_split_complex`."""
    if dtype is None:
        return z
    xp = array_namespace(z)
    return z[0, ...] + 1j * xp.astype(z[1, ...], dtype)


def _set_corner(block: Array, corner: Array, axes: Sequence[int]) -> Array:
    """``block`` with its leading corner (the shape of ``corner``) replaced, without setitem."""
    if not axes:
        return corner
    xp = array_namespace(block)
    ax = axes[0]
    h = corner.shape[ax]
    lo = _take_axis(block, ax, 0, h)
    hi = _take_axis(block, ax, h, None)
    return xp.concat([_set_corner(lo, corner, axes[1:]), hi], axis=ax)


class Wavelet(LinearOperator):
    """Orthonormal periodized multilevel DWT over the axes of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        Image shape; every transformed size must be divisible by ``2**level``.
    wavelet : str
        An orthogonal PyWavelets wavelet ('haar', 'db1'..'db38', 'sym2'.., 'coif1'..).
    level : int, optional
        Number of levels (default: ``pywt.dwt_max_level`` of the smallest
        transformed size, reduced until every size is divisible by ``2**level``).
    axes : tuple of int, optional
        Axes of ``shape`` to transform (default: all).

    Notes
    -----
    ``W @ x`` equals ``pywt.coeffs_to_array(pywt.wavedecn(x, wavelet,
    mode="periodization", level=level, axes=axes), axes=axes)[0]``; ``W.H`` is
    ``pywt.waverecn`` of the same. Each level costs ``O(L n)`` operations for
    filter length ``L``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Wavelet
    >>> from csbox.phantoms import shepp_logan
    >>> W = Wavelet((64, 64), "db4", level=3)
    >>> x = shepp_logan(64)
    >>> c = W @ x
    >>> c.shape, bool(np.allclose(W.H @ c, x))
    ((64, 64), True)
    >>> round(float(np.linalg.norm(c) / np.linalg.norm(x)), 6)
    1.0
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        wavelet: str = "db4",
        level: int | None = None,
        axes: Sequence[int] | None = None,
    ):
        import pywt

        shape = _as_shape(shape, "shape")
        self.filters = _Filters(wavelet)
        axes = tuple(range(len(shape))) if axes is None else check_axes("axes", axes, len(shape))
        sizes = [shape[a] for a in axes]
        if level is None:
            level = max(pywt.dwt_max_level(min(sizes), self.filters.length), 1)
            while level > 1 and any(s % 2**level for s in sizes):
                level -= 1
        if not isinstance(level, int) or level < 1:
            raise ValueError(f"level must be a positive int, got {level!r}")
        bad = [s for s in sizes if s % 2**level]
        if bad:
            raise ValueError(
                f"shape {shape}: sizes {bad} are not divisible by 2**level = {2**level} "
                f"(level={level}); pad the image or lower the level"
            )
        super().__init__(shape, shape, "float64")
        self.wavelet = wavelet
        self.level = level
        self.axes = axes

    def __repr__(self) -> str:
        return f"<Wavelet {self.ishape}, {self.wavelet!r}, level={self.level}>"

    def _neg(self, x: Array) -> list[int]:
        return [a - len(self.ishape) + x.ndim for a in self.axes]

    def _apply(self, x: Array) -> Array:
        x, dtype = _split_complex(x)
        axes = self._neg(x)
        blocks = []
        cur = x
        for _ in range(self.level):
            for ax in axes:
                cur = _level(cur, ax, self.filters, inverse=False)
            blocks.append(cur)
            for ax in axes:
                cur = _take_axis(cur, ax, 0, cur.shape[ax] // 2)
        out = cur
        for block in reversed(blocks):
            out = _set_corner(block, out, axes)
        return _join_complex(out, dtype)

    def _adjoint(self, y: Array) -> Array:
        y, dtype = _split_complex(y)
        axes = self._neg(y)
        # details of each level, finest first, are read from y on the way back up
        sizes = [[y.shape[ax] // 2**j for ax in axes] for j in range(self.level + 1)]
        cur = y
        for ax, s in zip(axes, sizes[self.level], strict=True):
            cur = _take_axis(cur, ax, 0, s)
        for j in range(self.level, 0, -1):
            block = y
            for ax, s in zip(axes, sizes[j - 1], strict=True):
                block = _take_axis(block, ax, 0, s)
            block = _set_corner(block, cur, axes)
            for ax in reversed(axes):
                block = _level(block, ax, self.filters, inverse=True)
            cur = block
        return _join_complex(cur, dtype)

    def _make_normal(self) -> LinearOperator:
        from .basic import Identity

        return Identity(self.ishape)

