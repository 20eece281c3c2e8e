r"""Delay-and-sum beamforming restricted to each pixel's f-number aperture (direct and as a sparse matrix).

For pixel ``p = (x, z)``, transmit ``s`` and element ``e`` within the receive
aperture ``|x - x_e| <= z / (2 F#)``, the IQ of ``(s, e)`` is linearly
interpolated at the two-way delay ``tau = tau_s(p) + |p - (x_e, 0)| / c`` (at
sample ``(tau - t0_s) fs``), rotated by ``e^{j 2 pi f_c tau}``, weighted by the
Hann (or boxcar) apodization of ``|x - x_e| / (z / (2 F#))``, and summed over
elements and transmits (coherent compounding):

.. math:: I(p) = \sum_s \sum_{e \in \mathcal A(p)} a_e(p)\, e^{j 2\pi f_c \tau_{s,e}(p)}\,
          \mathrm{IQ}_{s,e}\big((\tau_{s,e}(p) - t_{0,s}) f_s\big).

Only elements inside the aperture are visited: the plan holds, per block of
image rows of similar aperture, an ``(n_pixels, K)`` table of sample indices and
the two interpolation weights (ELLPACK layout, ``K`` the widest aperture in the
block summed over transmits). :func:`das` applies it with two gathers and two
``vecdot`` reductions on the input's namespace and device; :func:`das_matrix`
returns the same entries as a ``scipy.sparse`` CSR matrix.

References
----------
V. Perrot, M. Polichetti, F. Varray, D. Garcia, "So you think you can DAS? A viewpoint on
delay-and-sum beamforming", Ultrasonics 2021. G. Montaldo et al., "Coherent plane-wave
compounding for very high frame rate ultrasonography", IEEE TUFFC 2009.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_memory, check_scalar
from ..backend import Array, ArrayCache, array_namespace
from .probe import C_SOUND, Probe, Transmit, _check_sequence, t0_per_transmit
from .pulse_echo import _check_grid

__all__ = ["das", "das_matrix"]

_ROWS_PER_BLOCK_MAX = 64


@dataclass
class _Block:
    """Rows ``[r0, r1)`` of the image: gather indices and conjugated weights, ``(n_pix, K)`` each."""

    r0: int
    r1: int
    idx: np.ndarray
    w0: np.ndarray
    w1: np.ndarray
    valid: np.ndarray


def _aperture_range(probe: Probe, xv: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First element and count of elements with ``|x - x_e| <= half`` (a contiguous run on a linear array)."""
    x0, p, ne = probe.x[0], probe.pitch, probe.n_elements
    lo = np.clip(np.ceil((xv - half - x0) / p - 1e-9), 0, ne).astype(np.int64)
    hi = np.clip(np.floor((xv + half - x0) / p + 1e-9), -1, ne - 1).astype(np.int64)
    return lo, np.maximum(hi - lo + 1, 0)


def _block_entries(
    probe: Probe,
    transmits: Sequence[Transmit],
    arrivals: list[np.ndarray],
    xv: np.ndarray,
    zv: np.ndarray,
    fs: float,
    ns: int,
    c: float,
    f_number: float,
    apodization: str,
    t0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entries of the pixels ``(xv, zv)`` for all transmits: ``(n_pix, sum_s K)`` index, w0, w1, valid."""
    xe, ne = probe.x, probe.n_elements
    half = zv / (2 * f_number)
    lo, count = _aperture_range(probe, xv, half)
    k = max(int(count.max()), 1)
    j = np.arange(k)
    e = np.minimum(lo[:, None] + j, ne - 1)
    inside = j < count[:, None]
    dx = xv[:, None] - xe[e]
    r = np.hypot(dx, zv[:, None])
    u = np.abs(dx) / half[:, None]
    if apodization == "hann":
        apo = 0.5 + 0.5 * np.cos(math.pi * np.minimum(u, 1.0))
    else:
        apo = np.ones_like(u)
    apo = np.where(inside, apo, 0.0)
    out_idx, out_w0, out_w1, out_ok = [], [], [], []
    for s, ttx in enumerate(arrivals):
        tau = ttx[:, None] + r / c
        pos = (tau - t0[s]) * fs
        i0 = np.floor(pos).astype(np.int64)
        frac = pos - i0
        ok = inside & (i0 >= 0) & (i0 + 1 < ns)
        w = np.where(ok, apo, 0.0) * np.exp(2j * math.pi * probe.fc * tau)
        out_idx.append(np.where(ok, (s * ne + e) * ns + i0, 0))
        out_w0.append(w * (1 - frac))
        out_w1.append(w * frac)
        out_ok.append(ok)
    cat = np.concatenate
    return cat(out_idx, 1), cat(out_w0, 1), cat(out_w1, 1), cat(out_ok, 1)


def _plan_blocks(
    probe: Probe,
    transmits: Sequence[Transmit],
    x: np.ndarray,
    z: np.ndarray,
    fs: float,
    ns: int,
    c: float,
    f_number: float,
    apodization: str,
    t0: np.ndarray,
) -> list[_Block]:
    """The ELLPACK blocks of the whole image: rows grouped so a block's aperture varies by < ~12 %."""
    Z, X = np.meshgrid(z, x, indexing="ij")
    arrivals_full = [tr.arrival(probe, X, Z, c) for tr in transmits]
    width = np.minimum(z / (f_number * probe.pitch) + 1, probe.n_elements)
    blocks, r0 = [], 0
    nz, nx = z.size, x.size
    total = nz * nx * float(width.max()) * len(transmits)
    check_memory("DAS plan", total, 8 + 16 + 16 + 1)
    while r0 < nz:
        r1 = r0 + 1
        while (
            r1 < nz
            and r1 - r0 < _ROWS_PER_BLOCK_MAX
            and abs(width[r1] - width[r0]) <= 0.12 * max(width[r0], width[r1]) + 1
        ):
            r1 += 1
        sl = slice(r0 * nx, r1 * nx)
        idx, w0, w1, ok = _block_entries(
            probe,
            transmits,
            [a.ravel()[sl] for a in arrivals_full],
            X.ravel()[sl],
            Z.ravel()[sl],
            fs,
            ns,
            c,
            f_number,
            apodization,
            t0,
        )
        blocks.append(_Block(r0, r1, idx, w0, w1, ok))
        r0 = r1
    return blocks


def _check_das(
    probe: Probe,
    transmits: Sequence[Transmit],
    x: Any,
    z: Any,
    fs: Any,
    ns: int,
    c: Any,
    f_number: Any,
    apodization: str,
    t0: Any,
):
    transmits = _check_sequence(probe, transmits)
    x, z = _check_grid(x, z)
    fs = check_scalar("fs", fs, low=0, low_open=True)
    c = check_scalar("c", c, low=0, low_open=True)
    f_number = check_scalar("f_number", f_number, low=0, low_open=True)
    check_choice("apodization", apodization, ("hann", "boxcar"))
    ns = check_int("n_samples", ns, low=2)
    return transmits, x, z, fs, ns, c, f_number, t0_per_transmit(t0, len(transmits))


_PLAN_CACHE: dict = {}


def _das_plan(probe, transmits, x, z, fs, ns, c, f_number, apodization, t0) -> list[tuple]:
    """The blocks as device-cached arrays, per geometry (built once, reused for every frame)."""
    key = (probe, tuple(transmits), x.tobytes(), z.tobytes(), fs, ns, c, f_number, apodization, t0.tobytes())
    plan = _PLAN_CACHE.get(key)
    if plan is None:
        blocks = _plan_blocks(probe, transmits, x, z, fs, ns, c, f_number, apodization, t0)
        plan = [
            (
                b.r1 - b.r0,
                ArrayCache(b.idx.ravel()),
                ArrayCache(np.conj(b.w0)),
                ArrayCache(np.conj(b.w1)),
                b.idx.shape,
            )
            for b in blocks
        ]
        if len(_PLAN_CACHE) >= 4:
            _PLAN_CACHE.clear()
        _PLAN_CACHE[key] = plan
    return plan


def das(
    iq: Array,
    probe: Probe,
    transmits: Sequence[Transmit],
    x: np.ndarray,
    z: np.ndarray,
    *,
    fs: float,
    c: float = C_SOUND,
    f_number: float = 1.5,
    apodization: str = "hann",
    t0: float | Sequence[float] = 0.0,
) -> Array:
    """Delay-and-sum beamforming of IQ ``(..., n_transmits, n_elements, n_samples)`` onto ``(..., nz, nx)``.

    Parameters
    ----------
    iq : array (..., n_transmits, n_elements, n_samples)
        Complex IQ channel data (leading axes, e.g. frames, are beamformed together).
    probe : Probe
    transmits : sequence of Transmit
    x, z : 1-D arrays (m)
        Image grid; ``z > 0``.
    fs : float
        IQ sampling frequency (Hz).
    c : float
        Speed of sound (m/s).
    f_number : float
        Receive f-number: the aperture at depth ``z`` is ``|x - x_e| <= z / (2 F#)``.
    apodization : {'hann', 'boxcar'}
    t0 : float or sequence of float
        Time of the first sample (s) after the first element fires, one for all transmits or one each.

    Returns
    -------
    array (..., nz, nx)
        Complex image in ``iq``'s namespace, device and dtype.

    Notes
    -----
    The delays and weights are computed once per geometry on the host (only inside
    each pixel's aperture) and moved to the input's device once; a frame then costs
    two gathers and two ``vecdot`` reductions per block of image rows: ``O(sum of
    apertures)``, the work of :func:`das_matrix`'s sparse product, on every backend.

    References
    ----------
    Perrot et al., Ultrasonics 2021; Montaldo et al., IEEE TUFFC 2009.
    """
    if not hasattr(iq, "shape") or iq.ndim < 3:
        raise ValueError(
            f"iq must have shape (..., n_transmits, n_elements, n_samples), "
            f"got {getattr(iq, 'shape', type(iq).__name__)}"
        )
    xp = array_namespace(iq)
    if not xp.isdtype(iq.dtype, "complex floating"):
        raise TypeError(f"iq must be complex IQ data (demodulate RF with rf2iq), got dtype {iq.dtype}")
    nt, ne, ns = iq.shape[-3:]
    transmits = _check_sequence(probe, transmits)
    if nt != len(transmits):
        raise ValueError(f"iq has {nt} transmits, the sequence has {len(transmits)}")
    if ne != probe.n_elements:
        raise ValueError(f"iq has {ne} elements, the probe has {probe.n_elements}")
    transmits, x, z, fs, ns, c, f_number, t0s = _check_das(
        probe, transmits, x, z, fs, ns, c, f_number, apodization, t0
    )
    batch = tuple(iq.shape[:-3])
    flat = xp.reshape(iq, (*batch, nt * ne * ns))
    ahead = flat[..., 1:]  # sample i0 + 1 through the same index table
    rows = []
    for n_rows, idx, w0, w1, shape in _das_plan(
        probe, transmits, x, z, fs, ns, c, f_number, apodization, t0s
    ):
        ii = idx.like(flat)
        g0 = xp.reshape(xp.take(flat, ii, axis=-1), (*batch, *shape))
        g1 = xp.reshape(xp.take(ahead, ii, axis=-1), (*batch, *shape))
        img = xp.vecdot(w0.like(flat, flat.dtype), g0) + xp.vecdot(w1.like(flat, flat.dtype), g1)
        rows.append(xp.reshape(img, (*batch, n_rows, x.size)))
    return rows[0] if len(rows) == 1 else xp.concat(rows, axis=-2)


def das_matrix(
    probe: Probe,
    transmits: Sequence[Transmit],
    x: np.ndarray,
    z: np.ndarray,
    *,
    fs: float,
    n_samples: int,
    c: float = C_SOUND,
    f_number: float = 1.5,
    apodization: str = "hann",
    t0: float | Sequence[float] = 0.0,
) -> Any:
    """The DAS beamformer as a ``scipy.sparse`` CSR matrix ``(nz nx, n_transmits n_elements n_samples)``.

    ``(M @ iq.ravel()).reshape(nz, nx)`` equals :func:`das` (same arguments); two entries
    (the interpolation pair) per pixel, transmit and element of the pixel's aperture.

    Parameters
    ----------
    probe : Probe
        The linear array (``TypeError`` otherwise).
    transmits : sequence of Transmit
        Non-empty; explicit-delay transmits must have one delay per element.
    x, z : 1-D arrays
        Image grid (m), ``z > 0``.
    fs : float
        IQ sampling frequency (Hz), ``> 0``.
    n_samples : int
        Samples per channel of the data the matrix applies to, ``>= 2``.
    c : float, default 1540.0
        Speed of sound (m/s), ``> 0``.
    f_number : float, default 1.5
        Receive f-number ``> 0``: the aperture at depth ``z`` is ``|x - x_e| <= z / (2 F#)``.
    apodization : {"hann", "boxcar"}, default "hann"
        Receive apodization across the aperture.
    t0 : float or sequence of float, default 0.0
        Time of the first sample (s) after the first element fires, one for all transmits or one each.

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``(nz * nx, n_transmits * n_elements * n_samples)``
        Complex DAS weights (explicit zeros removed); rows in C order of ``(z, x)``.
    """
    import scipy.sparse

    transmits, x, z, fs, ns, c, f_number, t0s = _check_das(
        probe, transmits, x, z, fs, n_samples, c, f_number, apodization, t0
    )
    data, indices, counts = [], [], []
    for b in _plan_blocks(probe, transmits, x, z, fs, ns, c, f_number, apodization, t0s):
        ok2 = np.repeat(b.valid, 2, axis=1)
        data.append(np.stack([b.w0, b.w1], axis=-1).reshape(b.valid.shape[0], -1)[ok2])
        indices.append(np.stack([b.idx, b.idx + 1], axis=-1).reshape(b.valid.shape[0], -1)[ok2])
        counts.append(2 * b.valid.sum(axis=1))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
    M = scipy.sparse.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), indptr),
        shape=(x.size * z.size, len(transmits) * probe.n_elements * ns),
    )
    M.eliminate_zeros()  # interpolation weights that are exactly 0 (delay on a sample)
    return M
