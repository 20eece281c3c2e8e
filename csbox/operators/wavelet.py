"""Orthonormal periodized N-d discrete wavelet transform, written with array-API operations.

The transform is ``pywt.wavedecn(x, wavelet, mode="periodization", level=J)``
with the coefficients packed as by ``pywt.coeffs_to_array`` (approximation in
the leading corner, then the detail bands of each level): an orthonormal map of
an array onto an array of the same shape, so its adjoint is its inverse. The
filters come from PyWavelets; the arithmetic runs on the input's own namespace
and device with array-API operations:

- a level of a short axis (``n <= 64``) is one product with each half of its
  dense orthogonal ``n x n`` matrix;
- a level of a long axis is a batch of small dense products on overlapping
  windows (the level matrix is banded and block-circulant: each block of 16
  outputs reads ``16 + L - 2`` inputs), a few large array operations instead of
  ``~4L`` strided passes;
- a leading axis multiplies ``(8 x w) @ (w x T)`` slabs; the last axis (trailing
  size ``T <= 2``) is one tall product with ``kron(F^T, I_T)``;
- lengths with no block of 8 or 16 fall back to strided multiply-adds;
- complex inputs are transformed as real ``(..., 2)`` (real, imaginary) pairs,
  a view of their memory on NumPy and torch (:func:`csbox.backend.as_real_pairs`):
  the filters are real, so this is half the arithmetic of a complex product and
  needs no split or join copies;
- the bands of a level stay separate arrays and are written once into the
  output (no per-level concatenations);
- on NumPy the windows go into a per-thread scratch buffer reused across calls,
  and right products are cut below OpenBLAS's threading size (its threads stall
  on a busy machine);
- CuPy arrays take one fused kernel per level (:mod:`._wavelet_cupy`).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np

from .._validation import check_axes, check_int, check_shape
from ..backend import Array, ArrayCache, array_namespace, as_real_pairs, device, from_real_pairs
from ..linop import LinearOperator

__all__ = ["Wavelet"]


_NAMESPACES: dict = {}


def _ns(x: Array) -> Any:
    """``array_namespace(x)``, memoized by array type (a level makes a few dozen calls)."""
    xp = _NAMESPACES.get(type(x))
    if xp is None:
        xp = _NAMESPACES[type(x)] = array_namespace(x)
    return xp


def _take_axis(x: Array, axis: int, start: int, stop: int | None, step: int = 1) -> Array:
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(start, stop, step)
    return x[tuple(idx)]


class _Filters:
    """Orthonormal analysis filters and the index offsets of pywt's periodization."""

    def __init__(self, name: str):
        import pywt

        if not isinstance(name, str):
            raise TypeError(f"wavelet must be a wavelet name (str) such as 'db4', got {type(name).__name__}")
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
    xp = _ns(x)
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
_RIGHT_T = 2  # trailing sizes up to this (the last axis; real/imaginary pairs) multiply from the right
# OpenBLAS runs a GEMM with m n k above 4 * 65536 on all its threads; on a busy machine
# the threads wait on each other (a 2-core box measured 3-10x slower than one thread), so
# right-multiplications are cut into batches of products below that size.
_GEMM_CHUNK = 4 * 65536


def _level_matrix(n: int, f: _Filters) -> np.ndarray:
    """The orthogonal ``n x n`` matrix of one periodized analysis level (rows: cA then cD)."""
    return np.concatenate(_analysis_strided(np.eye(n), 0, f), axis=0)  # columns: transforms of unit vectors


def _rmul(x: Array, M: Array) -> Array:
    """``x @ M`` for ``x`` of shape ``(..., r, k)``, as a batch of GEMMs below OpenBLAS's threading size."""
    xp = _ns(x)
    k, c = M.shape
    rows = math.prod(x.shape[:-1])
    if rows * k * c <= _GEMM_CHUNK or rows < 2:
        return x @ M
    target = -(-rows * k * c // _GEMM_CHUNK)
    groups = next((g for g in range(target, min(rows, 64 * target) + 1) if rows % g == 0), 1)
    out = xp.reshape(x, (groups, rows // groups, k)) @ M
    return xp.reshape(out, (*x.shape[:-1], c))


class _Mats:
    """Matrices ``F`` (each ``k x w``) kept for left products and, per trailing size ``T``, right ones.

    A level along an axis with trailing size ``T`` (the product of the later
    axes) is ``F @ X`` on ``(w, T)`` slabs when ``T`` is large, and ``X @ kron(F^T, I_T)``
    on rows of ``w T`` contiguous samples when ``T <= 2`` (the last axis, alone or
    with the real/imaginary pair): one tall product instead of many thin ones.
    """

    def __init__(self, mats: Sequence[np.ndarray]):
        self.np = [np.ascontiguousarray(F) for F in mats]
        self.caches: dict[int, ArrayCache] = {}
        self.recent: dict[tuple, list[Array]] = {}

    def get(self, x: Array, T: int) -> list[Array]:
        kind = T if T <= _RIGHT_T else 0
        key = (kind, type(x), x.dtype, str(device(x)))
        mats = self.recent.get(key)
        if mats is None:
            cache = self.caches.get(kind)
            if cache is None:
                host = self.np if kind == 0 else [np.kron(F.T, np.eye(T)) for F in self.np]
                cache = ArrayCache(build=lambda x, dtype: [ArrayCache(M).like(x, dtype) for M in host])
                self.caches[kind] = cache
            mats = cache.like(x, x.dtype)
            if len(self.recent) >= 16:
                self.recent.clear()
            self.recent[key] = mats
        return mats


def _apply_mats(W: Array, M: _Mats, T: int) -> list[Array]:
    """``F @ W`` for windows ``W`` of shape ``(lead, nb, w, T)``, each result ``(lead, nb, k, T)``."""
    xp = _ns(W)
    if T > _RIGHT_T:
        return [F @ W for F in M.get(W, T)]
    lead, nb, w, _ = W.shape
    flat = xp.reshape(W, (lead * nb, w * T))
    return [xp.reshape(_rmul(flat, K), (lead, nb, K.shape[1] // T, T)) for K in M.get(W, T)]


class _Dense:
    """One level as dense products with the ``n/2 x n`` halves of its orthogonal matrix (short axes)."""

    def __init__(self, n: int, f: _Filters):
        M = _level_matrix(n, f)
        self.fwd = _Mats([M[: n // 2], M[n // 2 :]])
        self.inv = _Mats([M.T])

    def analysis(self, x3: Array) -> list[Array]:
        xp = _ns(x3)
        lead, n, T = x3.shape
        x4 = xp.reshape(x3, (lead, 1, n, T))
        return [xp.reshape(v, (lead, n // 2, T)) for v in _apply_mats(x4, self.fwd, T)]

    def synthesis(self, a3: Array, d3: Array) -> Array:
        xp = _ns(a3)
        lead, m, T = a3.shape
        c = xp.reshape(xp.concat([a3, d3], axis=1), (lead, 1, 2 * m, T))
        return xp.reshape(_apply_mats(c, self.inv, T)[0], (lead, 2 * m, T))


class _Blocked:
    """One level as small dense products on overlapping windows (the level matrix is banded).

    The periodized level matrix is block-circulant: the ``b/2`` approximation and
    ``b/2`` detail coefficients of block ``j`` read only the ``w = b + L - 2`` samples
    starting at ``j b - p``; the ``b`` samples of block ``j`` of the inverse read
    ``wa`` approximation and ``wd`` detail coefficients. Gathering those windows
    (one concatenation) turns a level into a batch of ``(b/2 x w)`` products:
    ``O((b + L) n)`` work in a handful of array operations instead of ``~4L``
    strided passes. The approximation and detail halves are separate products so
    that each comes out contiguous. The blocks are cut out of the level matrix of
    a reference length, so any orthogonal filter works.
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
        self.fwd = _Mats([M[rows, c0:c1], M[h + rows, c0:c1]])
        t = j0 * b + np.arange(b)
        ia = np.flatnonzero(np.any(M[:h, t] != 0, axis=1))
        id_ = np.flatnonzero(np.any(M[h:, t] != 0, axis=1))
        a0, a1, d0, d1 = int(ia[0]), int(ia[-1]) + 1, int(id_[0]), int(id_[-1]) + 1
        self.pa, self.wa = j0 * (b // 2) - a0, a1 - a0
        self.pd, self.wd = j0 * (b // 2) - d0, d1 - d0
        self.inv = _Mats([np.concatenate([M[a0:a1, t].T, M[h + d0 : h + d1, t].T], axis=1)])  # (b, wa + wd)

    def analysis(self, x3: Array) -> list[Array]:
        xp = _ns(x3)
        lead, n, T = x3.shape
        W = _windows([x3], self.b, [self.w], [self.p])  # (lead, n/b, w, T)
        return [xp.reshape(v, (lead, n // 2, T)) for v in _apply_mats(W, self.fwd, T)]

    def synthesis(self, a3: Array, d3: Array) -> Array:
        xp = _ns(a3)
        lead, m, T = a3.shape
        W = _windows([a3, d3], self.b // 2, [self.wa, self.wd], [self.pa, self.pd])
        return xp.reshape(_apply_mats(W, self.inv, T)[0], (lead, 2 * m, T))


def _windows(xs: list[Array], blk: int, widths: list[int], befores: list[int]) -> Array:
    """Windows ``x[:, j blk - before : j blk - before + width]`` (periodic) of each ``(lead, n, T)``.

    Returns ``(lead, n / blk, sum(widths), T)``: the windows of every array of
    ``xs``, side by side, in one concatenation (one allocation). When a window
    spans at most its own block and one sample range of each neighbour, it is
    the block with the tail of the previous block and the head of the next (each
    a one-block roll of a sliver). Otherwise a periodic pad to
    ``(n / blk + S - 1) blk`` samples is cut into ``S = ceil(width / blk)``
    shifted block views.
    """
    xp = _ns(xs[0])
    parts = []
    for x3, width, before in zip(xs, widths, befores, strict=True):
        lead, n, T = x3.shape
        nb = n // blk
        after = width - blk - before
        if 0 <= before <= blk and 0 <= after <= blk and nb > 1:
            X4 = xp.reshape(x3, (lead, nb, blk, T))
            if before:
                tail = _take_axis(X4, 2, blk - before, None)
                prev = [_take_axis(tail, 1, nb - 1, None), _take_axis(tail, 1, 0, nb - 1)]
                parts.append(xp.concat(prev, axis=1))
            parts.append(X4)
            if after:
                head = _take_axis(X4, 2, 0, after)
                parts.append(xp.concat([_take_axis(head, 1, 1, None), _take_axis(head, 1, 0, 1)], axis=1))
            continue
        S = -(-width // blk)
        total = (nb + S - 1) * blk
        ext = _periodic_pad(x3, 1, before, max(total - n - before, 0))
        ext = xp.reshape(_take_axis(ext, 1, 0, total), (lead, nb + S - 1, blk, T))
        pieces = [_take_axis(ext, 1, s, s + nb) for s in range(S)]
        pieces[-1] = _take_axis(pieces[-1], 2, 0, width - (S - 1) * blk)
        parts += pieces
    if len(parts) == 1:
        return parts[0]
    if not array_api_compat.is_numpy_array(xs[0]):
        return xp.concat(parts, axis=2)
    # NumPy: the windows go into a per-thread buffer that is reused from call to call
    # (freeing and re-allocating it made the allocator hand its pages back to the OS
    # and fault them in again: ~40 % of a 256 x 256 transform pair on a 2-core box)
    out = _workspace((lead, nb, sum(p.shape[2] for p in parts), T), xs[0].dtype)
    k = 0
    for p in parts:
        out[:, :, k : k + p.shape[2]] = p
        k += p.shape[2]
    return out


_LOCAL = threading.local()


def _workspace(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A NumPy scratch array of ``shape`` and ``dtype``, kept per thread (the last 16 shapes)."""
    cache = getattr(_LOCAL, "buffers", None)
    if cache is None:
        cache = _LOCAL.buffers = {}
    key = (shape, np.dtype(dtype).str)
    buf = cache.get(key)
    if buf is None:
        if len(cache) >= 16:
            cache.clear()
        buf = cache[key] = np.empty(shape, dtype=dtype)
    return buf


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


def _as3(x: Array, axis: int) -> Array:
    """``x`` as ``(lead, n, T)`` around ``axis`` (a reshape)."""
    xp = _ns(x)
    shape = tuple(x.shape)
    return xp.reshape(x, (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])))


def _analysis(x: Array, axis: int, f: _Filters) -> list[Array]:
    """One periodized analysis level along ``axis``: the approximation and detail halves.

    A fused kernel on CuPy; elsewhere a dense orthogonal matrix product for short
    axes, windowed block products for long ones, strided multiply-adds when the
    length has no block size.
    """
    xp = _ns(x)
    n = x.shape[axis]
    if array_api_compat.is_cupy_array(x):
        from ._wavelet_cupy import dwt_level

        c = dwt_level(x, axis, f.lo, f.hi, inverse=False)
        return [_take_axis(c, axis, 0, n // 2), _take_axis(c, axis, n // 2, None)]
    plan = _plan(n, f)
    if plan is None:
        return list(_analysis_strided(x, axis, f))
    half = (*x.shape[:axis], n // 2, *x.shape[axis + 1 :])
    return [xp.reshape(v, half) for v in plan.analysis(_as3(x, axis))]


def _synthesis(a: Array, d: Array, axis: int, f: _Filters) -> Array:
    """Adjoint (= inverse) of :func:`_analysis` along ``axis``."""
    xp = _ns(a)
    if array_api_compat.is_cupy_array(a):
        from ._wavelet_cupy import dwt_level

        return dwt_level(xp.concat([a, d], axis=axis), axis, f.lo, f.hi, inverse=True)
    m = a.shape[axis]
    plan = _plan(2 * m, f)
    if plan is None:
        return _synthesis_strided(a, d, axis, f)
    full = (*a.shape[:axis], 2 * m, *a.shape[axis + 1 :])
    return xp.reshape(plan.synthesis(_as3(a, axis), _as3(d, axis)), full)


def _analysis_strided(x: Array, axis: int, f: _Filters) -> Array:
    """One periodized analysis step along ``axis``: returns ``(cA, cD)``.

    ``cA[k] = sum_j lo[j] x[(2k + L/2 - j) mod n]`` (pywt's periodization
    offsets), likewise ``cD`` with ``hi``. Working on ``axis`` in place (rather
    than moving it last) keeps every slice a block of contiguous rows.
    """
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
    return a, d


def _synthesis_strided(a: Array, d: Array, axis: int, f: _Filters) -> Array:
    """Adjoint (= inverse) of :func:`_analysis_strided` along ``axis``."""
    xp = _ns(a)
    m = a.shape[axis]
    half = f.length // 2
    P = half
    ae = _periodic_pad(a, axis, P, P)
    de = _periodic_pad(d, axis, P, P)
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
    return xp.reshape(x, (*a.shape[:axis], 2 * m, *a.shape[axis + 1 :]))


def _split_complex(x: Array) -> tuple[Array, Any]:
    """A complex ``x`` as real ``(..., 2)`` (real, imaginary) pairs: a view on NumPy and torch.

    The filters are real, so real products on the pairs do the work of complex
    products at half the arithmetic. CuPy's fused kernel takes complex arrays as
    they are.
    """
    xp = _ns(x)
    if array_api_compat.is_cupy_array(x) or not xp.isdtype(x.dtype, "complex floating"):
        return x, None
    return as_real_pairs(x), x.dtype


def _join_complex(r: Array, dtype: Any) -> Array:
    """Inverse of :func:`_split_complex`."""
    return r if dtype is None else from_real_pairs(r)


def _band_index(ndim: int, axes: Sequence[int], bits: Sequence[int], sizes: Sequence[int]) -> tuple:
    """Slices of the band ``bits`` (0: approximation, 1: detail per axis) of a level of ``sizes``."""
    idx = [slice(None)] * ndim
    for ax, bit, s in zip(axes, bits, sizes, strict=True):
        idx[ax] = slice(bit * s, (bit + 1) * s)
    return tuple(idx)


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

        shape = check_shape("shape", shape)
        self.filters = _Filters(wavelet)
        axes = tuple(range(len(shape))) if axes is None else check_axes("axes", axes, len(shape))
        sizes = [shape[a] for a in axes]
        if level is None:
            level = max(pywt.dwt_max_level(min(sizes), self.filters.length), 1)
            while level > 1 and any(s % 2**level for s in sizes):
                level -= 1
        # 2**level must divide every size, so it is at most the smallest one (checked before 2**level)
        level = check_int("level", level, low=1, high=max(min(sizes).bit_length(), 1))
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

    def _axes(self, x: Array, paired: bool) -> list[int]:
        # non-negative positions of the transformed axes in x (batch axes lead; real/imaginary pairs trail)
        return [a + x.ndim - paired - len(self.ishape) for a in self.axes]

    def _apply(self, x: Array) -> Array:
        # each level splits the approximation into 2**d bands, written once into the output
        xp = _ns(x)
        x, dtype = _split_complex(x)
        axes = self._axes(x, dtype is not None)
        out = xp.empty(x.shape, dtype=x.dtype, device=device(x))
        bits = list(itertools.product((0, 1), repeat=len(axes)))
        cur = x
        for _ in range(self.level):
            sizes = [cur.shape[ax] // 2 for ax in axes]
            bands = [cur]
            for ax in axes:
                bands = [v for band in bands for v in _analysis(band, ax, self.filters)]
            for b, band in zip(bits[1:], bands[1:], strict=True):
                out[_band_index(x.ndim, axes, b, sizes)] = band
            cur = bands[0]
        out[_band_index(x.ndim, axes, bits[0], [cur.shape[ax] for ax in axes])] = cur
        return _join_complex(out, dtype)

    def _adjoint(self, y: Array) -> Array:
        y, dtype = _split_complex(y)
        axes = self._axes(y, dtype is not None)
        bits = list(itertools.product((0, 1), repeat=len(axes)))
        cur = None
        for j in range(self.level, 0, -1):
            sizes = [y.shape[ax] >> j for ax in axes]
            bands = [y[_band_index(y.ndim, axes, b, sizes)] for b in bits]
            if cur is not None:
                bands[0] = cur
            for ax in reversed(axes):  # the last axis is the lowest bit: neighbours pair up
                pairs = zip(bands[0::2], bands[1::2], strict=True)
                bands = [_synthesis(a, d, ax, self.filters) for a, d in pairs]
            cur = bands[0]
        return _join_complex(cur, dtype)

    def _make_normal(self) -> LinearOperator:
        from .basic import Identity

        return Identity(self.ishape)

    @property
    def _isometry(self) -> bool:
        return True

