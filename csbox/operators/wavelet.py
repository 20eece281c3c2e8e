"""Orthonormal periodized N-d discrete wavelet transform, written with array-API operations.

The transform is ``pywt.wavedecn(x, wavelet, mode="periodization", level=J)``
with the coefficients packed as by ``pywt.coeffs_to_array`` (approximation in
the leading corner, then the detail bands of each level): an orthonormal map of
an array onto an array of the same shape, so its adjoint is its inverse. The
filters come from PyWavelets; the arithmetic is strided slicing and
multiply-adds on the input's own namespace and device, so it runs on GPU arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import array_namespace, dwt_level
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


_DENSE_MAX = 64  # below this length one small matrix product beats ~2L strided multiply-adds


def _level_matrix(n: int, f: _Filters) -> Any:
    """The orthogonal ``n x n`` matrix of one periodized analysis level (rows: cA then cD), cached."""
    key = (n, f.name)
    M = _MATRICES.get(key)
    if M is None:
        import numpy as np

        eye = np.eye(n)
        M = np.asarray(_analysis_strided(eye, 0, f))  # columns are the transforms of unit vectors
        from ..backend import ArrayCache

        M = _MATRICES.setdefault(key, (ArrayCache(M), ArrayCache(np.ascontiguousarray(M.T))))
    return M


_MATRICES: dict = {}


def _level(x: Array, axis: int, f: _Filters, inverse: bool) -> Array:
    """One periodized level along ``axis`` (``inverse``: its adjoint = inverse).

    A fused kernel where the backend has one, one small orthogonal matrix product for
    short axes, strided multiply-adds otherwise.
    """
    fused = dwt_level(x, axis, f.lo, f.hi, inverse=inverse)
    if fused is not None:
        return fused
    n = x.shape[axis]
    if n > _DENSE_MAX:
        return _synthesis_strided(x, axis, f) if inverse else _analysis_strided(x, axis, f)
    xp = array_namespace(x)
    M, MT = _level_matrix(n, f)
    op = (MT if inverse else M).like(x, x.dtype)
    return xp.moveaxis(xp.tensordot(op, x, axes=([1], [axis])), 0, axis)


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
        axes = tuple(range(len(shape))) if axes is None else tuple(a % len(shape) for a in axes)
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
        return out

    def _adjoint(self, y: Array) -> Array:
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
        return cur

    def _make_adjoint(self) -> LinearOperator:
        return _WaveletInverse(self)

    def _make_normal(self) -> LinearOperator:
        from .basic import Identity

        return Identity(self.ishape)


class _WaveletInverse(LinearOperator):
    def __init__(self, W: Wavelet):
        super().__init__(W.ishape, W.ishape, "float64")
        self.W = W
        self._H = W

    @property
    def name(self) -> str:
        return "Wavelet.H"

    def _apply(self, x: Array) -> Array:
        return self.W._adjoint(x)

    def _adjoint(self, y: Array) -> Array:
        return self.W._apply(y)
