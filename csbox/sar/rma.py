r"""EMPM: the fast MIMO-SAR reconstruction for irregular scans, through monostatic RMA.

EMPM (:func:`empm`), the paper's fast method for irregular scans, maps every
Tx/Rx pair to its virtual (monostatic) element at the midpoint and every array
height ``z_l`` to the reference plane ``z0`` with one phase factor, then runs
the monostatic range-migration algorithm (RMA). With the convention of
:class:`csbox.sar.MIMOSAR`, ``s ∝ exp(-j k (R_t + R_r))``, and ``R_t + R_r ≈
2 R_v + d^2 / (4 R)`` (``d`` the Tx-Rx separation, ``R_v`` the range of the
virtual element):

.. math:: s'(l, t, r, k) = s\, e^{+j k \varphi_l},
          \qquad \varphi_l = 2 (z_0 - z_l) + \frac{d^2}{4 Z_{ref}}

(``z_l`` the height of the virtual element: an element above the reference
plane sees the target ``z_l - z0`` closer, so its phase is delayed by ``2 k (z_l -
z0)`` to bring it down to the plane; the paper writes the same ``phi`` with
``exp(-j k phi)`` for the opposite sign convention of the signal model). RMA: spatial FFT
(zero-padded), ``exp(+j k_z (z_c - z0))`` with ``k_z = sqrt(4 k^2 - k_x^2 - k_y^2)``
(reference-function multiply at the grid's centre depth ``z_c``: the spectrum turns slowly
in ``k``), Stolt interpolation onto a uniform ``k_z`` grid (evanescent waves zeroed),
``exp(-j k_z z_c)`` (to absolute ``z``), window, and the inverse DFT evaluated at the image
grid's points (exact, not interpolated from the FFT grid). ``empm(..., correct=False)`` is plain RMA on
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
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._sparse import scatter
from .._validation import check_array, check_choice, check_int, check_memory, check_scalar
from ..backend import Array, array_namespace, device, fftn, ifftn
from .geometry import FMCW, ImageGrid, MIMOArray
from .operator import _check_types

__all__ = ["empm"]


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


@dataclass(frozen=True)
class _Aperture:
    """The virtual elements placed on a uniform x-y grid (``planar``: a 2-D raster, else a line in y)."""

    planar: bool
    x0: float
    dx: float
    nx: int
    y0: float
    dy: float
    ny: int
    flat_idx: np.ndarray  # grid position ix * ny + iy of each virtual element, scan-major

    @classmethod
    def of(cls, virt: np.ndarray, n_fft: int) -> _Aperture:
        vx, vy = virt[:, :, 0].ravel(), virt[:, :, 1].ravel()
        planar = bool(np.ptp(vx) > 1e-9)
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
        return cls(planar, float(vx.min()) if planar else 0.0, dx, nx, float(vy.min()), dy, ny, flat_idx)


def _on_grid(xp: Any, s: Array, ap: _Aperture, n_fft: int) -> Array:
    """Samples ``(L, T*R, K)`` placed on the zero-padded aperture grid ``(n_fft or 1, n_fft, K)``."""
    K, cdt, dev = s.shape[-1], s.dtype, device(s)
    S = scatter(xp.reshape(s, (-1, K)), ap.flat_idx, ap.nx * ap.ny, axis=0)
    S = xp.reshape(S, (ap.nx, ap.ny, K))
    S = xp.concat([S, xp.zeros((ap.nx, n_fft - ap.ny, K), dtype=cdt, device=dev)], axis=1)
    if ap.planar:
        S = xp.concat([S, xp.zeros((n_fft - ap.nx, n_fft, K), dtype=cdt, device=dev)], axis=0)
    return S


def _kz_grid(k: np.ndarray, max_angle: float, grid: ImageGrid) -> np.ndarray:
    """Uniform ``k_z`` grid over the propagating band up to ``max_angle`` off broadside.

    Fine enough that its period ``2 pi / dkz`` covers the imaged depth (no range aliasing).
    """
    kz_max = 2 * k[-1]
    kz_min = 2 * k[0] * math.cos(math.radians(max_angle))
    z_ext = 1.25 * float(np.max(grid.z))
    nkz = 1 << max(math.ceil(math.log2((kz_max - kz_min) * z_ext / (2 * math.pi))), 4)
    return kz_min + (kz_max - kz_min) * np.arange(nkz) / nkz


def _stolt_weights(k: np.ndarray, kx: np.ndarray, ky: np.ndarray, kz: np.ndarray, z0: float,
                   window: str | None, max_angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Stolt query wavenumbers ``kq(kx, ky, kz)`` and the phase-times-window factor on that grid."""
    KX, KY, KZ = np.meshgrid(kx, ky, kz, indexing="ij")
    kq = 0.5 * np.sqrt(KX**2 + KY**2 + KZ**2)  # the wavenumber that maps to (kx, ky, kz)
    phase = np.exp(-1j * kz * z0)  # S ~ exp(-j k_y y' - j k_z (z' - z0)): reference to absolute z' (1-D)
    transverse = kq * math.sin(math.radians(max_angle))  # largest transverse half-wavenumber kept
    valid = (kq >= k[0]) & (kq <= k[-1]) & (KX**2 + KY**2 <= (2 * transverse) ** 2)
    if window == "hann":
        w = np.where(valid, 0.5 - 0.5 * np.cos(2 * math.pi * (kq - k[0]) / (k[-1] - k[0])), 0.0)
        if kx.size > 1:
            w = w * np.hanning(kx.size + 2)[1:-1][np.argsort(np.argsort(kx))][:, None, None]
        w = w * np.hanning(ky.size + 2)[1:-1][np.argsort(np.argsort(ky))][None, :, None]
    else:
        w = valid.astype(float)
    # the d kz / d k Jacobian is absorbed by the window (standard RMA practice)
    return kq, phase * w


def _virtual_samples(xp: Any, data: Array, array: MIMOArray, virt: np.ndarray, k: np.ndarray, z0: float,
                     z_ref: float | None) -> Array:
    """Samples ``(L, T*R, K)`` on the virtual elements, times ``exp(+j k phi)`` unless ``z_ref`` is None.

    ``phi = 2 (z0 - z_l) + d^2 / (4 Z_ref)``: the plane and multistatic-to-monostatic corrections.
    """
    L, T, R, K = data.shape
    cdt = data.dtype if xp.isdtype(data.dtype, "complex floating") else xp.complex128
    s = xp.reshape(xp.astype(data, cdt), (L, T * R, K))
    if z_ref is not None:
        phi = 2.0 * (z0 - virt[:, :, 2]) + (array.separation[None, :] ** 2) / (4.0 * z_ref)
        s = s * xp.asarray(np.exp(1j * phi[:, :, None] * k[None, None, :]), dtype=cdt, device=device(data))
    return s


def _check_empm(data: Any, array: Any, waveform: Any, positions: Any, grid: Any, z_ref: float,
                z0: float | None, n_fft: int, window: str | None, max_angle: float, correct: Any) -> tuple:
    data = check_array("data", data, ndim=4)
    _check_types(array, waveform, grid)
    pos = np.asarray(positions, dtype=float)
    L = data.shape[0]
    want = (L, array.tx.shape[0], array.rx.shape[0], waveform.n_samples)
    if tuple(data.shape) != want:
        raise ValueError(f"data has shape {tuple(data.shape)}, expected (L, n_tx, n_rx, K) = {want}")
    if pos.shape != (L, 3) or not np.all(np.isfinite(pos)):
        raise ValueError(f"positions must be finite with shape ({L}, 3) to match the data, got {pos.shape}")
    z_ref = check_scalar("z_ref", z_ref, low=0.0, low_open=True)
    z0 = float(np.mean(pos[:, 2])) if z0 is None else check_scalar("z0", z0)
    n_fft = check_int("n_fft", n_fft, low=2)
    if window is not None:
        check_choice("window", window, ("hann",))
    max_angle = check_scalar("max_angle", max_angle, low=0.0, high=90.0, low_open=True, high_open=True)
    if not isinstance(correct, bool):
        raise TypeError(f"correct must be a bool, got {type(correct).__name__}")
    return data, pos, z_ref, z0, n_fft, max_angle


def empm(data: Array, array: MIMOArray, waveform: FMCW, positions: np.ndarray, grid: ImageGrid, *,
         z_ref: float = 0.3, z0: float | None = None, correct: bool = True, n_fft: int = 512,
         window: str | None = "hann", max_angle: float = 60.0) -> Array:
    """EMPM: multi-planar + multistatic-to-monostatic correction, then monostatic RMA, onto ``grid``.

    Parameters
    ----------
    data : array (L, n_tx, n_rx, K)
        Beat samples of :class:`~csbox.sar.MIMOSAR` (any namespace).
    array : MIMOArray
    waveform : FMCW
    positions : (L, 3)
        Array positions: a linear scan along y (2-D y-z image) or a planar x-y raster
        (3-D volume) whose virtual elements fall on a uniform grid in x-y; heights may
        vary (irregular).
    grid : ImageGrid
        Where the image is wanted.
    z_ref : float
        Reference range ``Z_ref`` of the multistatic correction (m).
    z0 : float, optional
        Reference plane (default: mean array height).
    correct : bool
        ``False`` runs plain RMA on the virtual elements (no plane or multistatic correction).
    n_fft : int
        Zero-padded spatial FFT size per axis: the image is periodic in x-y with period
        ``n_fft`` virtual-element steps (see Notes).
    window : {"hann", None}
        Spectral window: Hann over the band in ``k`` and over the whole ``k_y`` (``k_x``)
        FFT band, centred on broadside (see Notes); ``None`` keeps the full support.
    max_angle : float
        Largest angle off broadside (degrees, in (0, 90)) kept in the spectrum; sets the
        lower end of the ``k_z`` grid (``2 k_0 cos(max_angle)``).

    Returns
    -------
    array
        Complex image on ``grid`` (``grid.shape``), in ``data``'s namespace.

    Raises
    ------
    ValueError
        Data or positions that do not match the geometry, virtual elements off a
        uniform x-y grid or overlapping, or a spectrum volume that cannot fit in memory.

    Notes
    -----
    The image is the inverse DFT of the Stolt spectrum evaluated at the grid's points
    (chirp-z along uniform axes). The FFT's own grid samples the complex image at about
    its Nyquist rate; 0.2.0 interpolated it linearly, which moved the peak of an oblique
    target by up to 0.7 resolution cells. Where the image is valid (tested):

    * flat scan: targets seen within ``max_angle``, inside or beyond the aperture, peak
      within 0.2 cells of back-projection's peak (``window=None``), amplitude 0.8 of a
      centre target's at 40-59 deg; a target seen only beyond ``max_angle`` fades (0.016);
    * irregular heights: the plane correction is exact at broadside only; it leaves a
      phase ``2 k dz (1 - cos theta)`` for a height deviation ``dz`` at look angle
      ``theta``. Keep it below ``pi / 4``: ``theta <= arccos(1 - pi / (8 k_max dz_max))``
      (10 deg for +-1.5 cm at 81 GHz); beyond, the target defocuses and its peak moves by
      cells. The multistatic phase ``d^2 / (4 Z_ref)`` leaves ``k d^2 / 4 |1 / Z_ref -
      cos^2 theta / R|`` at range ``R`` (<= 0.5 rad for the IWR1443's 18.6 mm, Z_ref 0.3 m);
    * the Hann window tapers ``k_y`` around broadside: beyond the aperture's edge it
      dims the response (0.11 of a centre target's at 40-59 deg) and stretches it along
      the line of sight (peaks within 0.16 cells); use ``window=None`` there;
    * the image is periodic: in x-y with period ``n_fft`` times the virtual-element step
      (a scatterer ``P`` away also appears; make ``n_fft`` cover the scene and the grid),
      in z with period at least ``1.25 max(grid.z)``.
    """
    data, pos, z_ref, z0, n_fft, max_angle = _check_empm(data, array, waveform, positions, grid, z_ref,
                                                         z0, n_fft, window, max_angle, correct)
    xp = array_namespace(data)
    virt = pos[:, None, :] + array.virtual[None]  # (L, T*R, 3)
    k = waveform.wavenumbers
    s = _virtual_samples(xp, data, array, virt, k, z0, z_ref if correct else None)
    ap = _Aperture.of(virt, n_fft)
    kz = _kz_grid(k, max_angle, grid)
    zc = 0.5 * float(grid.z.min() + grid.z.max())  # the grid's centre depth: the Stolt reference
    spec, kx, ky = _stolt_spectrum(xp, s, ap, n_fft, k, kz, z0, zc, window, max_angle)
    return xp.reshape(_evaluate(xp, spec, _synthesis_axes(ap, kx, ky, kz, grid)), grid.shape)


def _stolt_spectrum(xp: Any, s: Array, ap: _Aperture, n_fft: int, k: np.ndarray, kz: np.ndarray, z0: float,
                    zc: float, window: str | None, max_angle: float) -> tuple[Array, np.ndarray, np.ndarray]:
    """Spatial FFT of the virtual samples, Stolt-interpolated onto ``(k_x, k_y, k_z)``, phase and window."""
    cdt, K, dev = s.dtype, s.shape[-1], device(s)
    nfx = n_fft if ap.planar else 1
    check_memory("EMPM's spectrum volume", 4.0 * nfx * n_fft * max(kz.size, K), 16)
    Sk = fftn(_on_grid(xp, s, ap, n_fft), axes=(0, 1), norm="backward")  # sum_y s(y) exp(-j k_y y)
    kx = 2 * math.pi * np.fft.fftfreq(nfx, d=ap.dx) if ap.planar else np.zeros(1)
    ky = 2 * math.pi * np.fft.fftfreq(n_fft, d=ap.dy)
    # reference-function multiply: S ~ exp(-j k_z (z' - z0)) turns by dk 2R per k sample (R: slant range);
    # times exp(+j k_z (zc - z0)) a target at depth zc is flat in k, so the linear Stolt
    # interpolation below loses little (exp(-j k_z zc) on the k_z grid restores absolute z')
    k_z = np.sqrt(np.maximum(4 * k**2 - (kx**2)[:, None, None] - (ky**2)[None, :, None], 0.0))
    Sk = Sk * xp.asarray(np.exp(1j * k_z * (zc - z0)), dtype=cdt, device=dev)
    kq, factor = _stolt_weights(k, kx, ky, kz, zc, window, max_angle)
    # Stolt: S(kx, ky, k) sampled at k uniform -> evaluate at kq(kx, ky, kz) by linear interpolation
    Sq = _interp_uniform(xp, Sk, float(k[0]), float(k[1] - k[0]), xp.asarray(kq, device=dev), axis=2)
    return Sq * xp.asarray(factor, dtype=cdt, device=dev), kx, ky


def _synthesis_axes(ap: _Aperture, kx: np.ndarray, ky: np.ndarray, kz: np.ndarray,
                    grid: ImageGrid) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per spectrum axis: its wavenumbers and the image coordinates relative to the FFT origin.

    The origin is the first virtual element in x-y and ``z = 0``: the image is the inverse
    DFT ``sum_m S_m exp(j k_m (c_q - c_0)) / n`` evaluated at the grid's points, not on the
    FFT's own grid, which samples the complex image at about its Nyquist rate (``dy = lambda
    / 4`` for ``|k_y|`` up to ``2 k sin(max_angle)``, ``dz = 2 pi / (k_z`` band)):
    interpolating there moved the peak of oblique targets.
    """
    x = (kx, grid.x - ap.x0) if ap.planar else (np.zeros(1), np.zeros(1))
    return [x, (ky, grid.y - ap.y0), (kz, grid.z)]


def _evaluate(xp: Any, spec: Array, axes: list[tuple[np.ndarray, np.ndarray]]) -> Array:
    """``spec`` synthesised along each axis onto its coordinates, the axis that shrinks most first."""
    # the chirp-z transform pads an axis to at most 4 max(n, nq) points
    check_memory("EMPM's image synthesis", 4.0 * math.prod(max(k.size, c.size) for k, c in axes), 16)
    out = spec
    for a in sorted(range(len(axes)), key=lambda a: axes[a][1].size / axes[a][0].size):
        out = _synthesize(xp, out, *axes[a], axis=a)
    return out


def _synthesize(xp: Any, a: Array, k: np.ndarray, c: np.ndarray, axis: int) -> Array:
    """``out_q = sum_m a_m exp(j k_m c_q) / n`` along ``axis``: chirp-z on uniform ``c``, else a matrix."""
    dev, cdt, n, nq = device(a), a.dtype, k.size, c.size
    order = np.argsort(k, kind="stable")
    ks = k[order]
    uniform = n > 1 and nq > 1 and _is_uniform(ks) and _is_uniform(c)
    if not uniform or n * nq <= 4 * (n + nq) * math.log2(n + nq):
        E = xp.asarray(np.exp(1j * np.outer(k, c)) / n, dtype=cdt, device=dev)
        return xp.moveaxis(xp.tensordot(a, E, axes=([axis], [0])), -1, axis)
    a = xp.take(a, xp.asarray(order, device=dev), axis=axis) if np.any(order != np.arange(n)) else a
    pre, chirp, post = (xp.asarray(v, dtype=cdt, device=dev) for v in _chirp_z(ks, c))
    shape = [1] * a.ndim
    pad = list(a.shape)
    pad[axis], shape[axis] = chirp.shape[0] - n, -1
    shape, pad = tuple(shape), tuple(pad)
    a = xp.concat([a * xp.reshape(pre, shape), xp.zeros(pad, dtype=cdt, device=dev)], axis=axis)
    spectrum = fftn(a, axes=(axis,), norm="backward") * xp.reshape(chirp, shape)
    conv = ifftn(spectrum, axes=(axis,), norm="backward")  # circular convolution with the chirp
    return xp.take(conv, xp.arange(nq, device=dev), axis=axis) * xp.reshape(post, shape)


def _chirp_z(k: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bluestein's factors for ``sum_m a_m exp(j k_m c_q)`` with uniform ``k`` and ``c``.

    With ``k_m = k_0 + m dk``, ``c_q = c_0 + q dc``, ``b = dk dc`` and ``m q = (m^2 + q^2 - (q -
    m)^2) / 2``: ``out_q = post_q sum_m (a_m pre_m) h_{q - m}``, ``pre_m = exp(j (m dk c_0 + b
    m^2 / 2)) / n``, ``post_q = exp(j (k_0 c_q + b q^2 / 2))``, ``h_t = exp(-j b t^2 / 2)``: a
    convolution, done circularly over ``L >= n + nq - 1`` points (returned: ``fft(h)``).
    """
    n, nq = k.size, c.size
    dk, dc = (k[-1] - k[0]) / (n - 1), (c[-1] - c[0]) / (nq - 1)
    b, m, q = dk * dc, np.arange(n), np.arange(nq)
    L = 1 << math.ceil(math.log2(n + nq - 1))
    t = np.arange(L)
    t = np.where(t < nq, t, t - L)
    pre = np.exp(1j * (m * dk * c[0] + 0.5 * b * m**2)) / n
    post = np.exp(1j * (k[0] * c + 0.5 * b * q**2))
    return pre, np.fft.fft(np.exp(-0.5j * b * t**2)), post


def _is_uniform(v: np.ndarray) -> bool:
    step = np.diff(v)
    return bool(step[0] != 0 and np.allclose(step, step[0], rtol=1e-9, atol=0.0))
