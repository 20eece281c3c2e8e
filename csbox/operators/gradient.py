r"""Finite differences: the discrete gradient of total variation and its adjoint (negative divergence).

``Gradient(shape, axes)`` maps an array of ``shape`` to the forward
differences along each axis in ``axes``, stacked on a new leading axis:

.. math:: (D x)_{a, i} = x_{i + e_a} - x_i ,

output shape ``(len(axes), *shape)``. At the far edge of each axis the
difference is zero ("neumann", the convention of Rudin-Osher-Fatemi, of
Chambolle's algorithm and of scikit-image) or wraps around ("periodic").
The adjoint is the negative divergence ``D^H g = -div g`` with the matching
boundary, and ``D^H D`` (the negative Laplacian) is applied without building
the stacked array. ``||D||^2 <= 4 len(axes)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_axes, check_choice, check_shape
from ..backend import Array, array_namespace
from ..linop import LinearOperator

__all__ = ["Gradient"]


def _sl(ndim: int, axis: int, start: int | None, stop: int | None) -> tuple:
    """Index taking ``start:stop`` along ``axis`` (negative, counted from the end) of an ``ndim``-d array."""
    idx = [slice(None)] * ndim
    idx[axis] = slice(start, stop)
    return tuple(idx)


def _diff(x: Array, axis: int, periodic: bool) -> Array:
    """Forward difference along ``axis`` (negative), zero (Neumann) or wrapped at the far edge."""
    xp = array_namespace(x)
    if periodic:
        return xp.roll(x, -1, axis=axis) - x
    if x.shape[axis] == 1:
        return xp.zeros_like(x)
    d = x[_sl(x.ndim, axis, 1, None)] - x[_sl(x.ndim, axis, None, -1)]
    return xp.concat([d, xp.zeros_like(x[_sl(x.ndim, axis, None, 1)])], axis=axis)


def _diff_adjoint(g: Array, axis: int, periodic: bool) -> Array:
    """Adjoint of :func:`_diff`: ``(D^T g)_j = g_{j-1} - g_j`` (Neumann: ``g_{-1} = g_{n-1} = 0``)."""
    xp = array_namespace(g)
    if periodic:
        return xp.roll(g, 1, axis=axis) - g
    if g.shape[axis] == 1:
        return xp.zeros_like(g)
    inner = g[_sl(g.ndim, axis, None, -1)]  # g_0 .. g_{n-2}; g_{n-1} is outside the range of D
    # interior j = 1..n-2: g_{j-1} - g_j (one pass); ends: -g_0 and g_{n-2}
    mid = inner[_sl(g.ndim, axis, None, -1)] - inner[_sl(g.ndim, axis, 1, None)]
    first = -inner[_sl(g.ndim, axis, None, 1)]
    last = inner[_sl(g.ndim, axis, -1, None)]
    if g.shape[axis] == 2:
        return xp.concat([first, last], axis=axis)
    return xp.concat([first, mid, last], axis=axis)


class Gradient(LinearOperator):
    """Forward-difference gradient over ``axes`` of arrays of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        Input shape.
    axes : int or tuple of int, optional
        Axes of ``shape`` to difference (default: all). Other axes are carried
        through (e.g. the frames of a dynamic image).
    boundary : {"neumann", "periodic"}
        ``"neumann"``: zero difference at the last sample of each axis (the
        total-variation convention); ``"periodic"``: wrap around (then ``D``
        commutes with the FFT and ``D^H D`` is a Fourier multiplier).

    Notes
    -----
    ``G @ x`` has shape ``(..., len(axes), *shape)``; ``G.H`` is the negative
    divergence; ``G.normal()`` is the negative Laplacian ``sum_a D_a^T D_a``
    without the stacked intermediate. ``norm_bound = 4 len(axes)`` bounds
    ``||G||^2`` (tight as the size grows).

    Examples
    --------
    >>> import numpy as np
    >>> G = Gradient((4, 5))
    >>> (G @ np.ones((4, 5))).shape, float(np.abs(G @ np.ones((4, 5))).max())
    ((2, 4, 5), 0.0)
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        axes: int | Sequence[int] | None = None,
        boundary: str = "neumann",
    ):
        shape = check_shape("shape", shape)
        axes = tuple(range(len(shape))) if axes is None else check_axes("axes", axes, len(shape))
        self.boundary = check_choice("boundary", boundary, ("neumann", "periodic"))
        super().__init__(shape, (len(axes), *shape), "float64")
        self.axes = axes
        self.norm_bound = 4.0 * len(axes)
        self._periodic = self.boundary == "periodic"
        # axes counted from the end, so leading batch axes pass through
        self._neg = tuple(a - len(shape) for a in axes)

    def __repr__(self) -> str:
        return f"<Gradient {self.oshape} <- {self.ishape}, axes={self.axes}, {self.boundary}>"

    def _apply(self, x: Array) -> Array:
        xp = array_namespace(x)
        return xp.stack([_diff(x, a, self._periodic) for a in self._neg], axis=-len(self.oshape))

    def _adjoint(self, y: Array) -> Array:
        k = len(self.oshape)
        out = None
        for i, a in enumerate(self._neg):
            g = y[(..., i, *([slice(None)] * (k - 1)))]
            d = _diff_adjoint(g, a, self._periodic)
            out = d if out is None else out + d
        return out

    def _make_normal(self) -> LinearOperator:
        return _NegativeLaplacian(self)

    def _column_norms(self, **_: Any) -> np.ndarray:
        # e_i enters the difference along axis a at i (as -1, unless i is the last sample and the
        # boundary is Neumann) and at i - e_a (as +1, unless i is the first): sum the two per axis
        sq = np.zeros(self.ishape)
        for a in self.axes:
            n = self.ishape[a]
            if n == 1:
                continue
            pos = np.arange(n)
            k = np.full(n, 2.0) if self._periodic else (pos < n - 1) + (pos > 0).astype(float)
            sq += np.reshape(k, [n if b == a else 1 for b in range(len(self.ishape))])
        return np.sqrt(sq)

    def _row_norms(self, **_: Any) -> np.ndarray:
        # row (a, i) is e_{i + e_a} - e_i: sqrt(2), or 0 on the Neumann edge and along axes of size 1
        rows = np.zeros(self.oshape)
        for j, a in enumerate(self.axes):
            n = self.ishape[a]
            if n == 1:
                continue
            k = np.full(n, math.sqrt(2.0))
            if not self._periodic:
                k[-1] = 0.0
            rows[j] = np.reshape(k, [n if b == a else 1 for b in range(len(self.ishape))])
        return rows


class _NegativeLaplacian(LinearOperator):
    """``sum_a D_a^T D_a`` for a :class:`Gradient` (Hermitian: its own adjoint)."""

    def __init__(self, G: Gradient):
        super().__init__(G.ishape, G.ishape, "float64")
        self.G = G

    def _apply(self, x: Array) -> Array:
        G = self.G
        out = None
        for a in G._neg:
            d = _diff_adjoint(_diff(x, a, G._periodic), a, G._periodic)
            out = d if out is None else out + d
        return out

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self
