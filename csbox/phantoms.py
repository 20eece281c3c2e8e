"""Test images made on the fly: modified Shepp-Logan, lines and circles, and shipped photographs."""

from __future__ import annotations

import numpy as np

from ._validation import check_int, check_memory

__all__ = ["camera", "lines_and_circles", "shepp_logan"]

#: Toft's modified Shepp-Logan ellipses: intensity, semi-axes (a, b), centre (x0, y0), angle (deg).
#: Public (not in ``__all__``) so that :mod:`csbox.mri` builds its analytic k-space from the same table.
MODIFIED_SHEPP_LOGAN = (
    (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
)


def shepp_logan(n: int = 256) -> np.ndarray:
    """The modified Shepp-Logan phantom (Toft 1996) on an ``n x n`` grid, values in [0, 1].

    Rows run from top (y = +1) to bottom (y = -1), as MATLAB's ``phantom``.

    Parameters
    ----------
    n : int, default 256
        Grid size, an int ``>= 8`` (Python or NumPy); a size whose few ``n x n`` work arrays
        cannot fit in memory is refused before anything is allocated.

    Returns
    -------
    numpy.ndarray of float64, shape ``(n, n)``

    Examples
    --------
    >>> from csbox.phantoms import shepp_logan
    >>> x = shepp_logan(64)
    >>> x.shape, float(x.max()), float(x.min())
    ((64, 64), 1.0, 0.0)
    """
    n = check_int("n", n, low=8)
    check_memory("shepp_logan image", 6.0 * n * n, itemsize=8)  # grids, rotated grids, image
    c = (np.arange(n) - (n - 1) / 2) / ((n - 1) / 2)
    x, y = np.meshgrid(c, -c)
    img = np.zeros((n, n))
    for amp, a, b, x0, y0, phi in MODIFIED_SHEPP_LOGAN:
        t = np.deg2rad(phi)
        xr = (x - x0) * np.cos(t) + (y - y0) * np.sin(t)
        yr = -(x - x0) * np.sin(t) + (y - y0) * np.cos(t)
        img[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0] += amp
    return np.clip(img, 0.0, 1.0)


def camera(n: int | None = None) -> np.ndarray:
    """The 512x512 'cameraman' photograph shipped with PyWavelets, scaled to [0, 1].

    With ``n``, the central ``n x n`` crop.

    Parameters
    ----------
    n : int, optional
        Crop size, ``8 <= n <= 512``; default the whole 512 x 512 image.

    Returns
    -------
    numpy.ndarray of float64, shape ``(n, n)``
    """
    import pywt.data

    img = pywt.data.camera().astype(np.float64) / 255.0
    if n is not None:
        n = check_int("n", n, low=8, high=512)
        o = (512 - n) // 2
        img = img[o : o + n, o : o + n]
    return img


def lines_and_circles(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``n`` images ``(n, size, size)`` of 1-3 line segments and 1-3 rings, intensities in [0.5, 1].

    Anti-aliased strokes (width ~2 pixels), values in [0, 1]: the in-silico data of
    the DPS paper (Huijben et al., ICLR 2020).

    Parameters
    ----------
    n : int
        Number of images, ``>= 1``.
    size : int, default 32
        Image side (pixels), ``>= 16``.
    seed : int, default 0
        Seed ``>= 0`` of ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray of float64, shape ``(n, size, size)``
    """
    n = check_int("n", n, low=1)
    size = check_int("size", size, low=16)
    check_memory("lines_and_circles images", float(n + 8) * size * size, itemsize=8)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    out = np.zeros((n, size, size))
    for i in range(n):
        img = np.zeros((size, size))
        for _ in range(int(rng.integers(1, 4))):
            p, q = rng.uniform(2, size - 2, 2), rng.uniform(2, size - 2, 2)
            d = q - p
            t = np.clip(((xx - p[0]) * d[0] + (yy - p[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
            dist = np.hypot(xx - p[0] - t * d[0], yy - p[1] - t * d[1])
            img = np.maximum(img, rng.uniform(0.5, 1) * np.clip(1.2 - dist, 0, 1))
        for _ in range(int(rng.integers(1, 4))):
            c = rng.uniform(6, size - 6, 2)
            r = rng.uniform(2.5, 8)
            dist = np.abs(np.hypot(xx - c[0], yy - c[1]) - r)
            img = np.maximum(img, rng.uniform(0.5, 1) * np.clip(1.2 - dist, 0, 1))
        out[i] = img
    return out
