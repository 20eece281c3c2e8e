"""Fast Walsh-Hadamard transform (orthonormal, natural/Sylvester ordering)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_array, check_bool, check_int
from ..backend import Array, array_namespace
from ..linop import LinearOperator

__all__ = ["Hadamard", "fwht", "parity"]

_HAS_BITCOUNT = hasattr(np, "bitwise_count")



def fwht(x: Array, *, normalize: bool = True) -> Array:
    """Walsh-Hadamard transform along the last axis (length a power of two).

    ``X[k] = n^{-1/2} sum_m (-1)^{<k, m>} x[m]`` with ``<k, m>`` the parity of
    ``k & m``, i.e. ``scipy.linalg.hadamard(n) @ x / sqrt(n)``; ``O(n log n)``
    by radix-2 butterflies (``log2 n`` passes of additions, no multiplications).
    Set ``normalize=False`` for the unscaled transform.

    Parameters
    ----------
    x : array, shape ``(..., n)``
        Real or complex (integers cast to float64), ``n`` a power of two.
    normalize : bool, default True
        Scale by ``1 / sqrt(n)`` (orthonormal, its own inverse).

    Returns
    -------
    array, shape ``(..., n)``
        In ``x``'s namespace, device and (floating) dtype.
    """
    x = check_array("x", x, min_ndim=1, finite=False, nonempty=False)
    normalize = check_bool("normalize", normalize)
    xp = array_namespace(x)
    n = x.shape[-1]
    if n < 1 or n & (n - 1):
        raise ValueError(f"fwht: length {n} of the last axis is not a power of two")
    batch = tuple(x.shape[:-1])
    h = 1
    while h < n:
        v = xp.reshape(x, (*batch, n // (2 * h), 2, h))
        a = v[..., 0, :]
        b = v[..., 1, :]
        x = xp.reshape(xp.stack([a + b, a - b], axis=-2), (*batch, n))
        h *= 2
    if normalize:
        x = x * (1.0 / math.sqrt(n))
    return x


class Hadamard(LinearOperator):
    """Orthonormal Walsh-Hadamard transform of vectors of length ``n`` (a power of two).

    Real and symmetric, so ``H.H`` is ``H`` and ``H @ H`` is the identity.
    Matches ``scipy.linalg.hadamard(n) / sqrt(n)``.

    Parameters
    ----------
    n : int
        Length, a positive power of two (Python or NumPy int); ``ishape = oshape = (n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import Hadamard
    >>> H = Hadamard(8)
    >>> H.ishape, H.oshape
    ((8,), (8,))
    >>> x = np.random.default_rng(0).standard_normal(H.ishape)
    >>> bool(np.allclose(H.H @ (H @ x), x))
    True
    """

    def __init__(self, n: int):
        n = check_int("n", n)
        if n < 1 or n & (n - 1):
            raise ValueError(f"Hadamard: n must be a positive power of two, got {n!r}")
        super().__init__((n,), (n,), "float64")
        self.n = n

    def _apply(self, x: Array) -> Array:
        return fwht(x)

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self

    @property
    def _isometry(self) -> bool:
        return True


def parity(v: np.ndarray) -> np.ndarray:
    """Parity of the set bits of each non-negative integer: ``<k, m> mod 2`` for ``v = k & m``.

    The sign of the Walsh-Hadamard kernel, ``(-1)^{<k, m>} = 1 - 2 parity(k & m)``, shared by
    SPRIGHT and the test signals (host-side index arithmetic on NumPy int64).

    Parameters
    ----------
    v : array_like of int
        Non-negative integers (any shape; a NumPy integer or a list is fine). Floats, booleans
        and negative values raise (a negative int64 has 64-bit two's-complement bits).

    Returns
    -------
    numpy.ndarray of int64
        0 or 1, shaped like ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> parity(np.array([0, 1, 3, 7])).tolist()
    [0, 1, 0, 1]
    """
    v = np.asarray(v)
    if v.dtype.kind not in "iu":
        raise TypeError(f"parity: v must be an integer array, got dtype {v.dtype}")
    if v.dtype.kind == "i" and v.size and int(v.min()) < 0:
        raise ValueError(f"parity: v must be non-negative, got a minimum of {int(v.min())}")
    if _HAS_BITCOUNT:
        return (np.bitwise_count(np.asarray(v, dtype=np.int64)) & 1).astype(np.int64)
    v = np.asarray(v, dtype=np.uint64).copy()
    for s in (32, 16, 8, 4, 2, 1):
        v ^= v >> np.uint64(s)
    return (v & np.uint64(1)).astype(np.int64)
