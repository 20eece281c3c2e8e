"""Raw-data pre-processing before a parallel-imaging reconstruction: noise prewhitening, coil
compression (SVD and geometric) and a noise estimate from the k-space periphery.

All three work on k-space ``(..., coils, ..., ky, kx)`` with a named coil axis and return arrays of
the input's namespace and device. The coil-by-coil matrices (noise covariance, its Cholesky factor,
the calibration Gram matrices) are tiny (at most a few hundred squared): they are formed on the
device with ``matmul`` and factorised on the host with NumPy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_int, check_scalar
from ..backend import (
    Array,
    array_namespace,
    complex_dtype,
    device,
    fftn,
    fftshift,
    ifftn,
    ifftshift,
    to_numpy,
)

__all__ = ["coil_compress", "estimate_noise", "prewhiten"]


def _kspace(name: str, kspace: Any, coil_axis: int, min_ndim: int = 2) -> tuple[Any, Array, int]:
    k = check_array(name, kspace, min_ndim=min_ndim)
    xp = array_namespace(k)
    coil_axis = check_int("coil_axis", coil_axis, low=-k.ndim, high=k.ndim - 1) % k.ndim
    if not xp.isdtype(k.dtype, "complex floating"):
        k = xp.astype(k, complex_dtype(xp, k.dtype))
    return xp, k, coil_axis


def _coils_last(xp: Any, k: Array, coil_axis: int) -> Array:
    return xp.moveaxis(k, coil_axis, -1)


def _mix(xp: Any, k: Array, m: Array, coil_axis: int) -> Array:
    """``y_c' = sum_c m[c', c] y_c`` along the coil axis (``m`` is ``(C', C)``)."""
    y = _coils_last(xp, k, coil_axis)
    return xp.moveaxis(xp.matmul(y, xp.matrix_transpose(m)), -1, coil_axis)


def _noise_covariance(noise: Any) -> np.ndarray:
    """The sample covariance ``Psi = n n^H / N`` of noise samples ``(coils, N)``, on the host (complex128)."""
    n = check_array("noise", noise, ndim=2)
    xp = array_namespace(n)
    c, m = n.shape
    if m < c:
        raise ValueError(f"noise must hold at least as many samples as coils to give a definite covariance, "
                         f"got {m} samples for {c} coils")
    n = xp.astype(n, complex_dtype(xp, n.dtype)) if not xp.isdtype(n.dtype, "complex floating") else n
    g = xp.matmul(n, xp.conj(xp.matrix_transpose(n)))  # on the device: C x C
    return to_numpy(g).astype(np.complex128) / m


def _whitener(cov: np.ndarray) -> np.ndarray:
    """``W = L^{-1}`` for the Cholesky factor ``Psi = L L^H``: then ``W Psi W^H = I``."""
    if not np.allclose(cov, cov.conj().T, rtol=1e-5, atol=1e-12 * np.abs(cov).max()):
        raise ValueError("covariance must be Hermitian")
    try:
        low = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("covariance must be positive definite (is a coil dead, or are there fewer noise "
                         "samples than coils?)") from None
    return np.linalg.inv(low)


def prewhiten(kspace: Any, noise: Any = None, *, covariance: Any = None, coil_axis: int = -3,
              dwell_ratio: float = 1.0) -> tuple[Array, Array]:
    """Noise prewhitening: decorrelate the coils and give each unit noise variance.

    With the noise covariance ``Psi = n n^H / N`` of noise-only samples ``n`` (``coils x N``; a
    noise pre-scan, ``RawMRI.noise``) and its Cholesky factor ``Psi = L L^H``, the
    whitening matrix is ``W = L^{-1}`` and the whitened data ``y' = W y`` (along the coil axis)
    have noise covariance ``W Psi W^H = I``. A SENSE reconstruction of ``y'`` with coil maps
    estimated from ``y'`` is then the maximum-likelihood one (Pruessmann et al. 1999).

    Parameters
    ----------
    kspace : array, ``(..., coils, ...)``
        k-space (or coil images: the operation is per sample).
    noise : array ``(coils, N)``, optional
        Noise-only samples, ``N >= coils``.
    covariance : array ``(coils, coils)``, optional
        A noise covariance to use instead of ``noise`` (Hermitian positive definite).
    coil_axis : int
        The coil axis of ``kspace`` (``-3`` for ``(..., coils, ky, kx)``; :attr:`csbox.io.RawMRI.coil_axis`).
    dwell_ratio : float
        Noise dwell time over the data's (``raw.header.noise_dwell_us / raw.header.dwell_us``): white
        noise sampled over a bandwidth ``1 / dwell`` has variance proportional to ``1 / dwell``, so
        the data's covariance is ``Psi * dwell_ratio``.

    Returns
    -------
    whitened : array
        ``W y``, shaped like ``kspace``, complex, in its namespace and device.
    whitening : array ``(coils, coils)``
        ``W`` (lower triangular), in the same namespace.

    Raises
    ------
    ValueError
        Neither or both of ``noise`` and ``covariance``; a coil count that differs from the data's;
        a covariance that is not Hermitian positive definite.

    References
    ----------
    Pruessmann, Weiger, Scheidegger, Boesiger, "SENSE: sensitivity encoding for fast MRI",
    MRM 42:952 (1999), Appendix; Kellman & McVeigh, "Image reconstruction in SNR units", MRM 54:1439 (2005).
    """
    xp, k, coil_axis = _kspace("kspace", kspace, coil_axis)
    dwell_ratio = check_scalar("dwell_ratio", dwell_ratio, low=0.0, low_open=True)
    if (noise is None) == (covariance is None):
        raise ValueError("prewhiten needs exactly one of noise (coils, N) and covariance (coils, coils)")
    c = k.shape[coil_axis]
    if noise is not None:
        cov = _noise_covariance(noise)
    else:
        cov = to_numpy(check_array("covariance", covariance, ndim=2)).astype(np.complex128)
    if cov.shape != (c, c):
        raise ValueError(f"{'noise' if noise is not None else 'covariance'} has {cov.shape[0]} coils, "
                         f"kspace {c} along coil_axis {coil_axis}")
    w = _whitener(cov * dwell_ratio)
    wd = xp.asarray(w.astype(_np_dtype(xp, k)), device=device(k))
    return _mix(xp, k, wd, coil_axis), wd


def estimate_noise(kspace: Any, *, coil_axis: int = -3, fraction: float = 0.05) -> Array:
    """The noise covariance estimated from the outer k-space, where the object's signal has decayed.

    The sampled k-space positions (non-zero on some coil) are ranked by their normalised radius
    ``r = sqrt(sum_i ((k_i - n_i / 2) / (n_i / 2))^2)`` over the non-coil axes, and the outermost
    ``fraction`` of them give ``Psi = sum y y^H / M``. The signal left there (sharp edges decay only
    as ``1 / k``) biases the estimate upwards, by little on a smooth object with enough
    oversampling; prefer a noise scan when the file has one.

    Parameters
    ----------
    kspace : array, ``(..., coils, ..., ky, kx)``
        Centred k-space (DC at ``n // 2``); leading axes (slices) are pooled.
    coil_axis : int
        The coil axis.
    fraction : float in (0, 0.5]
        Share of the sampled positions used (at least ``2 coils`` positions are taken).

    Returns
    -------
    array ``(coils, coils)``
        The covariance estimate (Hermitian), in the input's namespace; pass it to
        :func:`prewhiten` as ``covariance``. ``real(trace) / coils`` is the mean noise variance.
    """
    xp, k, coil_axis = _kspace("kspace", kspace, coil_axis, min_ndim=2)
    fraction = check_scalar("fraction", fraction, low=0.0, high=0.5, low_open=True)
    y = xp.moveaxis(k, coil_axis, 0)
    c = y.shape[0]
    y = xp.reshape(y, (c, -1))
    grid = k.shape[:coil_axis] + k.shape[coil_axis + 1:]
    # radius over the axes behind the coil axis (the k-space axes); leading axes are a batch
    kaxes = [i for i in range(len(grid)) if i >= coil_axis]
    r2 = np.zeros(grid)
    for i in kaxes:
        n = grid[i]
        t = (np.arange(n) - n // 2) / max(n / 2, 1.0)
        r2 = r2 + np.reshape(t * t, [n if j == i else 1 for j in range(len(grid))])
    sampled = to_numpy(xp.any(y != 0, axis=0))
    cand = np.flatnonzero(sampled)
    if cand.size < 2 * c:
        raise ValueError(f"kspace has {cand.size} sampled positions, too few for a {c}-coil noise covariance")
    m = min(cand.size, max(2 * c, math.ceil(fraction * cand.size)))
    pick = cand[np.argsort(r2.ravel()[cand], kind="stable")[-m:]]
    s = xp.take(y, xp.asarray(pick, device=device(k)), axis=1)
    return xp.matmul(s, xp.conj(xp.matrix_transpose(s))) / float(m)


def _central(xp: Any, y: Array, calib: int | None, axes: list[int]) -> Array:
    """The central ``calib`` entries of each of ``axes`` (all of them when ``calib`` is None)."""
    if calib is None:
        return y
    sl: list[Any] = [slice(None)] * y.ndim
    for ax in axes:
        n = y.shape[ax]
        w = min(calib, n)
        sl[ax] = slice(n // 2 - w // 2, n // 2 - w // 2 + w)
    return y[tuple(sl)]


def _top_vectors(gram: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvectors of Hermitian ``gram`` (``(..., C, C)``) for its ``n`` largest eigenvalues, descending."""
    vals, vecs = np.linalg.eigh(gram)  # ascending
    return vecs[..., ::-1][..., :n], vals[..., ::-1]


def _align(v: np.ndarray) -> np.ndarray:
    """Rotate each ``v[x]`` (``C x n``) within its span to be closest to its neighbour, outwards from the
    centre: ``v[x] <- v[x] Q`` with ``Q = U W^H`` from ``v[x]^H v[x -+ 1] = U S W^H`` (orthogonal
    Procrustes), so the compressed virtual coils vary smoothly along the readout (Zhang et al. 2013)."""
    out = v.copy()
    c = v.shape[0] // 2
    for order in (range(c + 1, v.shape[0]), range(c - 1, -1, -1)):
        for x in order:
            prev = out[x - 1] if x > c else out[x + 1]
            u, _, wh = np.linalg.svd(out[x].conj().T @ prev)
            out[x] = out[x] @ (u @ wh)
    return out


def _readout_fft(xp: Any, y: Array, axis: int, inverse: bool) -> Array:
    f = ifftn if inverse else fftn
    return fftshift(f(ifftshift(y, axes=(axis,)), axes=(axis,)), axes=(axis,))


def coil_compress(kspace: Any, n_coils: int, *, method: str = "svd", calib: int | None = 24,
                  coil_axis: int = -3, readout_axis: int = -1) -> tuple[Array, Array]:
    """Compress the receive channels to ``n_coils`` virtual coils.

    **SVD** (Buehrer et al. 2007, Huang et al. 2008): with the calibration samples ``y`` (one
    coil vector per k-space position) and their correlation ``R = sum y y^H = V S^2 V^H``, the
    virtual coils are ``z = V_n^H y`` for the ``n`` leading eigenvectors (the singular vectors of
    the calibration matrix); they keep the energy ``sum_{i<n} s_i^2`` of the calibration data, the
    most any ``n`` orthonormal combinations of the coils can keep (Eckart-Young).

    **Geometric** (Zhang, Pauly, Vasanawala, Lustig 2013): after an inverse FFT along the (fully sampled)
    readout, each readout position ``x`` gets its own SVD compression ``V_n(x)^H``, so the
    compression follows the coil profiles along ``x`` and keeps at least the SVD's energy at every
    ``x``; neighbouring matrices are aligned (``V_n(x) <- V_n(x) Q_x``, ``Q_x`` the unitary closest
    to ``V_n(x)^H V_n(x -+ 1)``, outwards from the centre) so the virtual coils stay smooth in ``x``
    and coil maps can be estimated from them; the data go back to k-space afterwards.

    Parameters
    ----------
    kspace : array, ``(..., coils, [kz,] ky, kx)``
        Centred k-space; axes before the coil axis (slices) share one compression.
    n_coils : int
        Virtual coils kept, ``1 <= n_coils <= coils``.
    method : {"svd", "geometric"}
        One matrix for all samples, or one per readout position.
    calib : int or None
        Calibration region: the central ``calib`` lines of each phase-encoding axis (the whole
        readout); None uses all the data.
    coil_axis : int
        The coil axis.
    readout_axis : int
        The readout (frequency-encoding) axis, behind the coil axis.

    Returns
    -------
    compressed : array
        ``kspace`` with ``n_coils`` along the coil axis, in its namespace and device.
    matrices : array
        ``(n_coils, coils)`` for ``"svd"``, ``(nx, n_coils, coils)`` for ``"geometric"`` (one per
        readout position, applied in the hybrid ``(x, ky)`` space).

    References
    ----------
    Buehrer, Pruessmann, Boesiger, Kozerke, MRM 57:1131 (2007); Huang, Vijayakumar, Li, Hertel,
    Duensing, MRI 26:133 (2008); Zhang, Pauly, Vasanawala, Lustig, "Coil compression for accelerated
    imaging with Cartesian sampling", MRM 69:571 (2013).
    """
    xp, k, coil_axis = _kspace("kspace", kspace, coil_axis)
    method = check_choice("method", method, ("svd", "geometric"))
    c = k.shape[coil_axis]
    n = check_int("n_coils", n_coils, low=1, high=c)
    if calib is not None:
        calib = check_int("calib", calib, low=1)
    ro = check_int("readout_axis", readout_axis, low=-k.ndim, high=k.ndim - 1) % k.ndim
    if ro <= coil_axis:
        raise ValueError(f"readout_axis must be a k-space axis behind coil_axis {coil_axis}, "
                         f"got {readout_axis}")
    y = xp.moveaxis(k, coil_axis, -1)  # (..., [kz,] ky, kx, C) : the k-space axes keep their order
    ro = ro - 1
    pe = [a for a in range(coil_axis, y.ndim - 1) if a != ro]
    cal = _central(xp, y, calib, pe)
    if method == "svd":
        a = xp.reshape(cal, (-1, c))
        g = to_numpy(xp.matmul(xp.matrix_transpose(a), xp.conj(a))).astype(np.complex128)  # sum y y^H
        v, _ = _top_vectors(g, n)
        m = xp.asarray(np.ascontiguousarray(v.conj().T).astype(_np_dtype(xp, k)), device=device(k))
        return _mix(xp, k, m, coil_axis), m
    h = xp.moveaxis(_readout_fft(xp, cal, ro, True), ro, 0)  # (nx, ..., C)
    nx = h.shape[0]
    a = xp.reshape(h, (nx, -1, c))
    g = to_numpy(xp.matmul(xp.matrix_transpose(a), xp.conj(a))).astype(np.complex128)  # (nx, C, C)
    v, _ = _top_vectors(g, n)
    mats = np.ascontiguousarray(np.conj(np.swapaxes(_align(v), -1, -2)))  # (nx, n, C)
    md = xp.asarray(mats.astype(_np_dtype(xp, k)), device=device(k))
    yh = xp.moveaxis(_readout_fft(xp, y, ro, True), ro, -2)  # (..., nx, C)
    z = xp.matmul(yh[..., None, :], xp.matrix_transpose(md))[..., 0, :]  # (..., nx, n)
    z = _readout_fft(xp, xp.moveaxis(z, -2, ro), ro, False)
    return xp.moveaxis(z, -1, coil_axis), md


def _np_dtype(xp: Any, k: Array) -> Any:
    return np.complex64 if k.dtype == xp.complex64 else np.complex128
