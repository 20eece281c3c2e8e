"""MIMO-SAR geometry: the FMCW waveform, the MIMO array, scan paths and the image grid.

All positions are in metres in a right-handed frame: the array moves in the
x-y plane (heights ``z`` may vary: irregular scans) and looks towards ``+z``.
Everything here is host-side NumPy: geometry is built once and moved to the
input's device by the operator (:class:`csbox.sar.MIMOSAR`).

References
----------
J. W. Smith, M. Torlak, "Efficient 3-D near-field MIMO-SAR imaging for
irregular scanning geometries", IEEE Access 2022 (arXiv 2305.02064).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_scalar

__all__ = ["C0", "FMCW", "ImageGrid", "MIMOArray", "linear_scan", "planar_scan"]

#: Speed of light in vacuum (m/s).
C0 = 299_792_458.0


@dataclass(frozen=True)
class FMCW:
    """FMCW waveform: start frequency ``f0`` (Hz), swept ``bandwidth`` (Hz), ``n_samples`` ADC samples.

    The sampled instantaneous frequencies are ``f0 + bandwidth * k / n_samples``,
    ``k = 0..n-1`` (a ramp of slope ``bandwidth / T`` sampled at ``fs = n / T``).

    Parameters
    ----------
    f0 : float, default 77e9
        Start frequency (Hz), ``> 0``.
    bandwidth : float, default 4e9
        Swept bandwidth ``B`` (Hz), ``> 0``; range resolution ``c / (2 B)``.
    n_samples : int, default 32
        ADC samples per chirp, ``>= 2``.
    chirp_time : float, default 40e-6
        Sampled ramp duration ``T`` (s), ``> 0``.
    """

    f0: float = 77e9
    bandwidth: float = 4e9
    n_samples: int = 32
    chirp_time: float = 40e-6

    def __post_init__(self) -> None:
        for name in ("f0", "bandwidth", "chirp_time"):
            check_scalar(name, getattr(self, name), low=0.0, low_open=True)
        check_int("n_samples", self.n_samples, low=2)

    @property
    def slope(self) -> float:
        """Chirp slope ``bandwidth / chirp_time`` (Hz/s)."""
        return self.bandwidth / self.chirp_time

    @property
    def fs(self) -> float:
        """ADC sampling rate ``n_samples / chirp_time`` (Hz)."""
        return self.n_samples / self.chirp_time

    @property
    def frequencies(self) -> np.ndarray:
        """Sampled instantaneous frequencies (Hz), ``(n_samples,)``."""
        return self.f0 + self.bandwidth * np.arange(self.n_samples) / self.n_samples

    @property
    def wavenumbers(self) -> np.ndarray:
        """``k = 2 pi f / c`` (rad/m)."""
        return 2 * math.pi * self.frequencies / C0

    @property
    def wavelength(self) -> float:
        """Wavelength at ``f0`` (m)."""
        return C0 / self.f0

    @property
    def range_resolution(self) -> float:
        """``c / (2 B)``."""
        return C0 / (2 * self.bandwidth)


def _positions(name: str, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] < 1:
        raise ValueError(f"{name} positions must have shape (n, 3), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} positions contain NaN or Inf")
    return a


@dataclass(frozen=True)
class MIMOArray:
    """Tx and Rx element positions (m, ``(n, 3)``) relative to the array's reference point.

    Parameters
    ----------
    tx : array, shape ``(n_tx, 3)``
        Transmitter positions ``(x, y, z)`` (m), finite, at least one (stored as float64).
    rx : array, shape ``(n_rx, 3)``
        Receiver positions ``(x, y, z)`` (m), finite, at least one.
    """

    tx: np.ndarray
    rx: np.ndarray

    def __post_init__(self) -> None:
        for name in ("tx", "rx"):
            object.__setattr__(self, name, _positions(name, getattr(self, name)))

    @classmethod
    def iwr1443(cls, f0: float = 77e9) -> MIMOArray:
        """TI IWR1443-style layout along y: 2 Tx at 1.5 and 3.5 wavelengths (+5 mm), 4 Rx at 0..1.5.

        The 8 virtual elements (Tx/Rx midpoints) are spaced a quarter wavelength.
        """
        lam = C0 / check_scalar("f0", f0, low=0.0, low_open=True)
        tx = np.array([[0.0, 1.5 * lam + 5e-3, 0.0], [0.0, 3.5 * lam + 5e-3, 0.0]])
        rx = np.array([[0.0, 0.5 * lam * i, 0.0] for i in range(4)])
        return cls(tx, rx)

    @property
    def virtual(self) -> np.ndarray:
        """Virtual element positions ``(n_tx * n_rx, 3)`` (midpoints), Tx-major order."""
        return ((self.tx[:, None, :] + self.rx[None, :, :]) / 2).reshape(-1, 3)

    @property
    def separation(self) -> np.ndarray:
        """Tx-Rx distances ``d`` per virtual element ``(n_tx * n_rx,)``."""
        return np.linalg.norm(self.tx[:, None, :] - self.rx[None, :, :], axis=-1).ravel()


def _smooth_field(shape: int | tuple[int, ...], rng: np.random.Generator, width: float) -> np.ndarray:
    """A smoothed random field in [0, 1] (Gaussian-filtered white noise, periodic)."""
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal(shape), width, mode="wrap")
    return (f - f.min()) / max(f.max() - f.min(), 1e-12)


def _check_irregularity(z0: float, height_dev: float, jitter: float, seed: int) -> None:
    check_scalar("z0", z0)
    check_scalar("height_dev", height_dev, low=0.0)
    check_scalar("jitter", jitter, low=0.0)
    check_int("seed", seed, low=0)


def linear_scan(n_steps: int, step: float, *, z0: float = 0.0, height_dev: float = 0.0,
                jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Array positions ``(n_steps, 3)`` along y with spacing ``step`` (m), centred on y = 0.

    ``height_dev``: heights ``z0 + height_dev (S - 0.5)`` with ``S`` a smoothed random
    field in [0, 1] (the paper: 3 cm, i.e. +-1.5 cm); ``jitter``: uniform +- jitter on
    y (freehand-like).

    Parameters
    ----------
    n_steps : int
        Number of positions, ``>= 2``.
    step : float
        Spacing along y (m), ``> 0``.
    z0 : float, default 0.0
        Nominal height (m).
    height_dev : float, default 0.0
        Peak-to-peak height deviation (m), ``>= 0`` (0: a flat path at ``z0``).
    jitter : float, default 0.0
        Half-width of the uniform y jitter (m), ``>= 0``.
    seed : int, default 0
        Seed ``>= 0`` of the heights and jitter.

    Returns
    -------
    numpy.ndarray of float64, shape ``(n_steps, 3)``
        Positions ``(0, y, z)`` (m).

    Examples
    --------
    >>> from csbox.sar import linear_scan
    >>> p = linear_scan(5, 1e-3)
    >>> p.shape
    (5, 3)
    >>> p.round(4)[:2]
    array([[ 0.   , -0.002,  0.   ],
           [ 0.   , -0.001,  0.   ]])
    """
    n_steps = check_int("n_steps", n_steps, low=2)
    step = check_scalar("step", step, low=0.0, low_open=True)
    _check_irregularity(z0, height_dev, jitter, seed)
    rng = np.random.default_rng(seed)
    y = step * np.arange(n_steps)
    y = y - y.mean()
    if jitter:
        y = y + rng.uniform(-jitter, jitter, n_steps)
    z = np.full(n_steps, float(z0))
    if height_dev:
        z = z0 + height_dev * (_smooth_field(n_steps, rng, max(n_steps / 8, 1.0)) - 0.5)
    return np.stack([np.zeros(n_steps), y, z], axis=1)


def planar_scan(nx: int, ny: int, dx: float, dy: float, *, z0: float = 0.0, height_dev: float = 0.0,
                jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Raster positions ``(nx * ny, 3)`` on an x-y grid (x slow), optional smooth heights and jitter.

    Parameters
    ----------
    nx, ny : int
        Grid points along x and y, each ``>= 1`` with ``nx * ny >= 2``.
    dx, dy : float
        Spacings (m), ``> 0``; the grid is centred on ``x = y = 0``.
    z0, height_dev, seed
        As in :func:`linear_scan` (the height field is 2-D).
    jitter : float, default 0.0
        Half-width (m) of the uniform jitter added to both x and y, ``>= 0``.

    Returns
    -------
    numpy.ndarray of float64, shape ``(nx * ny, 3)``
        Positions ``(x, y, z)`` (m), x the slow index.
    """
    nx, ny = check_int("nx", nx, low=1), check_int("ny", ny, low=1)
    if nx * ny < 2:
        raise ValueError(f"a scan needs at least 2 positions, got {nx} x {ny}")
    dx = check_scalar("dx", dx, low=0.0, low_open=True)
    dy = check_scalar("dy", dy, low=0.0, low_open=True)
    _check_irregularity(z0, height_dev, jitter, seed)
    rng = np.random.default_rng(seed)
    x = dx * (np.arange(nx) - (nx - 1) / 2)
    y = dy * (np.arange(ny) - (ny - 1) / 2)
    X, Y = np.meshgrid(x, y, indexing="ij")
    Z = np.full(X.shape, float(z0))
    if height_dev:
        Z = z0 + height_dev * (_smooth_field(X.shape, rng, max(min(nx, ny) / 8, 1.0)) - 0.5)
    if jitter:
        X = X + rng.uniform(-jitter, jitter, X.shape)
        Y = Y + rng.uniform(-jitter, jitter, Y.shape)
    return np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)


@dataclass(frozen=True)
class ImageGrid:
    """A rectilinear voxel grid: axes ``x``, ``y``, ``z`` (m); a 2-D y-z image has one x value.

    Parameters
    ----------
    x, y, z : array_like
        Finite, non-empty 1-D axes (m) (a scalar becomes one point); see also :meth:`yz`.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray

    def __post_init__(self) -> None:
        for name in ("x", "y", "z"):
            a = np.atleast_1d(np.asarray(getattr(self, name), dtype=float))
            if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)):
                raise ValueError(f"grid axis {name} must be a finite non-empty 1-D array, got {a.shape}")
            object.__setattr__(self, name, a)

    @classmethod
    def yz(cls, y: Sequence[float], z: Sequence[float], ny: int, nz: int, x: float = 0.0) -> ImageGrid:
        """A 2-D y-z grid: ``ny`` points over ``y = (start, stop)``, ``nz`` over ``z``, at one ``x``."""
        ny, nz = check_int("ny", ny, low=1), check_int("nz", nz, low=1)
        for name, v in (("y", y), ("z", z)):
            if len(v) != 2:
                raise ValueError(f"{name} must be a (start, stop) pair, got {v!r}")
            check_scalar(f"{name}[0]", v[0])
            check_scalar(f"{name}[1]", v[1])
        return cls(np.array([check_scalar("x", x)]), np.linspace(*y, ny), np.linspace(*z, nz))

    @property
    def shape(self) -> tuple[int, ...]:
        """``(ny, nz)`` for a y-z image, ``(nx, ny, nz)`` for a volume."""
        s = (self.x.size, self.y.size, self.z.size)
        return s[1:] if self.x.size == 1 else s

    @property
    def points(self) -> np.ndarray:
        """Voxel centres ``(n_voxels, 3)`` in C order of :attr:`shape`."""
        X, Y, Z = np.meshgrid(self.x, self.y, self.z, indexing="ij")
        return np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)
