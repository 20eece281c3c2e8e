r"""Near-field MIMO-SAR imaging for irregular scanning geometries (Smith and Torlak, IEEE Access 2022).

A MIMO FMCW radar (Tx and Rx elements) moves along an arbitrary scan path;
at each array position ``l`` and for each Tx/Rx pair and wavenumber ``k``, the
de-chirped beat signal of a reflectivity ``rho`` on voxels ``v`` is

.. math:: s(l, t, r, k) = \sum_v \rho_v\, e^{-j k (R_{t,l}(v) + R_{r,l}(v))},

(:class:`MIMOSAR`, exact, chunked; its adjoint is back-projection, BPA).

EMPM (:func:`empm`), the paper's fast method for irregular scans, maps every
Tx/Rx pair to its virtual (monostatic) element at the midpoint and every array
height ``z_l`` to the reference plane ``z0`` with one phase factor, then runs
the monostatic range-migration algorithm (RMA). With this module's convention
``s ∝ exp(-j k (R_t + R_r))`` and ``R_t + R_r ≈ 2 R_v + d^2 / (4 R)`` (``d`` the
Tx-Rx separation, ``R_v`` the range of the virtual element):

.. math:: s'(l, t, r, k) = s\, e^{+j k \varphi_l},
          \qquad \varphi_l = 2 (z_0 - z_l) + \frac{d^2}{4 Z_{ref}}

(``z_l`` the height of the virtual element: an element above the reference
plane sees the target ``z_l - z0`` closer, so its phase is delayed by ``2 k (z_l -
z0)`` to bring it down to the plane; the paper writes the same ``phi`` with
``exp(-j k phi)`` for the opposite sign convention of the signal model). RMA: spatial FFT (zero-padded),
``exp(+j k_z z0)`` with ``k_z = sqrt(4 k^2 - k_x^2 - k_y^2)`` (evanescent waves
zeroed), Stolt interpolation onto a uniform ``k_z`` grid, window, inverse FFT and
interpolation onto the image grid. ``empm(..., correct=False)`` is plain RMA on
the virtual elements without the corrections, to show the artefacts they remove.

References
----------
J. W. Smith, M. Torlak, "Efficient 3-D near-field MIMO-SAR imaging for
irregular scanning geometries", IEEE Access 2022 (arXiv 2305.02064). J. M.
Lopez-Sanchez, J. Fortuny-Guasch, "3-D radar imaging using range migration
techniques", IEEE TAP 2000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import ArrayCache, array_namespace, device, fftn, ifftn
from ..linop import LinearOperator

__all__ = [
    "FMCW",
    "MIMOSAR",
    "ImageGrid",
    "MIMOArray",
    "empm",
    "linear_scan",
    "planar_scan",
    "psf_widths",
]

C0 = 299_792_458.0
Array = Any


@dataclass(frozen=True)
class FMCW:
    """FMCW waveform: start frequency ``f0`` (Hz), swept ``bandwidth`` (Hz), ``n_samples`` ADC samples.

    The sampled instantaneous frequencies are ``f0 + bandwidth * k / n_samples``,
    ``k = 0..n-1`` (a ramp of slope ``bandwidth / T`` sampled at ``fs = n / T``).
    """

    f0: float = 77e9
    bandwidth: float = 4e9
    n_samples: int = 32
    chirp_time: float = 40e-6

    def __post_init__(self) -> None:
        if not (self.f0 > 0 and self.bandwidth > 0 and self.chirp_time > 0):
            raise ValueError(f"f0, bandwidth and chirp_time must be > 0, got {self}")
        if not isinstance(self.n_samples, int) or self.n_samples < 2:
            raise ValueError(f"n_samples must be an int >= 2, got {self.n_samples!r}")

    @property
    def slope(self) -> float:
        return self.bandwidth / self.chirp_time

    @property
    def fs(self) -> float:
        return self.n_samples / self.chirp_time

    @property
    def frequencies(self) -> np.ndarray:
        return self.f0 + self.bandwidth * np.arange(self.n_samples) / self.n_samples

    @property
    def wavenumbers(self) -> np.ndarray:
        """``k = 2 pi f / c`` (rad/m)."""
        return 2 * math.pi * self.frequencies / C0

    @property
    def wavelength(self) -> float:
        return C0 / self.f0

    @property
    def range_resolution(self) -> float:
        """``c / (2 B)``."""
        return C0 / (2 * self.bandwidth)


@dataclass(frozen=True)
class MIMOArray:
    """Tx and Rx element positions (m, ``(n, 3)``) relative to the array's reference point."""

    tx: np.ndarray
    rx: np.ndarray

    def __post_init__(self) -> None:
        for name in ("tx", "rx"):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] < 1:
                raise ValueError(f"{name} positions must have shape (n, 3), got {a.shape}")
            object.__setattr__(self, name, a)

    @classmethod
    def iwr1443(cls, f0: float = 77e9) -> MIMOArray:
        """TI IWR1443-style layout along y: 2 Tx at 1.5 and 3.5 wavelengths (+5 mm), 4 Rx at 0..1.5.

        The 8 virtual elements (Tx/Rx midpoints) are spaced a quarter wavelength.
        """
        lam = C0 / f0
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


def linear_scan(n_steps: int, step: float, *, z0: float = 0.0, height_dev: float = 0.0,
                jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Array positions ``(n_steps, 3)`` along y with spacing ``step`` (m).

    ``height_dev``: heights ``z0 + height_dev (S - 0.5)`` with ``S`` a smoothed random
    field in [0, 1] (the paper: 3 cm, i.e. +-1.5 cm); ``jitter``: uniform +- jitter on
    y (freehand-like).
    """
    if not isinstance(n_steps, int) or n_steps < 2:
        raise ValueError(f"a scan needs at least 2 positions, got n_steps={n_steps!r}")
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step}")
    rng = np.random.default_rng(seed)
    y = step * np.arange(n_steps)
    y = y - y.mean()
    if jitter:
        y = y + rng.uniform(-jitter, jitter, n_steps)
    z = np.full(n_steps, z0)
    if height_dev:
        z = z0 + height_dev * (_smooth_field(n_steps, rng, max(n_steps / 8, 1.0)) - 0.5)
    return np.stack([np.zeros(n_steps), y, z], axis=1)


def planar_scan(nx: int, ny: int, dx: float, dy: float, *, z0: float = 0.0, height_dev: float = 0.0,
                jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Raster positions ``(nx * ny, 3)`` on an x-y grid (x slow), optional smooth heights and jitter."""
    if nx * ny < 2:
        raise ValueError(f"a scan needs at least 2 positions, got {nx} x {ny}")
    rng = np.random.default_rng(seed)
    x = dx * (np.arange(nx) - (nx - 1) / 2)
    y = dy * (np.arange(ny) - (ny - 1) / 2)
    X, Y = np.meshgrid(x, y, indexing="ij")
    Z = np.full(X.shape, z0)
    if height_dev:
        Z = z0 + height_dev * (_smooth_field(X.shape, rng, max(min(nx, ny) / 8, 1.0)) - 0.5)
    if jitter:
        X = X + rng.uniform(-jitter, jitter, X.shape)
        Y = Y + rng.uniform(-jitter, jitter, Y.shape)
    return np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)


@dataclass(frozen=True)
class ImageGrid:
    """A rectilinear voxel grid: axes ``x``, ``y``, ``z`` (m); a 2-D y-z image has one x value."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray

    def __post_init__(self) -> None:
        for name in ("x", "y", "z"):
            a = np.atleast_1d(np.asarray(getattr(self, name), dtype=float))
            if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)):
                raise ValueError(f"grid axis {name} must be a finite 1-D array")
            object.__setattr__(self, name, a)

    @classmethod
    def yz(cls, y: Sequence[float], z: Sequence[float], ny: int, nz: int, x: float = 0.0) -> ImageGrid:
        return cls(np.array([x]), np.linspace(*y, ny), np.linspace(*z, nz))

    @property
    def shape(self) -> tuple[int, ...]:
        s = (self.x.size, self.y.size, self.z.size)
        return s[1:] if self.x.size == 1 else s

    @property
    def points(self) -> np.ndarray:
        X, Y, Z = np.meshgrid(self.x, self.y, self.z, indexing="ij")
        return np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)


class MIMOSAR(LinearOperator):
    """Exact near-field multistatic MIMO-SAR forward model, reflectivity grid -> beat samples.

    ``ishape = grid.shape`` (``(ny, nz)`` or ``(nx, ny, nz)``), ``oshape = (L, n_tx,
    n_rx, K)``. The exponentials over wavenumbers are generated by a recurrence
    (``e^{-j k_n R} = e^{-j k_0 R} (e^{-j dk R})^n``) and voxels are processed in
    chunks of ``chunk`` (memory ``O(L n_tx n_rx chunk)``), on the input's namespace and device.

    Raises
    ------
    ValueError
        Positions of the wrong shape, fewer than 2 scan positions, or voxels
        not in front of the array (``z <= max`` array height + a wavelength).
    """

    def __init__(self, array: MIMOArray, waveform: FMCW, positions: np.ndarray, grid: ImageGrid,
                 *, chunk: int = 4096):
        pos = np.asarray(positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValueError(f"positions must have shape (L, 3), got {pos.shape}")
        if pos.shape[0] < 2:
            raise ValueError(f"a scan needs at least 2 positions, got {pos.shape[0]}")
        pts = grid.points
        zmax = float(np.max(pos[:, 2] + np.concatenate([array.tx[:, 2], array.rx[:, 2]]).max()))
        if np.min(pts[:, 2]) <= zmax + waveform.wavelength:
            raise ValueError(
                f"image grid reaches z = {np.min(pts[:, 2]):.3f} m, behind or at the array "
                f"(max height {zmax:.3f} m): the grid must lie in front (z > array)"
            )
        if not isinstance(chunk, int) or chunk < 1:
            raise ValueError(f"chunk must be a positive int, got {chunk!r}")
        self.array, self.waveform, self.positions, self.grid, self.chunk = array, waveform, pos, grid, chunk
        L, T, R = pos.shape[0], array.tx.shape[0], array.rx.shape[0]
        super().__init__(grid.shape, (L, T, R, waveform.n_samples), "complex128")
        self._tx = ArrayCache((pos[:, None, :] + array.tx[None]).reshape(-1, 3))  # (L*T, 3)
        self._rx = ArrayCache((pos[:, None, :] + array.rx[None]).reshape(-1, 3))  # (L*R, 3)
        self._pts = ArrayCache(pts)
        k = waveform.wavenumbers
        self.k0, self.dk = float(k[0]), float(k[1] - k[0])

    def _distances(self, x: Array, start: int, stop: int) -> tuple[Array, Array]:
        xp = array_namespace(x)
        rdt = xp.float32 if x.dtype == xp.complex64 else xp.float64
        P = self._pts.like(x, rdt)[start:stop, :]
        tx, rx = self._tx.like(x, rdt), self._rx.like(x, rdt)
        L, T, R = self.oshape[:3]
        dT = xp.linalg.vector_norm(tx[:, None, :] - P[None, :, :], axis=-1)  # (L*T, v)
        dR = xp.linalg.vector_norm(rx[:, None, :] - P[None, :, :], axis=-1)  # (L*R, v)
        dT = xp.reshape(dT, (L, T, 1, -1))
        dR = xp.reshape(dR, (L, 1, R, -1))
        return dT + dR, rdt  # (L, T, R, v) total path

    def _phasors(self, xp: Any, D: Array, cdt: Any) -> tuple[Array, Array]:
        """``exp(-j k_0 D)`` and the per-step factor ``exp(-j dk D)`` (cos/sin: real -> complex safely)."""
        ang0 = -self.k0 * D
        angd = -self.dk * D
        e0 = xp.astype(xp.cos(ang0), cdt) + 1j * xp.astype(xp.sin(ang0), cdt)
        w = xp.astype(xp.cos(angd), cdt) + 1j * xp.astype(xp.sin(angd), cdt)
        return e0, w

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        batch = tuple(x.shape[: x.ndim - len(self.ishape)])
        flat = xp.reshape(x, (*batch, -1))
        K = self.oshape[3]
        out = xp.zeros((*batch, *self.oshape), dtype=x.dtype, device=device(x))
        nv = flat.shape[-1]
        for s in range(0, nv, self.chunk):
            e = min(s + self.chunk, nv)
            D, _ = self._distances(x, s, e)
            e0, w = self._phasors(xp, D, x.dtype)
            P = e0 * flat[..., None, None, None, s:e]  # (*batch, L, T, R, v)
            cols = []
            for _ in range(K):
                cols.append(xp.sum(P, axis=-1))
                P = P * w
            out = out + xp.stack(cols, axis=-1)
        return out

    def _adjoint(self, y: Array) -> Array:
        y = self._as_out_dtype(y)
        xp = array_namespace(y)
        batch = tuple(y.shape[: y.ndim - 4])
        K = self.oshape[3]
        nv = int(np.prod(self.ishape))
        parts = []
        for s in range(0, nv, self.chunk):
            e = min(s + self.chunk, nv)
            D, _ = self._distances(y, s, e)
            e0, w = self._phasors(xp, D, y.dtype)
            # Horner over wavenumbers: sum_n y_n conj(e0 w^n) = conj(e0) ((y_{K-1} cw + y_{K-2}) cw + ...)
            cw = xp.conj(w)
            acc = y[..., K - 1][..., None]
            for kk in range(K - 2, -1, -1):
                acc = acc * cw + y[..., kk][..., None]
            acc = acc * xp.conj(e0)
            parts.append(xp.sum(acc, axis=(-4, -3, -2)))  # over L, T, R -> (*batch, v)
        flat = xp.concat(parts, axis=-1)
        return xp.reshape(flat, (*batch, *self.ishape))


# ----------------------------------------------------------------------------- EMPM / RMA
def _interp_uniform(xp: Any, values: Array, x0: float, dx: float, xq: Array, axis: int) -> Array:
    """Linear interpolation of ``values`` sampled at ``x0 + i dx`` along ``axis`` at query points ``xq``.

    ``xq`` broadcasts against ``values`` with the sampled axis replaced; outside the
    samples the result is 0.
    """
    n = values.shape[axis]
    t = (xq - x0) / dx
    inside = (t >= 0) & (t <= n - 1)
    i0 = xp.clip(xp.astype(xp.floor(t), xp.int64), min=0, max=n - 2)
    frac = xp.astype(t - xp.astype(i0, t.dtype), values.dtype)
    v = xp.moveaxis(values, axis, -1)
    shp = v.shape[:-1]
    idx0 = xp.moveaxis(i0, axis, -1) if i0.ndim == values.ndim else i0
    fr = xp.moveaxis(frac, axis, -1) if frac.ndim == values.ndim else frac
    ins = xp.moveaxis(inside, axis, -1) if inside.ndim == values.ndim else inside
    flatv = xp.reshape(v, (-1, n))
    m = idx0.shape[-1]
    idx0b = xp.reshape(xp.broadcast_to(idx0, (*shp, m)), (-1, m))
    frb = xp.reshape(xp.broadcast_to(fr, (*shp, m)), (-1, m))
    insb = xp.reshape(xp.broadcast_to(ins, (*shp, m)), (-1, m))
    rows = xp.reshape(xp.arange(flatv.shape[0], device=device(values)), (-1, 1)) * n
    g0 = xp.take(xp.reshape(flatv, (-1,)), xp.reshape(rows + idx0b, (-1,)))
    g1 = xp.take(xp.reshape(flatv, (-1,)), xp.reshape(rows + idx0b + 1, (-1,)))
    g0 = xp.reshape(g0, (-1, m))
    g1 = xp.reshape(g1, (-1, m))
    res = g0 + frb * (g1 - g0)
    res = xp.where(insb, res, xp.zeros_like(res))
    return xp.moveaxis(xp.reshape(res, (*shp, m)), -1, axis)


def empm(
    data: Array,
    array: MIMOArray,
    waveform: FMCW,
    positions: np.ndarray,
    grid: ImageGrid,
    *,
    z_ref: float = 0.3,
    z0: float | None = None,
    correct: bool = True,
    n_fft: int = 512,
    window: str | None = "hann",
    max_angle: float = 60.0,
) -> Array:
    """EMPM: multi-planar + multistatic-to-monostatic correction, then monostatic RMA, onto ``grid``.

    Parameters
    ----------
    data : array (L, n_tx, n_rx, K)
        Beat samples of :class:`MIMOSAR` (any namespace).
    positions : (L, 3)
        Array positions: a linear scan along y (2-D y-z image) or a planar x-y raster
        (3-D volume) whose virtual elements fall on a uniform grid in x-y; heights may
        vary (irregular).
    z_ref : float
        Reference range ``Z_ref`` of the multistatic correction (m).
    z0 : float, optional
        Reference plane (default: mean array height).
    correct : bool
        ``False`` runs plain RMA on the virtual elements (no plane or multistatic correction).
    n_fft : int
        Zero-padded spatial FFT size per axis.
    window : {"hann", None}
        Spectral window over the (k_y[, k_x], k_z) support.
    max_angle : float
        Largest angle off broadside (degrees) kept in the spectrum; sets the lower end
        of the ``k_z`` grid (``2 k_0 cos(max_angle)``).

    Returns
    -------
    array
        Complex image on ``grid`` (``grid.shape``), in ``data``'s namespace.
    """
    xp = array_namespace(data)
    pos = np.asarray(positions, dtype=float)
    L, T, R, K = data.shape
    if pos.shape != (L, 3):
        raise ValueError(f"positions must have shape ({L}, 3) to match the data, got {pos.shape}")
    virt = pos[:, None, :] + array.virtual[None]  # (L, T*R, 3)
    z0 = float(np.mean(pos[:, 2])) if z0 is None else float(z0)
    k = waveform.wavenumbers
    dev = device(data)
    cdt = data.dtype if xp.isdtype(data.dtype, "complex floating") else xp.complex128
    s = xp.reshape(xp.astype(data, cdt), (L, T * R, K))
    if correct:
        phi = 2.0 * (z0 - virt[:, :, 2]) + (array.separation[None, :] ** 2) / (4.0 * z_ref)
        corr = np.exp(1j * phi[:, :, None] * k[None, None, :])
        s = s * xp.asarray(corr, dtype=cdt, device=dev)
    # place the virtual elements on a uniform grid (x, y): the scan must make them uniform
    vx, vy = virt[:, :, 0].ravel(), virt[:, :, 1].ravel()
    planar = np.ptp(vx) > 1e-9
    dy = _uniform_step(vy)
    iy = np.rint((vy - vy.min()) / dy).astype(np.int64)
    ny = int(iy.max()) + 1
    if planar:
        dx = _uniform_step(vx)
        ix = np.rint((vx - vx.min()) / dx).astype(np.int64)
        nx = int(ix.max()) + 1
    else:
        dx, ix, nx = 1.0, np.zeros_like(iy), 1
    if n_fft < max(nx, ny):
        raise ValueError(f"n_fft = {n_fft} is smaller than the virtual aperture ({nx} x {ny} elements)")
    flat_idx = ix * ny + iy
    if np.unique(flat_idx).size != flat_idx.size:
        raise ValueError("virtual elements of different scan positions overlap; EMPM needs each "
                         "virtual position once (choose the scan step as the virtual aperture length)")
    s2 = xp.reshape(s, (L * T * R, K))
    # scatter by gather: inverse index with a zero row
    inv = np.full(nx * ny, flat_idx.size, dtype=np.int64)
    inv[flat_idx] = np.arange(flat_idx.size)
    s2 = xp.concat([s2, xp.zeros((1, K), dtype=cdt, device=dev)], axis=0)
    S = xp.reshape(xp.take(s2, xp.asarray(inv, device=dev), axis=0), (nx, ny, K))
    nfx = n_fft if planar else 1
    S = xp.concat([S, xp.zeros((nx, n_fft - ny, K), dtype=cdt, device=dev)], axis=1)
    if planar:
        S = xp.concat([S, xp.zeros((n_fft - nx, n_fft, K), dtype=cdt, device=dev)], axis=0)
    Sk = fftn(S, axes=(0, 1), norm="backward")  # sum_y s(y) exp(-j k_y y)
    kx = 2 * math.pi * np.fft.fftfreq(nfx, d=dx) if planar else np.zeros(1)
    ky = 2 * math.pi * np.fft.fftfreq(n_fft, d=dy)
    # uniform k_z grid over the propagating band up to max_angle off broadside, fine enough that
    # its period 2 pi / dkz covers the imaged depth (no range aliasing)
    kz_max = 2 * k[-1]
    kz_min = 2 * k[0] * math.cos(math.radians(max_angle))
    z_ext = 1.25 * float(np.max(grid.z))
    nkz = 1 << max(math.ceil(math.log2((kz_max - kz_min) * z_ext / (2 * math.pi))), 4)
    kz = kz_min + (kz_max - kz_min) * np.arange(nkz) / nkz
    KX, KY, KZ = np.meshgrid(kx, ky, kz, indexing="ij")
    kq = 0.5 * np.sqrt(KX**2 + KY**2 + KZ**2)  # the wavenumber that maps to (kx, ky, kz)
    # Stolt: S(kx, ky, k) sampled at k uniform -> evaluate at kq(kx, ky, kz) by linear interpolation
    Sq = _interp_uniform(xp, Sk, float(k[0]), float(k[1] - k[0]), xp.asarray(kq, device=dev), axis=2)
    phase = np.exp(-1j * KZ * z0)  # S ~ exp(-j k_y y' - j k_z (z' - z0)): reference to absolute z'
    valid = (kq >= k[0]) & (kq <= k[-1]) & (KX**2 + KY**2 <= (2 * _transverse_limit(kq, max_angle)) ** 2)
    if window == "hann":
        w = np.where(valid, 0.5 - 0.5 * np.cos(2 * math.pi * (kq - k[0]) / (k[-1] - k[0])), 0.0)
        if planar:
            w = w * np.hanning(nfx + 2)[1:-1][np.argsort(np.argsort(kx))][:, None, None]
        w = w * np.hanning(n_fft + 2)[1:-1][np.argsort(np.argsort(ky))][None, :, None]
    elif window is None:
        w = valid.astype(float)
    else:
        raise ValueError(f"window must be 'hann' or None, got {window!r}")
    # d kz / d k Jacobian is absorbed by the window (standard RMA practice)
    F = Sq * xp.asarray(phase * w, dtype=cdt, device=dev)
    img = ifftn(F, axes=(0, 1, 2), norm="backward")  # rho(x, y, z) on the FFT grid
    # FFT grid coordinates: y_i = vy.min() + i dy (periodic), z_j = j * 2 pi / (nkz dkz)
    dkz = kz[1] - kz[0]
    dz = 2 * math.pi / (nkz * dkz)
    # the k_z grid starts at kz_min: demodulate so z coordinates are absolute
    zz = np.arange(nkz) * dz
    img = img * xp.asarray(np.exp(1j * kz_min * zz)[None, None, :], dtype=cdt, device=dev)
    # interpolate onto the requested grid (periodic in x-y, linear)
    out = _resample(xp, img, vx.min() if planar else 0.0, dx, vy.min(), dy, dz, grid, planar)
    return out


def _transverse_limit(kq: np.ndarray, max_angle: float) -> np.ndarray:
    """``k sin(max_angle)``: the largest transverse half-wavenumber kept at wavenumber ``k``."""
    return kq * math.sin(math.radians(max_angle))


def _uniform_step(v: np.ndarray) -> float:
    u = np.unique(np.round(v, 9))
    if u.size < 2:
        return 1.0
    d = np.diff(u)
    step = float(np.min(d))
    if not np.allclose(np.rint((u - u[0]) / step) * step, u - u[0], atol=step * 1e-3):
        raise ValueError("EMPM needs virtual elements on a uniform x-y grid (heights may vary); "
                         "use MIMOSAR's adjoint (back-projection) for arbitrary x-y positions")
    return step


def _resample(xp: Any, img: Array, x0: float, dx: float, y0: float, dy: float, dz: float,
              grid: ImageGrid, planar: bool) -> Array:
    """Linear interpolation of the RMA volume onto ``grid`` (y, z; and x when planar)."""
    ny_f = img.shape[1]
    yq = xp.asarray(((grid.y - y0) / dy) % ny_f * dy, device=device(img))
    out = _interp_uniform(xp, img, 0.0, dy, xp.reshape(yq, (1, -1, 1)), axis=1)
    zq = xp.asarray(grid.z, device=device(img))
    out = _interp_uniform(xp, out, 0.0, dz, xp.reshape(zq, (1, 1, -1)), axis=2)
    if planar:
        nx_f = img.shape[0]
        xq = xp.asarray(((grid.x - x0) / dx) % nx_f * dx, device=device(img))
        out = _interp_uniform(xp, out, 0.0, dx, xp.reshape(xq, (-1, 1, 1)), axis=0)
        return out
    return out[0]



def psf_widths(image: Any, grid: ImageGrid, level_db: float = -3.0) -> dict[str, float]:
    """Widths (m) of the main lobe at ``level_db`` through the peak of ``|image|`` along each grid axis.

    Linear interpolation between samples on both sides of the peak. Returns
    ``{"y": ..., "z": ...}`` (and ``"x"`` for volumes) plus the peak position.
    """
    from ..backend import to_numpy
    from ..metrics import lobe_width

    mag = np.abs(to_numpy(image))
    peak = np.unravel_index(np.argmax(mag), mag.shape)
    level = mag[peak] * 10 ** (level_db / 20)
    axes = {"y": grid.y, "z": grid.z} if mag.ndim == 2 else {"x": grid.x, "y": grid.y, "z": grid.z}
    out: dict[str, float] = {}
    for ax, (name, coords) in enumerate(axes.items()):
        line = np.moveaxis(mag, ax, 0)[(slice(None), *[p for i, p in enumerate(peak) if i != ax])]
        i0 = peak[ax]
        out[name] = lobe_width(line, coords, i0, level)
        out[f"peak_{name}"] = float(coords[i0])
    return out
