r"""Non-uniform FFT: Fourier samples of an image at arbitrary k-space locations.

Convention
----------
An image ``x`` of shape ``n = (n_1, ..., n_d)`` (``d`` = 1, 2 or 3) is sampled at
``M`` locations ``k_j`` given in grid units, each axis in ``[-n_a/2, n_a/2)``:

.. math:: y_j = (A x)_j = \frac{1}{\sqrt{N}} \sum_r x_r\, e^{-2\pi i \sum_a k_{ja} (r_a - c_a) / n_a},
          \qquad c_a = n_a // 2,\; N = \prod_a n_a.

Image origin and zero frequency are at index ``n // 2``: at integer coordinates the
NUFFT is exactly the centred orthonormal DFT sampled there, i.e.
``PartialFourier(shape, mask, centered=True)`` with ``mask[k + n//2] = True`` (the
convention of BART and SigPy). ``coords`` has shape ``(..., d)``; the output has shape
``(..., *coords.shape[:-1])``.

Engines (chosen per input namespace, see :mod:`csbox._nufft_backend`): finufft on
NumPy when installed, cufinufft on CuPy when installed, otherwise an array-API
Kaiser-Bessel gridding that runs on any namespace (torch, ``array_api_strict``) and is
differentiable in torch with respect to the image.

:meth:`NUFFT.normal` is the Toeplitz embedding of ``A^H W A``: the point-spread
function on the ``2n`` grid is computed once by one adjoint NUFFT, after which each
application is two FFTs of size ``2^d N`` and a product, with no gridding.

References
----------
J. A. Fessler, B. P. Sutton, IEEE TSP 51(2), 2003. P. J. Beatty, D. G. Nishimura,
J. M. Pauly, IEEE TMI 24(6), 2005. A. H. Barnett, J. Magland, L. af Klinteberg, SIAM J.
Sci. Comput. 41(5), 2019. J. A. Fessler, S. Lee, V. T. Olafsson, H. R. Shi, D. C. Noll,
"Toeplitz-based iterative image reconstruction for MRI with correction for magnetic
field inhomogeneity", IEEE TSP 53(9), 2005.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._nufft_backend import FinufftPlan, GriddingPlan, have_cufinufft, have_finufft, kb_width
from .._validation import check_choice, check_coords, check_memory, check_scalar, check_shape
from ..backend import Array, ArrayCache, array_namespace, fft_module, is_cupy, is_numpy, to_numpy
from ..linop import LinearOperator

__all__ = ["NUFFT"]

_IMPLS = ("auto", "generic", "finufft", "cufinufft")


class NUFFT(LinearOperator):
    r"""Type-2 non-uniform FFT (image -> samples); its adjoint is the type-1 NUFFT.

    .. math:: y_j = \frac{1}{\sqrt{N}} \sum_r x_r\, e^{-2\pi i\, k_j \cdot (r - n//2) / n}

    (see the module docstring). Inputs ``(..., *shape)`` map to ``(..., *coords.shape[:-1])``;
    leading axes (coils, frames) go through one batched call.

    Parameters
    ----------
    ishape : int or tuple of int
        Image shape ``n`` (1, 2 or 3 axes, any sizes, odd or even).
    coords : array, shape (..., d)
        Sample locations in grid units, axis ``a`` in ``[-n_a/2, n_a/2]`` (the transform is
        ``n``-periodic in ``k``). Any namespace; kept as float64 NumPy on the host.
    eps : float
        Requested relative accuracy against the exact non-uniform DFT (default ``1e-6``:
        measured error below ``1e-6``). Sets the Kaiser-Bessel width of the generic engine
        and finufft's tolerance. Single-precision inputs are limited to about ``1e-6``.
    oversamp : float
        Grid oversampling ``sigma`` of the generic engine (default 2).
    impl : {"auto", "generic", "finufft", "cufinufft"}
        Engine. ``"auto"``: finufft for NumPy inputs and cufinufft for CuPy inputs when
        installed, the generic gridding otherwise. A named fast engine refuses inputs of
        another namespace.

    Notes
    -----
    Plans are built once per operator: the gridding indices and weights on the host
    (moved once per namespace, device and precision), finufft plans per precision and
    batch size.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import NUFFT
    >>> k = np.random.default_rng(0).uniform(-16, 16, (500, 2))
    >>> A = NUFFT((32, 32), k)
    >>> A.apply(np.ones((32, 32))).shape
    (500,)
    """

    def __init__(
        self,
        ishape: int | Sequence[int],
        coords: Any,
        eps: float = 1e-6,
        *,
        oversamp: float = 2.0,
        impl: str = "auto",
    ):
        shape = check_shape("ishape", ishape)
        if not 1 <= len(shape) <= 3:
            raise ValueError(f"ishape must have 1, 2 or 3 axes, got {shape}")
        self.eps = check_scalar("eps", eps, low=1e-14, high=1e-1)
        self.oversamp = check_scalar("oversamp", oversamp, low=1.25, high=4.0)
        self.impl = check_choice("impl", impl, _IMPLS)
        if impl == "finufft" and not have_finufft():
            raise ValueError("impl='finufft' needs the finufft package (pip install finufft)")
        if impl == "cufinufft" and not have_cufinufft():
            raise ValueError("impl='cufinufft' needs the cufinufft package and a GPU")
        c = check_coords(coords, shape)
        super().__init__(shape, c.shape[:-1], "complex128")
        self.coords = c
        self._flat = np.ascontiguousarray(c.reshape(-1, len(shape)))
        self.width = kb_width(self.eps, self.oversamp)
        self._gridding: GriddingPlan | None = None
        self._finufft: dict[bool, FinufftPlan] = {}
        self._toeplitz: dict[Any, LinearOperator] = {}

    def __repr__(self) -> str:
        return f"<NUFFT {self.oshape} <- {self.ishape}, eps={self.eps:g}, impl={self.impl}>"

    @property
    def n_samples(self) -> int:
        """Number of sample locations ``M``."""
        return self._flat.shape[0]

    # ---------------------------------------------------------------- engines
    def gridding_plan(self) -> GriddingPlan:
        """The generic engine's plan (built on first use)."""
        if self._gridding is None:
            self._gridding = GriddingPlan(self._flat, self.ishape, self.width, self.oversamp)
        return self._gridding

    def _engine(self, x: Array) -> Any:
        xp = array_namespace(x)
        if is_numpy(xp) and self.impl in ("auto", "finufft") and have_finufft():
            return self._fast(gpu=False)
        if is_cupy(xp) and self.impl in ("auto", "cufinufft") and have_cufinufft():
            return self._fast(gpu=True)
        if self.impl in ("finufft", "cufinufft"):
            raise TypeError(
                f"NUFFT: impl={self.impl!r} runs on {'NumPy' if self.impl == 'finufft' else 'CuPy'} "
                f"arrays, got an array from {xp.__name__}"
            )
        return self.gridding_plan()

    def _fast(self, gpu: bool) -> FinufftPlan:
        if gpu not in self._finufft:
            self._finufft[gpu] = FinufftPlan(self._flat, self.ishape, self.eps, gpu=gpu)
        return self._finufft[gpu]

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        lead = tuple(x.shape[: x.ndim - len(self.ishape)])
        y = self._engine(x).forward(x)
        return xp.reshape(y, (*lead, *self.oshape))

    def _adjoint(self, y: Array) -> Array:
        y = self._as_out_dtype(y)
        xp = array_namespace(y)
        lead = tuple(y.shape[: y.ndim - len(self.oshape)])
        y = xp.reshape(y, (*lead, self.n_samples))
        return self._engine(y).adjoint(y)

    def _column_norms(self, **_: Any) -> np.ndarray:
        # each of the M samples of a unit image vector has modulus 1/sqrt(N) (exact for the NUDFT;
        # the NUFFT matches it to its accuracy eps)
        return np.full(self.ishape, math.sqrt(self.n_samples / math.prod(self.ishape)))

    def _row_norms(self, **_: Any) -> np.ndarray:
        return np.ones(self.oshape)

    # ---------------------------------------------------------------- Toeplitz normal
    def normal(self, weights: Any = None) -> LinearOperator:
        r"""``A^H W A`` as a Toeplitz embedding (``W = diag(weights)``, identity when None).

        .. math:: (A^H W A x)_r = \sum_{r'} T(r - r')\, x_{r'}, \qquad
                  T(d) = \frac{1}{N} \sum_j w_j\, e^{2\pi i\, k_j \cdot d / n},

        a linear convolution evaluated as a circular one on the ``2n`` grid:
        ``crop(IFFT(FFT(pad(x)) * K))`` with ``K`` the FFT of ``T`` computed once by one
        adjoint NUFFT of ``w`` onto the ``2n`` grid (coordinates ``2k``). ``K`` is real
        (``T(-d) = conj(T(d))`` for real ``w``).

        Parameters
        ----------
        weights : array, shape ``coords.shape[:-1]``, optional
            Real non-negative sample weights (density compensation, noise whitening).
        """
        if weights is None:
            key = None
        else:
            w = to_numpy(weights) if hasattr(weights, "shape") else np.asarray(weights)
            if w.shape != self.oshape:
                raise ValueError(f"weights has shape {w.shape}, expected {self.oshape}")
            if w.dtype.kind not in "fiu" or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("weights must be real, finite and non-negative")
            w = np.asarray(w, dtype=np.float64)
            key = w.tobytes()
        if key not in self._toeplitz:
            if len(self._toeplitz) > 4:
                self._toeplitz.clear()
            self._toeplitz[key] = _ToeplitzNormal(self, None if weights is None else w)
        return self._toeplitz[key]


class _ToeplitzNormal(LinearOperator):
    """``A^H W A`` of a :class:`NUFFT` by FFT convolution on the ``2n`` grid (self-adjoint)."""

    def __init__(self, op: NUFFT, weights: np.ndarray | None):
        super().__init__(op.ishape, op.ishape, "complex128")
        self.op = op
        shape = op.ishape
        big = tuple(2 * n for n in shape)
        check_memory("Toeplitz kernel", math.prod(big), itemsize=16)
        w = np.ones(op.oshape) if weights is None else weights
        impl = op.impl if op.impl in ("auto", "generic", "finufft") else "auto"
        A2 = NUFFT(big, 2.0 * op.coords, eps=op.eps, oversamp=op.oversamp, impl=impl)
        N = math.prod(shape)
        T = A2.adjoint(w.astype(np.complex128)) * (math.sqrt(math.prod(big)) / N)
        K = np.fft.fftn(np.fft.ifftshift(T))
        self.kernel = K.real  # imaginary part is rounding: T is Hermitian-symmetric
        self._big = big
        self._K = ArrayCache(self.kernel)

    @property
    def name(self) -> str:
        return f"{self.op.name}.normal"

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        mod, kw = fft_module(xp)
        axes = tuple(range(-len(self.ishape), 0))
        real = xp.float32 if x.dtype == xp.complex64 else xp.float64
        X = mod.fftn(x, s=self._big, axes=axes, norm="backward", **kw)
        y = mod.ifftn(X * self._K.like(x, real), axes=axes, norm="backward", **kw)
        return y[(..., *(slice(0, n) for n in self.ishape))]

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self
