"""Fourier operators: unitary N-d FFT and partial (sub-sampled) Fourier.

Convention
----------
``FFT(shape, axes, norm="ortho")`` is NumPy's ``fftn`` (zero frequency at index
0) scaled to be unitary. With ``centered=True`` it is the centred DFT
``fftshift(fftn(ifftshift(x)))``: image origin and zero frequency both at the
array centre (index ``n // 2``), the convention of BART and SigPy. A k-space
mask must be given in the same convention as the operator that uses it; the
masks of :mod:`csbox.sampling` are centred unless asked otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_axes, check_bool, check_shape
from ..backend import (
    Array,
    ArrayCache,
    array_namespace,
    fftn,
    fftshift,
    ifftn,
    ifftshift,
    is_numpy,
)
from ..linop import LinearOperator
from .basic import Restriction, _mask_to_numpy

__all__ = ["FFT", "PartialFourier"]

_ADJOINT_NORM = {"ortho": "ortho", "backward": "forward", "forward": "backward"}


def _normalize_axes(axes: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(ndim))
    return check_axes("axes", axes, ndim)


class FFT(LinearOperator):
    """N-d discrete Fourier transform over ``axes`` of arrays of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        Input (and output) shape.
    axes : int or tuple of int, optional
        Axes of ``shape`` to transform (default: all).
    norm : {"ortho", "backward", "forward"}
        NumPy's normalisation names; ``"ortho"`` (default) makes the operator unitary.
    centered : bool
        Use the centred DFT (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import FFT
    >>> F = FFT((8, 8))
    >>> x = np.random.default_rng(0).standard_normal((8, 8))
    >>> y = F @ x
    >>> y.shape, y.dtype
    ((8, 8), dtype('complex128'))
    >>> bool(np.allclose(y, np.fft.fft2(x, norm="ortho")))
    True
    >>> bool(np.allclose(F.H @ y, x))
    True
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        axes: int | Sequence[int] | None = None,
        *,
        norm: str = "ortho",
        centered: bool = False,
    ):
        shape = check_shape("shape", shape)
        if norm not in _ADJOINT_NORM:
            raise ValueError(f"norm must be one of {sorted(_ADJOINT_NORM)}, got {norm!r}")
        super().__init__(shape, shape, "complex128")
        self.axes = _normalize_axes(axes, len(shape))
        self.norm = norm
        self.centered = check_bool("centered", centered)
        self._neg_axes = tuple(a - len(shape) for a in self.axes)

    def _transform(self, x: Array, inverse: bool) -> Array:
        x = self._as_out_dtype(x)
        ax = self._neg_axes
        if self.centered:
            x = ifftshift(x, ax)
        if inverse:
            x = ifftn(x, ax, _ADJOINT_NORM[self.norm])
        else:
            x = fftn(x, ax, self.norm)
        if self.centered:
            x = fftshift(x, ax)
        return x

    def _apply(self, x: Array) -> Array:
        return self._transform(x, inverse=False)

    def _adjoint(self, y: Array) -> Array:
        return self._transform(y, inverse=True)

    def _make_normal(self) -> LinearOperator:
        if self.norm == "ortho":
            from .basic import Identity

            return Identity(self.ishape)
        return super()._make_normal()

    @property
    def _isometry(self) -> bool:
        return self.norm == "ortho"

    def _column_norms(self, **_: Any) -> np.ndarray:
        # every entry of a unit vector's spectrum has modulus 1 ("backward"), 1/sqrt(N) ("ortho")
        # or 1/N ("forward"), over the N = prod(sizes of axes) frequencies; rows alike
        n = math.prod(self.ishape[a] for a in self.axes)
        scale = {"backward": math.sqrt(n), "ortho": 1.0, "forward": 1 / math.sqrt(n)}[self.norm]
        return np.full(self.ishape, scale)

    _row_norms = _column_norms


class PartialFourier(LinearOperator):
    """Sub-sampled unitary Fourier transform ``y = M F x`` (MRI, partial-Fourier CS).

    Parameters
    ----------
    shape : tuple of int
        Image shape.
    mask : bool array
        k-space sampling mask. Its shape is ``shape`` when ``axes`` is None,
        otherwise the sizes of ``axes``, which must then be the trailing axes of
        ``shape``; the other (leading) axes are sampled fully. Given as NumPy or in
        the input's namespace; moved to each input's device once and cached.
    axes : tuple of int, optional
        Axes to transform (default: all).
    centered : bool
        The mask and the transform use the centred convention (DC at ``n // 2``).

    Notes
    -----
    The output holds the sampled coefficients in increasing flat-index order,
    shape ``(*leading, n_samples)``. ``normal()`` is ``F^H diag(mask) F``,
    applied without gathers.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import PartialFourier
    >>> from csbox.sampling import variable_density
    >>> mask = variable_density((32, 32), acceleration=4, seed=0)
    >>> A = PartialFourier((32, 32), mask, centered=True)
    >>> A.ishape, A.oshape, int(mask.sum())
    ((32, 32), (256,), 256)
    >>> x = np.random.default_rng(0).standard_normal((32, 32))
    >>> bool(np.allclose(A.H @ (A @ x), A.normal() @ x))
    True
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        mask: Array,
        axes: int | Sequence[int] | None = None,
        *,
        centered: bool = False,
    ):
        shape = check_shape("shape", shape)
        centered = check_bool("centered", centered)
        axes_t = _normalize_axes(axes, len(shape))
        k = len(axes_t)
        if axes_t != tuple(range(len(shape) - k, len(shape))):
            raise ValueError(f"axes must be the trailing axes of shape {shape}, got {axes}")
        mshape = shape[len(shape) - k :]
        host = _mask_to_numpy(mask, mshape, "mask")
        lead = shape[: len(shape) - k]
        self.fft = FFT(shape, axes_t, centered=centered)
        self.restrict = Restriction(mshape, host)
        self.mask = host
        self.centered = bool(centered)
        self.axes = axes_t
        super().__init__(shape, (*lead, int(host.sum())), "complex128")
        self._mask_cache = ArrayCache(host)
        even = not any(n % 2 for n in mshape)
        self._folded = _FoldedShifts(shape, axes_t, host) if centered and even else None

    @property
    def acceleration(self) -> float:
        """Sampling acceleration ``N / M``."""
        return self.mask.size / float(self.mask.sum())

    def _apply(self, x: Array) -> Array:
        if self._folded is not None:
            return self._folded.apply(x)
        return self.restrict._apply(self.fft._apply(x))

    def _adjoint(self, y: Array) -> Array:
        if self._folded is not None:
            return self._folded.adjoint(y)
        return self.fft._adjoint(self.restrict._adjoint(y))

    def _column_norms(self, **_: Any) -> np.ndarray:
        # sqrt(M / N) everywhere: each unit vector's orthonormal spectrum has energy 1/N per bin
        return np.full(self.ishape, math.sqrt(self.mask.sum() / self.mask.size))

    def _row_norms(self, **_: Any) -> np.ndarray:
        # each row is a row of the unitary F
        return np.ones(self.oshape)

    def _make_normal(self) -> LinearOperator:
        return _MaskedNormal(self)


class _FoldedShifts:
    """``M F_c`` and its adjoint with the centring shifts folded into the gather (even sizes).

    With ``h = n / 2`` on an axis of even size ``n``, ``(F_c x)[k] = (-1)^u (F x)[u]`` for
    ``u = (k + h) mod n``: sampling the centred spectrum at ``k`` is sampling the plain one at
    ``u`` times a sign. So ``M F_c x = s * (F x)[u]`` and ``(M F_c)^H y = F^H scatter_u(s * y)``:
    one FFT and one gather (or scatter) of the samples, no ``fftshift``/``ifftshift`` copies of
    the whole array (two of them per application otherwise).
    """

    def __init__(self, shape: tuple[int, ...], axes: tuple[int, ...], mask: np.ndarray):
        sizes = mask.shape
        k = np.nonzero(mask)  # centred positions, in increasing flat (C) order
        u = [(ki + n // 2) % n for ki, n in zip(k, sizes, strict=True)]
        self.gather = Restriction(sizes, np.ravel_multi_index(u, sizes))
        self.fft = FFT(shape, axes)
        sign = np.where(sum(u) % 2 == 0, 1.0, -1.0)
        self.sign = ArrayCache(sign)

    def apply(self, x: Array) -> Array:
        k = self.gather._apply(self.fft._apply(x))
        return k * self.sign.like(k, dtype=k.dtype)

    def adjoint(self, y: Array) -> Array:
        y = self.fft._as_out_dtype(y)
        return self.fft._adjoint(self.gather._adjoint(y * self.sign.like(y, dtype=y.dtype)))


class _MaskedNormal(LinearOperator):
    """``F^H diag(mask) F`` for a :class:`PartialFourier` (self-adjoint).

    For a centred transform with even sizes, ``F_c = S F S^{-1}`` (``S`` the
    fftshift) and ``F S^{-1} = D F`` with ``D = diag((-1)^k)``, so
    ``F_c^H M F_c = F^H (D S^{-1} M S D) F = F^H M_u F`` with ``M_u`` the
    ifftshifted mask: the normal operator needs no shifts at all.
    """

    def __init__(self, op: PartialFourier):
        super().__init__(op.ishape, op.ishape, "complex128")
        self.op = op
        sizes = [op.ishape[a] for a in op.axes]
        if op.centered and all(s % 2 == 0 for s in sizes):
            self.fft = FFT(op.ishape, op.axes, centered=False)
            self.mask = ArrayCache(np.fft.ifftshift(op.mask))
        else:
            self.fft = op.fft
            self.mask = op._mask_cache

    @property
    def name(self) -> str:
        return f"{self.op.name}.normal"

    def _apply(self, x: Array) -> Array:
        xp = array_namespace(x)
        k = self.fft._apply(x)
        if is_numpy(xp):  # k is the FFT's own output: masked in place, no zeros and no copy
            np.multiply(k, self.mask.like(k), out=k)
        else:
            k = xp.where(self.mask.like(k), k, xp.zeros_like(k))
        return self.fft._adjoint(k)

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self
