r"""N-d convolution with a fixed kernel, by FFT.

``Convolve(kernel, shape, mode)`` computes ``y = k * x`` over the trailing
``kernel.ndim`` axes of arrays of ``shape``:

- ``mode="periodic"``: circular convolution with the kernel's centre (index
  ``m // 2`` per axis) at the origin, ``y_i = sum_j k_j x_{(i - j + m//2) mod n}``
  (``scipy.ndimage.convolve(x, k, mode="wrap")`` for odd kernel sizes); one
  FFT pair of size ``shape``.
- ``mode="same"``: linear convolution with zero boundary, cropped to
  ``shape`` and centred as ``scipy.signal.fftconvolve(x, k, mode="same")``;
  FFTs of size ``n + m - 1`` per axis.

The adjoint is correlation with the conjugate kernel (the same FFT with the
conjugate frequency response, pad and crop swapped); ``normal()`` multiplies
by ``|K|^2`` in the periodic case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_choice, check_shape
from ..backend import Array, ArrayCache, array_namespace, complex_dtype, device, fftn, ifftn, to_numpy
from ..linop import LinearOperator

__all__ = ["Convolve"]


class Convolve(LinearOperator):
    """Convolution with ``kernel`` over the trailing ``kernel.ndim`` axes of ``shape``, via FFT.

    Parameters
    ----------
    kernel : array
        Real or complex kernel (NumPy or any namespace; moved to each input's
        device once and cached), ``kernel.ndim <= len(shape)`` and no larger
        than ``shape`` along its axes in periodic mode.
    shape : tuple of int
        Input (= output) shape; leading axes not covered by the kernel are
        carried through (channels, frames).
    mode : {"periodic", "same"}
        Circular convolution or zero-boundary linear convolution cropped to
        ``shape`` (see the module docstring for the centring).

    References
    ----------
    The convolution theorem; ``scipy.signal.fftconvolve``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Convolve
    >>> k = np.array([1.0, 2.0, 1.0]) / 4
    >>> C = Convolve(k, 8)
    >>> x = np.zeros(8); x[3] = 1.0
    >>> C @ x
    array([0.  , 0.  , 0.25, 0.5 , 0.25, 0.  , 0.  , 0.  ])
    """

    def __init__(self, kernel: Array, shape: int | Sequence[int], mode: str = "periodic"):
        shape = check_shape("shape", shape)
        self.mode = check_choice("mode", mode, ("periodic", "same"))
        k = to_numpy(kernel) if hasattr(kernel, "shape") else np.asarray(kernel)
        if k.dtype.kind not in "fciu":
            raise TypeError(f"kernel must be numeric, got dtype {k.dtype}")
        if k.ndim == 0 or k.ndim > len(shape) or 0 in k.shape:
            raise ValueError(f"kernel must be non-empty with 1..{len(shape)} axes, got shape {k.shape}")
        if not np.all(np.isfinite(k)):
            raise ValueError("kernel contains NaN or Inf")
        nd = k.ndim
        core = shape[len(shape) - nd :]
        if self.mode == "periodic" and any(m > n for m, n in zip(k.shape, core, strict=True)):
            raise ValueError(f"kernel of shape {k.shape} is larger than the image axes {core} (periodic)")
        super().__init__(shape, shape, np.complex128 if k.dtype.kind == "c" else "float64")
        self.kernel_shape = k.shape
        self._kernel = k
        self._axes = tuple(range(-nd, 0))
        self._core = core
        if self.mode == "periodic":
            pad = np.zeros(core, dtype=np.complex128)
            pad[tuple(slice(0, m) for m in k.shape)] = k
            pad = np.roll(pad, tuple(-(m // 2) for m in k.shape), axis=tuple(range(nd)))
            self._fft_shape = core
        else:
            self._fft_shape = tuple(n + m - 1 for n, m in zip(core, k.shape, strict=True))
            pad = np.zeros(self._fft_shape, dtype=np.complex128)
            pad[tuple(slice(0, m) for m in k.shape)] = k
            self._start = tuple((m - 1) // 2 for m in k.shape)
        H = np.fft.fftn(pad)
        self._freq = ArrayCache(H)
        self._freq_conj = ArrayCache(np.conj(H))
        self._freq_sq = ArrayCache(np.abs(H) ** 2)

    def __repr__(self) -> str:
        return f"<Convolve {self.ishape}, kernel {self.kernel_shape}, {self.mode}, {self.dtype}>"

    # ------------------------------------------------------------------ helpers
    def _pad(self, x: Array) -> Array:
        """Zero-pad the trailing axes of ``x`` at their far ends to the FFT size."""
        xp = array_namespace(x)
        for a, (n, f) in zip(self._axes, zip(self._core, self._fft_shape, strict=True), strict=True):
            if f > n:
                zshape = list(x.shape)
                zshape[a] = f - n
                x = xp.concat([x, xp.zeros(tuple(zshape), dtype=x.dtype, device=device(x))], axis=a)
        return x

    def _crop(self, x: Array, starts: tuple[int, ...]) -> Array:
        idx = [slice(None)] * x.ndim
        for a, s, n in zip(self._axes, starts, self._core, strict=True):
            idx[a] = slice(s, s + n)
        return x[tuple(idx)]

    def _multiply(self, x: Array, H: ArrayCache, real: Any) -> Array:
        """``ifft(H fft(x))`` over the kernel axes; real output for a real kernel and input."""
        xp = array_namespace(x)
        cdt = complex_dtype(xp, x.dtype)
        xc = x if x.dtype == cdt else xp.astype(x, cdt)
        out = ifftn(H.like(xc, cdt) * fftn(xc, self._axes, norm="backward"), self._axes, norm="backward")
        return xp.real(out) if real else out

    def _real_out(self, x: Array) -> bool:
        xp = array_namespace(x)
        return not self.is_complex and not xp.isdtype(x.dtype, "complex floating")

    # ------------------------------------------------------------------ operator
    def _apply(self, x: Array) -> Array:
        real = self._real_out(x)
        if self.mode == "periodic":
            return self._multiply(x, self._freq, real)
        return self._crop(self._multiply(self._pad(x), self._freq, real), self._start)

    def _adjoint(self, y: Array) -> Array:
        real = self._real_out(y)
        if self.mode == "periodic":
            return self._multiply(y, self._freq_conj, real)
        # adjoint of "crop at start" is "place at start" in a zero array of the FFT size
        xp = array_namespace(y)
        for a, s, n, f in zip(self._axes, self._start, self._core, self._fft_shape, strict=True):
            parts = []
            for size in (s, f - n - s):
                if size > 0:
                    zshape = list(y.shape)
                    zshape[a] = size
                    parts.append(xp.zeros(tuple(zshape), dtype=y.dtype, device=device(y)))
                else:
                    parts.append(None)
            y = xp.concat([p for p in (parts[0], y, parts[1]) if p is not None], axis=a)
        return self._crop(self._multiply(y, self._freq_conj, real), (0,) * len(self._axes))

    def _make_normal(self) -> LinearOperator:
        if self.mode == "periodic":
            return _PeriodicNormal(self)
        return super()._make_normal()

    def _squared(self) -> Convolve:
        """The convolution with ``|k|^2``: its matrix is the entrywise ``|C_ji|^2`` of this one."""
        return Convolve(np.abs(self._kernel) ** 2, self.ishape, self.mode)

    def _column_norms(self, **_: Any) -> np.ndarray:
        # ||C e_i||^2 = sum_j |C_ji|^2 = ((|C|^2)^T 1)_i; the FFT leaves rounding below 0 near zeros
        return np.sqrt(np.maximum(self._squared().H @ np.ones(self.ishape), 0.0))

    def _row_norms(self, **_: Any) -> np.ndarray:
        return np.sqrt(np.maximum(self._squared() @ np.ones(self.ishape), 0.0))


class _PeriodicNormal(LinearOperator):
    """``C^H C`` of a periodic convolution: the Fourier multiplier ``|K|^2`` (Hermitian)."""

    def __init__(self, C: Convolve):
        super().__init__(C.ishape, C.ishape, C.dtype)
        self.C = C

    def _apply(self, x: Array) -> Array:
        return self.C._multiply(x, self.C._freq_sq, self.C._real_out(x))

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self
