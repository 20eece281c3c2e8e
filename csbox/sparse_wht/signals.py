r"""Synthetic sparse signals for examples, tests and benchmarks.

:func:`sparse_wht_signal`: a signal ``x = H X`` of length ``N = 2^n`` whose
orthonormal Walsh-Hadamard spectrum ``X`` has ``n_nonzero`` entries, exposed as
a query function (what :func:`csbox.sparse_wht` reads), so ``N`` can reach
``2^40`` and beyond without storing ``x``:

.. math:: x[m] = \frac{1}{\sqrt N} \sum_{k \in S} X_k (-1)^{\langle k, m \rangle}.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .._validation import check_int
from ..operators import parity

__all__ = ["sparse_wht_signal"]


def sparse_wht_signal(
    n: int, n_nonzero: int, seed: int = 0
) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray]:
    """Query function of ``x = H X`` (orthonormal) for a random ``n_nonzero``-sparse ``X``, values +-[1, 2].

    Parameters
    ----------
    n : int
        ``log2`` of the signal length (1 to 62).
    n_nonzero : int
        Number of non-zero spectrum entries (fewer when ``n >= 40`` and random
        indices collide).
    seed : int
        ``>= 0``; the same seed gives the same signal, bit for bit.

    Returns
    -------
    fn : callable
        ``fn(idx)`` returns ``x[idx]`` for a 1-D integer index array with entries in ``[0, 2^n)``.
    support : ndarray
        Sorted indices of the non-zeros of ``X``.
    values : ndarray
        ``X`` on ``support``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.sparse_wht import sparse_wht_signal
    >>> f, support, values = sparse_wht_signal(10, 4, seed=0)
    >>> len(support), f(np.arange(4)).shape
    (4, (4,))
    """
    n = check_int("n", n, low=1, high=62)
    n_nonzero = check_int("n_nonzero", n_nonzero, low=1, high=2**n)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    if n < 40:
        supp = np.sort(rng.choice(2**n, n_nonzero, replace=False))
    else:
        supp = np.unique(rng.integers(0, 2**n, n_nonzero))
    vals = rng.choice([-1, 1], supp.size) * (1 + rng.random(supp.size))
    scale = 1.0 / math.sqrt(2.0**n)

    def fn(idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"idx must be a 1-D array of integer indices, got {idx.dtype} {idx.shape}")
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= 2**n):
            raise ValueError(f"idx must lie in [0, 2**{n}), got [{int(idx.min())}, {int(idx.max())}]")
        idx = idx.astype(np.int64)
        out = np.zeros(idx.shape)
        for s in range(0, supp.size, 64):  # chunks keep the (queries x K) parity table small
            p = parity(np.bitwise_and(idx[:, None], supp[None, s : s + 64]))
            out += ((1 - 2 * p) * vals[s : s + 64]).sum(1)
        return out * scale

    return fn, supp, vals
