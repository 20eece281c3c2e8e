r"""Low-rank penalties: the nuclear norm and its locally-low-rank (block) version.

- :class:`NuclearNorm`: ``lam sum_j sigma_j(X)`` of matrices ``X`` in the two
  trailing axes (batched); prox: singular-value soft thresholding
  ``U max(Sigma - s lam, 0) V^H`` (Cai-Candès-Shen).
- :class:`LocallyLowRank`: ``lam sum_b ||B_b x||_*`` where ``B_b`` extracts
  block ``b`` of a tiling of the spatial axes as a matrix (pixels of the block
  x frames), BART's ``pics -R L``. The blocks do not overlap, so the prox is
  the blockwise SVT, exact; with ``random_shift=True`` the tiling is shifted
  by a random offset at each call (Trzasko-Manduca's random-shift LLR, which
  removes the blocking artefacts of a fixed grid). Sizes that are not a
  multiple of the block are zero-padded: the SVT of ``[B; 0]`` is ``[SVT(B); 0]``,
  so the partial edge blocks keep an exact prox.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._validation import check_int, check_shape
from ..backend import Array, array_namespace, device
from .base import Penalty

__all__ = ["LocallyLowRank", "NuclearNorm"]


def _svt(X: Array, t: float) -> Array:
    """Singular-value soft thresholding of the matrices in the two trailing axes of ``X``."""
    xp = array_namespace(X)
    U, s, Vh = xp.linalg.svd(X, full_matrices=False)
    s = xp.maximum(s - t, xp.zeros_like(s))
    s = xp.astype(s, X.dtype) if s.dtype != X.dtype else s
    return xp.matmul(U * s[..., None, :], Vh)


class NuclearNorm(Penalty):
    """``lam ||X||_*`` (sum of singular values) of the matrices in the two trailing axes, batched.

    The prox is singular value thresholding at ``step * lam``; ``prox`` and ``value``
    raise ``ValueError`` for an input with fewer than 2 axes.

    Parameters
    ----------
    lam : float, default 1.0
        Weight ``lam``, finite and ``>= 0`` (``TypeError`` for a non-number, ``ValueError``
        otherwise); :func:`~csbox.solvers.fista` given ``lam=`` or ``lam_rel=`` replaces it.

    References
    ----------
    J.-F. Cai, E. J. Candès, Z. Shen, "A singular value thresholding algorithm
    for matrix completion", SIAM J. Optim. 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import NuclearNorm
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
    >>> M = M + 0.01 * rng.standard_normal((6, 5))
    >>> X = NuclearNorm(0.1).prox(M)
    >>> int(np.linalg.matrix_rank(M)), int(np.linalg.matrix_rank(X, tol=1e-8))
    (5, 2)
    """

    separable = False

    def _prox(self, v: Array, t: float) -> Array:
        if v.ndim < 2:
            raise ValueError(f"NuclearNorm needs matrices (at least 2 axes), got shape {tuple(v.shape)}")
        return v if t == 0 else _svt(v, t)

    def _value(self, x: Array) -> Array:
        if x.ndim < 2:
            raise ValueError(f"NuclearNorm needs matrices (at least 2 axes), got shape {tuple(x.shape)}")
        xp = array_namespace(x)
        return xp.sum(xp.linalg.svdvals(x))


class LocallyLowRank(Penalty):
    """``lam sum_blocks ||block matrix||_*`` on arrays shaped ``(..., frames, *spatial)``.

    Parameters
    ----------
    block : int or tuple of int
        Block size per spatial axis; its length is the number of spatial
        (trailing) axes (an int: 2-D square blocks). The axis before them holds
        the frames (time points, contrasts, echoes): each block is a
        ``prod(block) x frames`` matrix.
    lam : float
        Weight ``>= 0``. (BART scales ``-R L`` by the block size; here ``lam`` is
        used as given.)
    random_shift : bool
        Shift the tiling by a random offset in ``[0, block)`` per axis at each
        :meth:`~csbox.penalties.Penalty.prox` call (circularly).
        :meth:`~csbox.penalties.Penalty.value` uses the unshifted tiling.
    seed : int
        Seed of the shifts.

    References
    ----------
    J. Trzasko, A. Manduca, "Local versus global low-rank promotion in dynamic
    MRI series reconstruction", ISMRM 2011. T. Zhang, J. Pauly, I. Levesque,
    "Accelerating parameter mapping with a locally low rank constraint", MRM 2015.
    """

    separable = False

    def __init__(self, block: int | Sequence[int] = 8, lam: float = 1.0, *, random_shift: bool = True,
                 seed: int = 0):
        super().__init__(lam)
        if isinstance(block, int) and not isinstance(block, bool):
            block = (block, block)
        self.block = check_shape("block", block)
        if not isinstance(random_shift, bool):
            raise TypeError(f"random_shift must be a bool, got {type(random_shift).__name__}")
        self.random_shift = random_shift
        self.seed = check_int("seed", seed, low=0)
        self._rng = np.random.default_rng(seed)

    # ---------------------------------------------------------------- block matrices
    def _check(self, x: Array) -> None:
        nd = len(self.block)
        if x.ndim < nd + 1:
            raise ValueError(
                f"LocallyLowRank with {nd}-D blocks needs arrays shaped (..., frames, *spatial), "
                f"at least {nd + 1} axes; got shape {tuple(x.shape)}"
            )

    def _to_blocks(self, x: Array) -> tuple[Array, tuple]:
        """``(..., nb_1, .., nb_d, prod(block), frames)`` block matrices of zero-padded ``x``."""
        xp = array_namespace(x)
        nd = len(self.block)
        spatial = tuple(x.shape[x.ndim - nd :])
        nb = tuple(-(-n // b) for n, b in zip(spatial, self.block, strict=True))
        for i, (n, b, k) in enumerate(zip(spatial, self.block, nb, strict=True)):
            if k * b > n:
                a = x.ndim - nd + i
                zshape = list(x.shape)
                zshape[a] = k * b - n
                x = xp.concat([x, xp.zeros(tuple(zshape), dtype=x.dtype, device=device(x))], axis=a)
        lead = x.ndim - nd - 1
        split = (*tuple(x.shape[: lead + 1]), *[v for pair in zip(nb, self.block, strict=True) for v in pair])
        x = xp.reshape(x, split)
        f = lead  # frames axis
        nb_axes = [lead + 1 + 2 * i for i in range(nd)]
        b_axes = [lead + 2 + 2 * i for i in range(nd)]
        x = xp.permute_dims(x, (*range(lead), *nb_axes, *b_axes, f))
        shape_p = tuple(x.shape)
        x = xp.reshape(x, (*shape_p[: lead + nd], math.prod(self.block), shape_p[-1]))
        return x, (shape_p, lead, nb, spatial)

    def _from_blocks(self, m: Array, meta: tuple) -> Array:
        xp = array_namespace(m)
        shape_p, lead, nb, spatial = meta
        nd = len(self.block)
        x = xp.reshape(m, shape_p)
        # inverse of the permutation (lead, nb_axes, b_axes, f)
        perm = [*range(lead), *[lead + 1 + 2 * i for i in range(nd)],
                *[lead + 2 + 2 * i for i in range(nd)], lead]
        inv = [0] * len(perm)
        for i, p in enumerate(perm):
            inv[p] = i
        x = xp.permute_dims(x, tuple(inv))
        padded = [k * b for k, b in zip(nb, self.block, strict=True)]
        x = xp.reshape(x, (*tuple(x.shape[: lead + 1]), *padded))
        idx = (..., *[slice(0, n) for n in spatial])
        return x[idx]

    def _prox(self, v: Array, t: float) -> Array:
        self._check(v)
        if t == 0:
            return v
        xp = array_namespace(v)
        nd = len(self.block)
        axes = tuple(range(-nd, 0))
        shift = tuple(int(self._rng.integers(0, b)) for b in self.block) if self.random_shift else (0,) * nd
        if any(shift):
            v = xp.roll(v, shift, axis=axes)
        m, meta = self._to_blocks(v)
        out = self._from_blocks(_svt(m, t), meta)
        if any(shift):
            out = xp.roll(out, tuple(-s for s in shift), axis=axes)
        return out

    def _value(self, x: Array) -> Array:
        self._check(x)
        xp = array_namespace(x)
        m, _ = self._to_blocks(x)
        return xp.sum(xp.linalg.svdvals(m))

    def with_lam(self, lam: float) -> LocallyLowRank:
        """A copy with weight ``lam`` (same block size, shifts and seed).

        Parameters
        ----------
        lam : float
            New weight ``>= 0``.

        Returns
        -------
        LocallyLowRank
        """
        return LocallyLowRank(self.block, lam, random_shift=self.random_shift, seed=self.seed)

    def _params(self) -> str:
        return f"block={self.block}, random_shift={self.random_shift}"
