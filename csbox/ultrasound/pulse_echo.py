r"""Born pulse-echo operator and point-scatterer simulator (linear array, 2-D).

Transmit ``s`` insonifies the medium with a wavefront reaching point ``v`` at
``tau_s(v)``; element ``e`` receives the echo of reflectivity ``rho_v`` at
``tau_s(v) + r_e(v)/c``:

.. math:: \mathrm{IQ}_{s,e}(t) = \sum_v \rho_v\, D_e(v)\,\frac{A_s(v)}{r_e(v)}\,
          10^{-\alpha f_c\, 2 z_v / 20}\;
          p\big(t - \tau_s(v) - r_e(v)/c\big)\, e^{-j 2\pi f_c (\tau_s(v) + r_e(v)/c)},

with ``p`` the Gaussian envelope of the two-way pulse (spectrum: the probe's response,
``-6 dB`` fractional bandwidth ``B``, squared for transmit and receive, so ``B / sqrt 2``),
``D_e`` the soft-baffle element directivity ``cos(theta) sinc(w sin(theta) / lambda)``,
``A_s`` the transmit spreading and ``alpha`` the attenuation (dB/cm/MHz). IQ samples are taken at
``t = t0_s + n / fs``; ``Re(IQ e^{j 2 pi f_c t})`` is the RF signal.

References
----------
D. Garcia, "SIMUS: an open-source simulator for medical ultrasound imaging", CMPB 2022.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._sparse import SparseMatrix
from .._validation import as_numpy_mask, check_int, check_memory, check_scalar
from ..backend import Array, array_namespace, device
from ..linop import LinearOperator
from .probe import C_SOUND, Probe, Transmit, _check_sequence, _directivity, _sigma_t, t0_per_transmit

__all__ = ["PulseEcho", "simulate"]


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
            S = SparseMatrix(
                xp.asarray(rows, **kw),
                xp.asarray(cols, **kw),
                xp.astype(xp.asarray(vals, **kw), x.dtype),
                self._mat_shape,
            )
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


def _check_elements(probe: Probe, elements: object) -> np.ndarray:
    """Indices of the kept receive elements from a boolean mask (all elements for ``None``)."""
    if elements is None:
        return np.arange(probe.n_elements)
    m = as_numpy_mask("elements", elements)
    if m.shape != (probe.n_elements,) or not m.any():
        raise ValueError(
            f"elements must be a boolean mask of shape ({probe.n_elements},) keeping at least one element, "
            f"got {m.dtype} {m.shape} with {int(m.sum())} kept"
        )
    return np.flatnonzero(m)


def _check_grid(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, z = np.asarray(x, float), np.asarray(z, float)
    if x.ndim != 1 or z.ndim != 1 or x.size < 1 or z.size < 1:
        raise ValueError(f"x and z must be non-empty 1-D grids, got shapes {x.shape} and {z.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(z))):
        raise ValueError("x and z must be finite")
    if z.min() <= 0:
        raise ValueError(
            f"image grid outside the field of view: z must be > 0 (in front of the probe), "
            f"got min z = {z.min()}"
        )
    return x, z


class PulseEcho(_SparseOp):
    """Born pulse-echo operator: reflectivity ``(nz, nx)`` -> IQ ``(n_transmits, n_elements, n_samples)``.

    Stored as a sparse matrix (the pulse has compact support, +-3 sigma), built once on
    the host and moved to the input's device once; applied with the backend's sparse
    product: ``O(nnz)`` per application on every backend.

    Parameters
    ----------
    probe : Probe
    transmits : sequence of Transmit
    x, z : 1-D arrays (m)
        Image grid (lateral, depth); the grid must lie in front of the probe (``z > 0``).
    fs : float, optional
        IQ sampling frequency (default ``2 fc``: IQ is baseband, so ``fs`` need only
        exceed the pulse-echo bandwidth, ``0.77 fc / sqrt 2`` at -6 dB for the L11-5v).
    n_samples : int, optional
        Fast-time samples (default: enough for the deepest pixel at the widest angle).
    c : float
        Speed of sound (m/s).
    attenuation : float
        dB/cm/MHz (0 for none).
    t0 : float or sequence of float
        Acquisition start (s) after the first element fires, one for all transmits or one each.
    elements : array of bool, shape ``(n_elements,)``, optional
        The receive elements kept (default: all). With ``M`` kept, ``oshape`` is
        ``(n_transmits, M, n_samples)``: the rows of ``ChannelSubsampling(...) @ PulseEcho(...)``
        without computing (or storing) the dropped channels, ``n_elements / M`` times fewer entries.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.ultrasound import Probe, PulseEcho, plane_waves
    >>> P = Probe.l11_5v()
    >>> keep = np.arange(P.n_elements) % 4 == 0
    >>> A = PulseEcho(P, plane_waves([0]), np.zeros(1), np.array([10e-3]), elements=keep)
    >>> A.oshape[:2]
    (1, 32)
    """

    def __init__(
        self,
        probe: Probe,
        transmits: Sequence[Transmit],
        x: np.ndarray,
        z: np.ndarray,
        *,
        fs: float | None = None,
        n_samples: int | None = None,
        c: float = C_SOUND,
        attenuation: float = 0.0,
        t0: float | Sequence[float] = 0.0,
        elements: np.ndarray | None = None,
    ):
        x, z = _check_grid(x, z)
        self.probe, self.transmits, self.x, self.z = probe, _check_sequence(probe, transmits), x, z
        self.c = check_scalar("c", c, low=0, low_open=True)
        self.fs = check_scalar("fs", fs if fs is not None else 2 * probe.fc, low=0, low_open=True)
        check_scalar("attenuation", attenuation, low=0)
        t0s = t0_per_transmit(t0, len(self.transmits))
        self.t0 = t0s
        self.elements = _check_elements(probe, elements)
        Z, X = np.meshgrid(z, x, indexing="ij")
        xe = probe.x
        half = 3.0 * _sigma_t(probe)
        if n_samples is None:
            far = float(np.max(np.hypot(X[..., None] - xe, Z[..., None]))) / c + half
            n_samples = max(
                math.ceil((float(np.max(tr.arrival(probe, X, Z, c))) + far - t0s[s]) * self.fs) + 1
                for s, tr in enumerate(self.transmits)
            )
        self.n_samples = ns = check_int("n_samples", n_samples, low=1)
        nx, nz, ne, nt = x.size, z.size, int(self.elements.size), len(self.transmits)
        taps = 2 * math.ceil(half * self.fs) + 1
        check_memory("PulseEcho matrix", nt * ne * nz * nx * taps, 32)
        super().__init__((nz, nx), (nt, ne, ns), "complex128")
        rows, cols, vals = [], [], []
        for si, tr in enumerate(self.transmits):
            r_, c_, v_ = _echo_entries(
                probe, tr, X.ravel(), Z.ravel(), self.fs, ns, c, attenuation, t0s[si], self.elements
            )
            rows.append(r_ + si * ne * ns)
            cols.append(c_)
            vals.append(v_)
        self._init_sparse(
            np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), (nt * ne * ns, nz * nx)
        )

    def _apply(self, x: Array) -> Array:
        return self._spmv(x, self.size_in, self.oshape, adjoint=False)

    def _adjoint(self, y: Array) -> Array:
        return self._spmv(y, self.size_out, self.ishape, adjoint=True)


def _echo_blocks(
    probe: Probe,
    tr: Transmit,
    xv: np.ndarray,
    zv: np.ndarray,
    fs: float,
    c: float,
    attenuation: float,
    t0: float,
    elements: np.ndarray | None = None,
    weights: np.ndarray | None = None,
):
    """Per receive element (the ``k``-th of ``elements``, default all): ``(k, n, v)``, the sample indices
    ``n`` and Born-model IQ values ``v`` (times ``weights`` per point), both ``(n_points, taps)``.

    ``n`` may fall outside ``[0, n_samples)``: callers drop (or zero) those entries. The
    envelope depends only on the offset ``n - (tau - t0) fs`` of each tap from the echo's
    centre, so it is one real exponential per entry and one complex factor per point.
    """
    s = _sigma_t(probe) * fs  # envelope std in samples
    half = math.ceil(3.0 * s)
    taps = np.arange(-half, half + 1)
    xe = probe.x
    ttx = tr.arrival(probe, xv, zv, c)
    amp_tx = tr.spreading(xv, zv)
    if attenuation:
        amp_tx = amp_tx * 10 ** (-attenuation * probe.fc / 1e6 * 2 * zv * 100 / 20)
    if weights is not None:
        amp_tx = amp_tx * weights
    for k, e in enumerate(range(xe.size) if elements is None else elements):
        dx = xv - xe[e]
        r = np.hypot(dx, zv)
        tau = ttx + r / c
        pos = (tau - t0) * fs
        n0 = np.rint(pos)
        g = (amp_tx * _directivity(probe, dx, zv, c) / np.maximum(r, probe.pitch)) * np.exp(
            -2j * math.pi * probe.fc * tau
        )
        d = (n0 - pos)[:, None] + taps
        yield k, n0.astype(np.int64)[:, None] + taps, g[:, None] * np.exp((-0.5 / s**2) * (d * d))


def _echo_entries(
    probe: Probe,
    tr: Transmit,
    xv: np.ndarray,
    zv: np.ndarray,
    fs: float,
    ns: int,
    c: float,
    attenuation: float,
    t0: float,
    elements: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries of one transmit: rows ``k * ns + n`` (``k``-th of ``elements``, default all), columns =
    point index, Born-model IQ values."""
    pts = np.arange(xv.size)
    rows, cols, vals = [], [], []
    for k, n, v in _echo_blocks(probe, tr, xv, zv, fs, c, attenuation, t0, elements):
        keep = (n >= 0) & (n < ns)
        if keep.all():
            rows.append((k * ns + n).ravel())
            cols.append(np.repeat(pts, n.shape[1]))
            vals.append(v.ravel())
        else:
            rows.append((k * ns + n)[keep])
            cols.append(np.broadcast_to(pts[:, None], n.shape)[keep])
            vals.append(v[keep])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _simulate_transmit(
    probe: Probe, tr: Transmit, x: np.ndarray, z: np.ndarray, amplitude: np.ndarray, fs: float, ns: int,
    c: float, attenuation: float, t0: float,
) -> np.ndarray:
    """IQ ``(n_elements, ns)`` of one transmit: each element's echoes summed by sample index."""
    out = np.zeros((probe.n_elements, ns), dtype=complex)
    for k, n, v in _echo_blocks(probe, tr, x, z, fs, c, attenuation, t0, weights=amplitude):
        ok = (n >= 0) & (n < ns)
        if not ok.all():
            v, n = np.where(ok, v, 0), np.clip(n, 0, ns - 1)
        n = n.ravel()
        out[k] = np.bincount(n, weights=v.real.ravel(), minlength=ns) + 1j * np.bincount(
            n, weights=v.imag.ravel(), minlength=ns
        )
    return out


def simulate(
    probe: Probe,
    transmits: Sequence[Transmit],
    x: np.ndarray,
    z: np.ndarray,
    amplitude: np.ndarray,
    *,
    fs: float,
    n_samples: int,
    c: float = C_SOUND,
    attenuation: float = 0.0,
    t0: float | Sequence[float] = 0.0,
) -> np.ndarray:
    """IQ channel data ``(n_transmits, n_elements, n_samples)`` of point scatterers (off-grid).

    The same Born model as :class:`PulseEcho`, evaluated at the scatterers' exact
    positions (NumPy, for simulation). ``x, z, amplitude`` are 1-D, one entry per
    scatterer; ``t0`` as in :class:`PulseEcho`.

    Parameters
    ----------
    probe : Probe
        The linear array.
    transmits : sequence of Transmit
        The transmit sequence (one output row each).
    x, z : array, shape ``(n_scatterers,)``
        Scatterer positions (m): lateral, and depth with every ``z > 0``.
    amplitude : array, shape ``(n_scatterers,)``
        Reflectivities (real or complex).
    fs : float
        IQ sampling rate (Hz), ``> 0``.
    n_samples : int
        Samples per channel, ``>= 1`` (memory-checked: ``16 n_transmits n_elements n_samples``
        bytes).
    c : float, default 1540.0
        Speed of sound (m/s), ``> 0``.
    attenuation : float, default 0.0
        Attenuation ``alpha >= 0`` (dB/cm/MHz), applied at ``fc`` over the two-way path ``2 z``.
    t0 : float or sequence of float, default 0.0
        Acquisition start (s) after the first element fires: one for all transmits or one per
        transmit, finite.

    Returns
    -------
    numpy.ndarray of complex128, shape ``(n_transmits, n_elements, n_samples)``
        The IQ channel data at ``t = t0_s + n / fs``.
    """
    transmits = _check_sequence(probe, transmits)
    x, z, amplitude = (np.asarray(v) for v in (x, z, amplitude))
    if not (x.ndim == z.ndim == amplitude.ndim == 1 and x.size == z.size == amplitude.size):
        raise ValueError(
            f"x, z and amplitude must be 1-D of one length, got shapes {x.shape}, {z.shape}, "
            f"{amplitude.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(z)) and np.all(np.isfinite(amplitude))):
        raise ValueError("x, z and amplitude must be finite (a NaN or Inf scatterer would be dropped)")
    if z.size and z.min() <= 0:
        raise ValueError("scatterers must lie in front of the probe (z > 0)")
    fs = check_scalar("fs", fs, low=0, low_open=True)
    n_samples = check_int("n_samples", n_samples, low=1)
    c = check_scalar("c", c, low=0, low_open=True)
    attenuation = check_scalar("attenuation", attenuation, low=0)
    t0s = t0_per_transmit(t0, len(transmits))
    ne = probe.n_elements
    check_memory("simulated channel data", len(transmits) * ne * n_samples, 16)
    out = [
        _simulate_transmit(probe, tr, x, z, amplitude, fs, n_samples, c, attenuation, t0s[s])
        for s, tr in enumerate(transmits)
    ]
    return np.stack(out)


def simulate_rf(
    probe: Probe,
    transmits: Sequence[Transmit],
    x: np.ndarray,
    z: np.ndarray,
    amplitude: np.ndarray,
    *,
    fs: float,
    n_samples: int,
    c: float = C_SOUND,
    attenuation: float = 0.0,
    t0: float | Sequence[float] = 0.0,
) -> np.ndarray:
    """Real RF ``Re(IQ e^{j 2 pi fc t})`` of :func:`simulate` at ``t = t0_s + n / fs`` (same arguments).

    ``fs`` must exceed twice the highest frequency of the pulse (``fc (1 + B)``, B the fractional
    bandwidth) for the RF to be a faithful sampling; scanners that sample lower (band-pass
    sampling) are modelled by simulating here at a high rate and decimating.

    Parameters
    ----------
    probe, transmits, x, z, amplitude, fs, n_samples, c, attenuation, t0
        As in :func:`simulate` (``fs`` is now the RF sampling rate, Hz).

    Returns
    -------
    numpy.ndarray of float64, shape ``(n_transmits, n_elements, n_samples)``
        The RF channel data.
    """
    transmits = _check_sequence(probe, transmits)
    iq = simulate(
        probe, transmits, x, z, amplitude, fs=fs, n_samples=n_samples, c=c, attenuation=attenuation, t0=t0
    )
    t = t0_per_transmit(t0, len(transmits))[:, None, None] + np.arange(n_samples) / fs
    return np.real(iq * np.exp(2j * math.pi * probe.fc * t))
