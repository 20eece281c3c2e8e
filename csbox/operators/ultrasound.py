r"""Ultrasound pulse-echo imaging: probes, transmits, Born pulse-echo operator, DAS, sub-sampling, Doppler.

**Model** (first-order Born, linear array, 2-D). A transmit ``s`` insonifies the
medium with a wavefront reaching point ``v`` at ``tau_s(v)``; element ``e``
receives the echo of reflectivity ``rho_v`` at ``tau_s(v) + r_e(v)/c``:

.. math:: \mathrm{IQ}_{s,e}(t) = \sum_v \rho_v\, D_e(v)\,\frac{A_s(v)}{r_e(v)}\,
          10^{-\alpha f_c\, 2 z_v / 20}\;
          p\big(t - \tau_s(v) - r_e(v)/c\big)\, e^{-j 2\pi f_c (\tau_s(v) + r_e(v)/c)},

with ``p`` the Gaussian envelope of the two-way pulse (``-6 dB`` fractional
bandwidth of the probe), ``D_e`` the soft-baffle element directivity
``cos(theta) sinc(w sin(theta) / lambda)``, ``A_s`` the transmit spreading (1
for plane waves, ``1/sqrt(r)`` for diverging waves) and ``alpha`` the
attenuation (dB/cm/MHz, optional). IQ (complex baseband) samples at ``fs``;
``Re(IQ e^{j 2 pi f_c t})`` is the RF signal. The pulse has compact support
(+-3 sigma), so :class:`PulseEcho` is stored as a sparse matrix (built once on
the host, moved to the input's device once) and applied with the backend's
sparse product: ``O(nnz)`` per application on every backend.

**Delay-and-sum** (:func:`das`, :func:`das_matrix`): for each pixel and element,
the IQ signal is linearly interpolated at the two-way delay, rotated by
``e^{j 2 pi f_c tau}``, weighted by an f-number-limited receive aperture
(Hann or boxcar apodization), summed over elements and compounded over
transmits; :func:`bmode` log-compresses.

References
----------
D. Garcia, "SIMUS: an open-source simulator for medical ultrasound imaging",
CMPB 2022 (MUST/PyMUST). V. Perrot, M. Polichetti, F. Varray, D. Garcia, "So you
think you can DAS?", Ultrasonics 2021. G. Montaldo et al., "Coherent plane-wave
compounding", IEEE TUFFC 2009. C. Kasai et al., "Real-time two-dimensional
blood flow imaging using an autocorrelation technique", IEEE TSU 1985.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._sparse import SparseMatrix
from ..backend import array_namespace, device, to_numpy
from ..linop import LinearOperator

__all__ = [
    "ChannelSubsampling",
    "Probe",
    "PulseEcho",
    "SlowTimeSubsampling",
    "Transmit",
    "bmode",
    "clutter_filter_svd",
    "das",
    "das_matrix",
    "diverging_waves",
    "kasai",
    "plane_waves",
    "rf2iq",
    "simulate",
    "slow_time_recovery",
]

Array = Any
C_SOUND = 1540.0


@dataclass(frozen=True)
class Probe:
    """Linear array: centre frequency ``fc`` (Hz), ``pitch`` and element ``width`` (m),
    ``n_elements``, fractional ``bandwidth`` (-6 dB, e.g. 0.77)."""

    fc: float
    pitch: float
    width: float
    n_elements: int
    bandwidth: float
    height: float = 5e-3

    def __post_init__(self) -> None:
        if not self.pitch > 0:
            raise ValueError(f"pitch must be > 0, got {self.pitch}")
        if not (self.fc > 0 and 0 < self.width <= self.pitch and 0 < self.bandwidth < 2):
            raise ValueError(f"need fc > 0, 0 < width <= pitch, 0 < bandwidth < 2; got {self}")
        if not isinstance(self.n_elements, int) or self.n_elements < 1:
            raise ValueError(f"n_elements must be a positive int, got {self.n_elements!r}")

    @classmethod
    def l11_5v(cls) -> Probe:
        """Verasonics L11-5v (PyMUST ``getparam('L11-5v')``): 7.6 MHz, 128 elements, pitch 0.3 mm, 77 %."""
        return cls(fc=7.6e6, pitch=3e-4, width=2.7e-4, n_elements=128, bandwidth=0.77, height=5e-3)

    @classmethod
    def p4_2v(cls) -> Probe:
        """Verasonics P4-2v (PyMUST ``getparam('P4-2v')``): 2.72 MHz, 64 elements, pitch 0.3 mm, 74 %."""
        return cls(fc=2.72e6, pitch=3e-4, width=2.5e-4, n_elements=64, bandwidth=0.74, height=1.4e-2)

    @property
    def x(self) -> np.ndarray:
        """Element centres along x (m), centred on 0."""
        return (np.arange(self.n_elements) - (self.n_elements - 1) / 2) * self.pitch

    def wavelength(self, c: float = C_SOUND) -> float:
        return c / self.fc


@dataclass(frozen=True)
class Transmit:
    """A plane wave steered by ``angle`` (rad), or a diverging wave from a virtual source ``(xs, zs < 0)``."""

    kind: str = "plane"
    angle: float = 0.0
    source: tuple[float, float] = (0.0, -1.0)

    def __post_init__(self) -> None:
        if self.kind not in ("plane", "diverging"):
            raise ValueError(f"kind must be 'plane' or 'diverging', got {self.kind!r}")
        if self.kind == "diverging" and not self.source[1] < 0:
            raise ValueError(f"a diverging wave needs a virtual source behind the probe (zs < 0), "
                             f"got {self.source}")

    def delays(self, probe: Probe, c: float = C_SOUND) -> np.ndarray:
        """Transmit delays per element (s), the first element firing at 0."""
        x = probe.x
        if self.kind == "plane":
            d = x * math.sin(self.angle) / c
        else:
            d = np.hypot(x - self.source[0], self.source[1]) / c
        return d - d.min()

    def arrival(self, probe: Probe, x: np.ndarray, z: np.ndarray, c: float = C_SOUND) -> np.ndarray:
        """Time at which the transmitted wavefront reaches ``(x, z)`` (same time origin as :meth:`delays`)."""
        xe = probe.x
        if self.kind == "plane":
            s, co = math.sin(self.angle), math.cos(self.angle)
            return (x * s + z * co) / c - np.min(xe * s) / c
        xs, zs = self.source
        return (np.hypot(x - xs, z - zs) - np.min(np.hypot(xe - xs, zs))) / c

    def spreading(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        if self.kind == "plane":
            return np.ones(np.broadcast(x, z).shape)
        r = np.hypot(x - self.source[0], z - self.source[1])
        return np.sqrt(abs(self.source[1]) / r)


def plane_waves(angles_deg: Sequence[float]) -> list[Transmit]:
    """Steered plane waves."""
    return [Transmit("plane", math.radians(a)) for a in angles_deg]


def diverging_waves(n: int, probe: Probe, *, depth: float = 10e-3) -> list[Transmit]:
    """``n`` diverging waves from virtual sources ``depth`` behind the probe, spread across its aperture."""
    xs = np.linspace(probe.x[0], probe.x[-1], n) if n > 1 else np.zeros(1)
    return [Transmit("diverging", 0.0, (float(v), -float(depth))) for v in xs]


def _directivity(probe: Probe, dx: np.ndarray, z: np.ndarray, c: float) -> np.ndarray:
    """Soft-baffle element directivity ``cos(theta) sinc(w sin(theta) / lambda)``."""
    r = np.hypot(dx, z)
    sin_t = dx / np.maximum(r, 1e-12)
    cos_t = z / np.maximum(r, 1e-12)
    return cos_t * np.sinc(probe.width * sin_t / probe.wavelength(c))


def _sigma_t(probe: Probe) -> float:
    """Std of the Gaussian envelope of the two-way pulse from its -6 dB fractional bandwidth."""
    sigma_f = probe.bandwidth * probe.fc / (2 * math.sqrt(2 * math.log(2)))
    return 1.0 / (2 * math.pi * sigma_f)


class _SparseOp(LinearOperator):
    """A LinearOperator held as a host sparse matrix, moved per namespace/device/dtype once."""

    def _init_sparse(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]):
        self._coo = (rows.astype(np.int64), cols.astype(np.int64), vals)
        self._mat_shape = shape
        self._mats: dict[tuple, SparseMatrix] = {}

    @property
    def nnz(self) -> int:
        return int(self._coo[0].size)

    def _matrix(self, x: Array) -> SparseMatrix:
        xp = array_namespace(x)
        key = (xp.__name__, str(device(x)), str(x.dtype))
        S = self._mats.get(key)
        if S is None:
            rows, cols, vals = self._coo
            dev = device(x)
            kw = {} if "cupy" in xp.__name__ else {"device": dev}
            S = SparseMatrix(xp.asarray(rows, **kw), xp.asarray(cols, **kw),
                             xp.astype(xp.asarray(vals, **kw), x.dtype), self._mat_shape)
            self._mats[key] = S
        return S

    def _spmv(self, x: Array, n_in: int, out_shape: tuple[int, ...], adjoint: bool) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        S = self._matrix(x)
        batch = tuple(x.shape[: x.ndim - (len(self.oshape) if adjoint else len(self.ishape))])
        flat = xp.reshape(x, (-1, n_in))  # (b, n_in)
        X = xp.matrix_transpose(flat)
        Y = S.rmatvec_conj(X) if adjoint else S.matvec(X)
        return xp.reshape(xp.matrix_transpose(Y), (*batch, *out_shape))


class PulseEcho(_SparseOp):
    """Born pulse-echo operator: reflectivity ``(nz, nx)`` -> IQ ``(n_transmits, n_elements, n_samples)``.

    Parameters
    ----------
    probe : Probe
    transmits : sequence of Transmit
    x, z : 1-D arrays (m)
        Image grid (lateral, depth); the grid must lie in front of the probe
        (``z > 0``) and within ``t_max = n_samples / fs``.
    fs : float, optional
        IQ sampling frequency (default ``2 fc``: IQ is baseband, so ``fs`` need only
        exceed the pulse bandwidth, ``0.77 fc`` for the L11-5v).
    n_samples : int, optional
        Fast-time samples (default: enough for the deepest pixel at the widest angle).
    c : float
        Speed of sound (m/s).
    attenuation : float
        dB/cm/MHz (0 for none).
    """

    def __init__(self, probe: Probe, transmits: Sequence[Transmit], x: np.ndarray, z: np.ndarray, *,
                 fs: float | None = None, n_samples: int | None = None, c: float = C_SOUND,
                 attenuation: float = 0.0, t0: float = 0.0):
        x, z = np.asarray(x, float), np.asarray(z, float)
        if x.ndim != 1 or z.ndim != 1 or x.size < 1 or z.size < 1:
            raise ValueError("x and z must be non-empty 1-D grids")
        if z.min() <= 0:
            raise ValueError(f"image grid outside the field of view: z must be > 0 (in front of the probe), "
                             f"got min z = {z.min()}")
        if not transmits:
            raise ValueError("transmits is empty")
        self.probe, self.transmits, self.x, self.z, self.c = probe, list(transmits), x, z, c
        self.fs = fs or 2 * probe.fc
        self.t0 = t0
        Z, X = np.meshgrid(z, x, indexing="ij")
        xe = probe.x
        sig = _sigma_t(probe)
        half = 3.0 * sig
        tmax = max(float(np.max(tr.arrival(probe, X, Z, c))) for tr in self.transmits)
        tmax += float(np.max(np.hypot(X[..., None] - xe, Z[..., None]))) / c + half
        self.n_samples = n_samples or math.ceil((tmax - t0) * self.fs) + 1
        ns = self.n_samples
        nx, nz, ne, nt = x.size, z.size, xe.size, len(self.transmits)
        super().__init__((nz, nx), (nt, ne, ns), "complex128")
        rows, cols, vals = [], [], []
        for si, tr in enumerate(self.transmits):
            r_, c_, v_ = _echo_entries(probe, tr, X.ravel(), Z.ravel(), self.fs, ns, c, attenuation, t0)
            rows.append(r_ + si * ne * ns)
            cols.append(c_)
            vals.append(v_)
        self._init_sparse(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                          (nt * ne * ns, nz * nx))

    def _apply(self, x: Array) -> Array:
        return self._spmv(x, self.size_in, self.oshape, adjoint=False)

    def _adjoint(self, y: Array) -> Array:
        return self._spmv(y, self.size_out, self.ishape, adjoint=True)


def _echo_entries(probe: Probe, tr: Transmit, xv: np.ndarray, zv: np.ndarray, fs: float, ns: int, c: float,
                  attenuation: float, t0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries of one transmit: rows ``e * ns + n``, columns = point index, Born-model IQ values."""
    sig = _sigma_t(probe)
    half = math.ceil(3.0 * sig * fs)
    taps = np.arange(-half, half + 1)
    xe = probe.x
    ttx = tr.arrival(probe, xv, zv, c)
    amp_tx = tr.spreading(xv, zv)
    if attenuation:
        amp_tx = amp_tx * 10 ** (-attenuation * probe.fc / 1e6 * 2 * zv * 100 / 20)
    pts = np.arange(xv.size)
    rows, cols, vals = [], [], []
    for e in range(xe.size):
        dx = xv - xe[e]
        r = np.hypot(dx, zv)
        tau = ttx + r / c
        amp = amp_tx * _directivity(probe, dx, zv, c) / np.maximum(r, probe.pitch)
        n = np.rint((tau - t0) * fs).astype(np.int64)[:, None] + taps[None, :]
        keep = (n >= 0) & (n < ns)
        env = np.exp(-0.5 * ((t0 + n / fs - tau[:, None]) / sig) ** 2)
        v = amp[:, None] * env * np.exp(-2j * math.pi * probe.fc * tau)[:, None]
        rows.append((e * ns + n)[keep])
        cols.append(np.broadcast_to(pts[:, None], n.shape)[keep])
        vals.append(v[keep])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def simulate(probe: Probe, transmits: Sequence[Transmit], x: np.ndarray, z: np.ndarray, amplitude: np.ndarray,
             *, fs: float, n_samples: int, c: float = C_SOUND, attenuation: float = 0.0,
             t0: float = 0.0) -> np.ndarray:
    """IQ channel data ``(n_transmits, n_elements, n_samples)`` of point scatterers (off-grid), same model as
    :class:`PulseEcho` (NumPy, for simulation)."""
    x, z, amplitude = (np.asarray(v) for v in (x, z, amplitude))
    if z.min() <= 0:
        raise ValueError("scatterers must lie in front of the probe (z > 0)")
    ne = probe.n_elements
    out = np.zeros((len(transmits), ne * n_samples), dtype=complex)
    for s, tr in enumerate(transmits):
        r, col, v = _echo_entries(probe, tr, x, z, fs, n_samples, c, attenuation, t0)
        w = v * amplitude[col]
        out[s] = np.bincount(r, weights=w.real, minlength=ne * n_samples) + 1j * np.bincount(
            r, weights=w.imag, minlength=ne * n_samples)
    return out.reshape(len(transmits), ne, n_samples)


def rf2iq(rf: np.ndarray, fs: float, fc: float, bandwidth: float | None = None, axis: int = -1) -> np.ndarray:
    """IQ demodulation ``IQ = 2 LPF(RF e^{-j 2 pi fc t})``, low-pass = FFT mask at ``fc (1 + bw) / 2``."""
    xp = array_namespace(rf)
    rf = xp.moveaxis(xp.asarray(rf), axis, -1)
    n = rf.shape[-1]
    t = np.arange(n) / fs
    mix = xp.asarray(np.exp(-2j * math.pi * fc * t), device=device(rf))
    z = xp.astype(rf, xp.complex128 if rf.dtype in (xp.float64, xp.complex128) else xp.complex64) * mix
    cutoff = fc * (1 + (bandwidth or 1.0)) / 2
    f = np.fft.fftfreq(n, 1 / fs)
    lp = xp.asarray((np.abs(f) <= cutoff).astype(float), device=device(rf))
    iq = 2.0 * xp.fft.ifft(xp.fft.fft(z, axis=-1) * xp.astype(lp, z.dtype), axis=-1)
    return xp.moveaxis(iq, -1, axis)


def _das_weights(probe: Probe, transmits: Sequence[Transmit], x: np.ndarray, z: np.ndarray, fs: float,
                 n_samples: int, c: float, f_number: float, apodization: str, t0: float):
    """Per (transmit, element, pixel): sample index ``i0``, interpolation fraction, and complex weight."""
    Z, X = np.meshgrid(z, x, indexing="ij")
    xe = probe.x
    out = []
    for tr in transmits:
        ttx = tr.arrival(probe, X, Z, c).ravel()
        dx = X.ravel()[None, :] - xe[:, None]  # (ne, npix)
        tau = ttx[None, :] + np.hypot(dx, Z.ravel()[None, :]) / c
        idx = (tau - t0) * fs
        i0 = np.floor(idx).astype(np.int64)
        frac = idx - i0
        half_ap = Z.ravel()[None, :] / (2 * f_number)
        u = np.abs(dx) / np.maximum(half_ap, 1e-12)
        if apodization == "hann":
            apo = np.where(u <= 1, 0.5 + 0.5 * np.cos(math.pi * u), 0.0)
        elif apodization == "boxcar":
            apo = (u <= 1).astype(float)
        else:
            raise ValueError(f"apodization must be 'hann' or 'boxcar', got {apodization!r}")
        valid = (i0 >= 0) & (i0 + 1 < n_samples)
        w = np.where(valid, apo, 0.0) * np.exp(2j * math.pi * probe.fc * tau)
        out.append((np.clip(i0, 0, n_samples - 2), frac, w))
    return out


_DAS_CACHE: dict = {}


def _das_plan(probe: Probe, transmits: Sequence[Transmit], x: np.ndarray, z: np.ndarray, fs: float,
              n_samples: int, c: float, f_number: float, apodization: str, t0: float) -> list:
    """Gather indices and weights of :func:`das`, cached per geometry (built once, reused per frame)."""
    key = (probe, tuple(transmits), np.asarray(x).tobytes(), np.asarray(z).tobytes(), fs, n_samples, c,
           f_number, apodization, t0)
    plan = _DAS_CACHE.get(key)
    if plan is None:
        from ..backend import ArrayCache

        ne = probe.n_elements
        plan = []
        for i0, frac, w in _das_weights(probe, transmits, x, z, fs, n_samples, c, f_number, apodization, t0):
            base = (np.arange(ne)[:, None] * n_samples + i0).ravel()
            plan.append((ArrayCache(base), ArrayCache(base + 1), ArrayCache(frac), ArrayCache(w)))
        if len(_DAS_CACHE) >= 4:
            _DAS_CACHE.clear()
        _DAS_CACHE[key] = plan
    return plan


def das(iq: Array, probe: Probe, transmits: Sequence[Transmit], x: np.ndarray, z: np.ndarray, *, fs: float,
        c: float = C_SOUND, f_number: float = 1.5, apodization: str = "hann", t0: float = 0.0) -> Array:
    """Delay-and-sum beamforming of IQ data ``(n_transmits, n_elements, n_samples)`` onto ``(nz, nx)``.

    Linear interpolation at the two-way delays, phase rotation ``e^{j 2 pi fc tau}``,
    receive aperture of half-width ``z / (2 F#)`` with ``apodization``, coherent
    compounding over transmits. Written with gathers on the input's namespace; the
    delays and weights are computed once per geometry and cached (moved to the
    input's device once), so repeated frames cost only the gathers.
    """
    xp = array_namespace(iq)
    nt, ne, ns = iq.shape[-3:]
    if nt != len(transmits):
        raise ValueError(f"iq has {nt} transmits, the sequence has {len(transmits)}")
    if ne != probe.n_elements:
        raise ValueError(f"iq has {ne} elements, the probe has {probe.n_elements}")
    if not f_number > 0:
        raise ValueError(f"f_number must be > 0, got {f_number}")
    img = None
    for s, (i0, i1, frac, w) in enumerate(_das_plan(probe, transmits, x, z, fs, ns, c, f_number,
                                                     apodization, t0)):
        flat = xp.reshape(iq[s, ...], (-1,))
        g0 = xp.reshape(xp.take(flat, i0.like(flat)), (ne, -1))
        g1 = xp.reshape(xp.take(flat, i1.like(flat)), (ne, -1))
        val = g0 + frac.like(g0, g0.dtype) * (g1 - g0)
        contrib = xp.sum(val * w.like(g0, g0.dtype), axis=0)
        img = contrib if img is None else img + contrib
    return xp.reshape(img, (z.size, x.size))


def das_matrix(probe: Probe, transmits: Sequence[Transmit], x: np.ndarray, z: np.ndarray, *, fs: float,
               n_samples: int, c: float = C_SOUND, f_number: float = 1.5, apodization: str = "hann",
               t0: float = 0.0) -> Any:
    """The DAS beamformer as a ``scipy.sparse`` CSR matrix ``(nz nx, n_transmits n_elements n_samples)``.

    ``(M @ iq.ravel()).reshape(nz, nx)`` equals :func:`das`; build once, apply per frame.
    """
    import scipy.sparse

    ne = probe.n_elements
    rows, cols, vals = [], [], []
    npix = x.size * z.size
    pix = np.broadcast_to(np.arange(npix)[None, :], (ne, npix))
    for s, (i0, frac, w) in enumerate(_das_weights(probe, transmits, x, z, fs, n_samples, c, f_number,
                                                  apodization, t0)):
        keep = w != 0
        base = (s * ne + np.arange(ne)[:, None]) * n_samples + i0
        for off, wt in ((0, 1 - frac), (1, frac)):
            rows.append(pix[keep])
            cols.append((base + off)[keep])
            vals.append((w * wt)[keep])
    return scipy.sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                   shape=(npix, len(transmits) * ne * n_samples))


def bmode(img: Array, dynamic_range: float = 60.0) -> np.ndarray:
    """Log-compressed B-mode (dB, 0 at the maximum, clipped at ``-dynamic_range``)."""
    a = np.abs(to_numpy(img))
    return np.clip(20 * np.log10(a / a.max() + 1e-300), -dynamic_range, 0)


class _AxisSubsampling(LinearOperator):
    """Keep the entries of one axis of ``shape`` where a boolean ``mask`` is True."""

    def __init__(self, shape: tuple[int, ...], mask: np.ndarray, axis: int):
        from .basic import Restriction

        shape = tuple(int(s) for s in shape)
        axis = axis % len(shape)
        mask = np.asarray(to_numpy(mask))
        if mask.dtype != np.bool_ or mask.shape != (shape[axis],):
            raise ValueError(f"mask must be a boolean array of shape ({shape[axis]},), "
                             f"got {mask.dtype} {mask.shape}")
        self.mask = mask
        view = [1] * len(shape)
        view[axis] = -1
        self._R = Restriction(shape, np.broadcast_to(mask.reshape(view), shape))
        oshape = list(shape)
        oshape[axis] = int(mask.sum())
        super().__init__(shape, tuple(oshape), "float64")

    def _apply(self, x: Array) -> Array:
        xp = array_namespace(x)
        y = self._R._apply(x)
        return xp.reshape(y, (*y.shape[:-1], *self.oshape))

    def _adjoint(self, y: Array) -> Array:
        xp = array_namespace(y)
        b = tuple(y.shape[: y.ndim - len(self.oshape)])
        return self._R._adjoint(xp.reshape(y, (*b, -1)))


class ChannelSubsampling(_AxisSubsampling):
    """Keep the receive elements where ``mask`` is True: ``(n_tx, n_elements, n_s) -> (n_tx, M, n_s)``."""

    def __init__(self, data_shape: tuple[int, int, int], mask: np.ndarray):
        super().__init__(data_shape, mask, axis=1)


class SlowTimeSubsampling(_AxisSubsampling):
    """Keep the slow-time pulses (last axis, length ``n_pulses``) where ``mask`` is True."""

    def __init__(self, shape: tuple[int, ...], mask: np.ndarray):
        super().__init__(shape, mask, axis=-1)


# ----------------------------------------------------------------------------- Doppler
def clutter_filter_svd(ensemble: Array, rank: int) -> Array:
    """Remove the ``rank`` largest singular components of a slow-time ensemble ``(nz, nx, n_pulses)``.

    Tissue (clutter) is slow and spatially coherent: it dominates the leading singular
    vectors of the Casorati matrix ``(pixels x pulses)`` (Demené et al. 2015).
    """
    xp = array_namespace(ensemble)
    nz, nx, n = ensemble.shape
    if not 0 <= rank < n:
        raise ValueError(f"rank must be in [0, {n}), got {rank}")
    Cm = xp.reshape(ensemble, (nz * nx, n))
    U, S, Vh = xp.linalg.svd(Cm, full_matrices=False)
    keep = xp.astype(xp.arange(S.shape[0], device=device(S)) >= rank, S.dtype)
    filt = (U * xp.astype(S * keep, U.dtype)[None, :]) @ Vh
    return xp.reshape(filt, (nz, nx, n))


def kasai(ensemble: Array, *, prf: float, fc: float, c: float = C_SOUND,
          average_axes: tuple[int, ...] | None = None) -> tuple[Array, Array]:
    """Axial velocity (m/s, positive away from the probe) and power Doppler of IQ ``(..., n_pulses)``.

    Lag-one autocorrelation ``R1 = sum_n conj(s_n) s_{n+1}``: an echo from depth ``z(t)``
    carries phase ``-4 pi fc z / c``, so ``v = -c prf angle(R1) / (4 pi fc)``; aliasing
    beyond the Nyquist velocity ``c prf / (4 fc)``. Power Doppler is ``mean |s|^2``.
    ``average_axes`` sums ``R1`` over those (spatial) axes too: the speckle variance of
    the estimate falls with the number of independent speckle cells averaged.
    """
    xp = array_namespace(ensemble)
    r1 = xp.sum(xp.conj(ensemble[..., :-1]) * ensemble[..., 1:], axis=-1)
    if average_axes:
        r1 = xp.sum(r1, axis=average_axes, keepdims=True)
    v = -c * prf * xp.atan2(xp.imag(r1), xp.real(r1)) / (4 * math.pi * fc)
    power = xp.mean(xp.real(ensemble * xp.conj(ensemble)), axis=-1)
    return v, power


def slow_time_recovery(kept: Array, mask: np.ndarray, *, oversampling: int = 4, lam_rel: float = 0.01,
                       max_iter: int = 300, tol: float = 1e-7) -> Array:
    """Recover a slow-time ensemble ``(..., n_pulses)`` from the pulses kept by ``mask``.

    Solves ``min_z 0.5 ||S D z - y||^2 + lam ||z||_1`` per pixel with FISTA (all pixels as
    one batch): ``D`` an ``oversampling``-times redundant Fourier dictionary
    (``D[n, f] = exp(2j pi n f / (os N)) / sqrt(N)``, off-grid Doppler frequencies stay
    nearly sparse) and ``S`` the pulse selection; clutter and flow each occupy a few
    Doppler frequencies. Returns ``D z``.
    """
    from ..solvers import fista
    from .basic import MatrixOperator

    xp = array_namespace(kept)
    mask = np.asarray(to_numpy(mask))
    n = mask.size
    if kept.shape[-1] != int(mask.sum()):
        raise ValueError(f"kept has {kept.shape[-1]} pulses, the mask keeps {int(mask.sum())}")
    m = oversampling * n
    D = np.exp(2j * math.pi * np.outer(np.arange(n), np.arange(m)) / m) / math.sqrt(n)
    cdt = xp.complex64 if kept.dtype in (xp.complex64, xp.float32) else xp.complex128
    res = fista(MatrixOperator(D[mask]), xp.astype(kept, cdt), lam_rel=lam_rel, max_iter=max_iter, tol=tol)
    return res.x @ xp.asarray(D.T, dtype=cdt, device=device(kept))
