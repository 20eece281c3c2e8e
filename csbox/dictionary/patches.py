"""Image patches for dictionary learning: extraction, overlap-averaged assembly, and the DCT dictionary.

:func:`extract_patches` cuts ``size x size`` patches at a stride (rows of a
``(n_patches, size**2)`` matrix, the layout of
:class:`csbox.dictionary.OnlineOrthogonalDictionary`); :func:`assemble_patches`
puts processed patches back, averaging where they overlap;
:func:`dct_dictionary` is the orthonormal 2-D DCT-II basis, the fixed
dictionary learned ones are compared with.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int

__all__ = ["assemble_patches", "dct_dictionary", "extract_patches"]


def extract_patches(img: np.ndarray, size: int, stride: int = 1) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """All ``size x size`` patches of a 2-D image at ``stride`` (flattened rows) and their top-left corners.

    Parameters
    ----------
    img : array, shape ``(h, w)``
        A non-empty, finite numeric image (converted with ``numpy.asarray``).
    size : int
        Patch side, ``1 <= size <= min(h, w)``.
    stride : int, default 1
        Step between patch corners along both axes, ``>= 1`` (patches that would overhang
        the image are not taken).

    Returns
    -------
    P : numpy.ndarray, shape ``(n_patches, size * size)``
        Flattened (C order) patches, ``img``'s dtype.
    positions : list of (int, int)
        Top-left corner ``(row, column)`` of each patch, rows slow.
    """
    img = np.asarray(img)
    if img.ndim != 2:
        raise ValueError(f"img must be a 2-D image, got shape {img.shape}")
    if img.size == 0:
        raise ValueError(f"img is empty (shape {img.shape})")
    if img.dtype.kind not in "biufc":
        raise TypeError(f"img must be a numeric image, got dtype {img.dtype}")
    if not np.all(np.isfinite(img)):
        raise ValueError("img contains NaN or Inf")
    size = check_int("size", size, low=1, high=min(img.shape))
    stride = check_int("stride", stride, low=1)
    rows = range(0, img.shape[0] - size + 1, stride)
    cols = range(0, img.shape[1] - size + 1, stride)
    pos = [(i, j) for i in rows for j in cols]
    return np.stack([img[i : i + size, j : j + size].ravel() for i, j in pos]), pos


def assemble_patches(P: np.ndarray, positions: list[tuple[int, int]], shape: tuple[int, int],
                     size: int) -> np.ndarray:
    """Image of ``shape`` from patches ``P`` (rows) at ``positions``, averaged where they overlap, else 0.

    The inverse of :func:`extract_patches` on the pixels the patches cover (exact for
    patches of one image); when ``stride`` does not divide ``h - size`` or ``w - size``
    the uncovered last rows or columns are 0.

    Parameters
    ----------
    P : array, shape ``(n_patches, size * size)``
        Real flattened patches, one per position (at least one).
    positions : list of (int, int)
        Top-left corners ``(row, column)`` (integers), inside ``shape``.
    shape : tuple of 2 int
        Output image shape.
    size : int
        Patch side, ``>= 1``.

    Returns
    -------
    numpy.ndarray of float64, shape ``shape``
    """
    P = np.asarray(P)
    size = check_int("size", size, low=1)
    if P.dtype.kind not in "biuf":
        raise TypeError(f"P must hold real patches, got dtype {P.dtype}")
    if P.ndim != 2 or P.shape[1] != size * size or P.shape[0] != len(positions):
        raise ValueError(f"P must have shape ({len(positions)}, {size * size}), got {P.shape}")
    if P.shape[0] == 0:
        raise ValueError("P is empty: no patches to assemble")
    if not (isinstance(shape, (tuple, list)) and len(shape) == 2):
        raise ValueError(f"shape must be a pair (h, w), got {shape!r}")
    shape = (check_int("shape[0]", shape[0], low=1), check_int("shape[1]", shape[1], low=1))
    for pos in positions:
        if not (isinstance(pos, (tuple, list, np.ndarray)) and len(pos) == 2):
            raise TypeError(f"positions must hold (row, column) pairs, got {pos!r}")
        i = check_int("positions row", pos[0])
        j = check_int("positions column", pos[1])
        if not (0 <= i <= shape[0] - size and 0 <= j <= shape[1] - size):
            raise ValueError(f"the {size} x {size} patch at {(i, j)} is not inside an image of shape {shape}")
    out = np.zeros(shape)
    w = np.zeros(shape)
    for p, (i, j) in zip(P, positions, strict=True):
        i, j = int(i), int(j)
        out[i : i + size, j : j + size] += p.reshape(size, size)
        w[i : i + size, j : j + size] += 1
    return out / np.maximum(w, 1)


def dct_dictionary(n: int, ndim: int = 2) -> np.ndarray:
    """Orthonormal DCT-II dictionary (atoms in columns) for ``n``-sample signals or ``n x n`` patches.

    Parameters
    ----------
    n : int
        Signal length or patch side, ``>= 1``.
    ndim : {1, 2}, default 2
        1-D signals, or separable 2-D patches (flattened in C order).

    Returns
    -------
    numpy.ndarray of float64, shape ``(n, n)`` or ``(n^2, n^2)``
        Orthogonal: ``D^T D = I``; column ``k`` is the ``k``-th DCT-II atom.
    """
    from scipy.fft import dct

    n = check_int("n", n, low=1)
    ndim = check_int("ndim", ndim, low=1, high=2)
    C = dct(np.eye(n), norm="ortho", axis=0)
    return C.T if ndim == 1 else np.kron(C, C).T
