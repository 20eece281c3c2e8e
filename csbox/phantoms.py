"""Test images made on the fly: the modified Shepp-Logan phantom, and a loader for shipped photographs."""

from __future__ import annotations

import numpy as np

__all__ = ["camera", "shepp_logan"]

# Toft's modified Shepp-Logan ellipses: intensity, semi-axes (a, b), centre (x0, y0), angle (deg)
_MODIFIED_SHEPP_LOGAN = (
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
    """
    if not isinstance(n, int) or n < 8:
        raise ValueError(f"n must be an int >= 8, got {n!r}")
    c = (np.arange(n) - (n - 1) / 2) / ((n - 1) / 2)
    x, y = np.meshgrid(c, -c)
    img = np.zeros((n, n))
    for amp, a, b, x0, y0, phi in _MODIFIED_SHEPP_LOGAN:
        t = np.deg2rad(phi)
        xr = (x - x0) * np.cos(t) + (y - y0) * np.sin(t)
        yr = -(x - x0) * np.sin(t) + (y - y0) * np.cos(t)
        img[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0] += amp
    return np.clip(img, 0.0, 1.0)


def camera(n: int | None = None) -> np.ndarray:
    """The 512x512 'cameraman' photograph shipped with PyWavelets, scaled to [0, 1].

    With ``n``, the central ``n x n`` crop.
    """
    import pywt.data

    img = pywt.data.camera().astype(np.float64) / 255.0
    if n is not None:
        if not 8 <= n <= 512:
            raise ValueError(f"n must be in [8, 512], got {n}")
        o = (512 - n) // 2
        img = img[o : o + n, o : o + n]
    return img
