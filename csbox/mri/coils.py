"""Coil sensitivity estimation: ESPIRiT, Walsh's adaptive combine, root-sum-of-squares.

Both estimators end in a per-pixel Hermitian eigenproblem ``H(r) s = lam s``
(``n_coils x n_coils`` at every pixel). It is solved in blocks of pixels with
batched array-API linear algebra, so it runs on any backend (and on a GPU) and
its memory stays bounded (a block holds at most ``_BLOCK`` matrix entries).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .._validation import check_array, check_choice, check_int, check_memory, check_scalar
from ..backend import Array, array_namespace, complex_dtype, device, fftn, ifftn, real_dtype, to_numpy

__all__ = ["espirit_maps", "rss", "walsh_maps"]

_BLOCK = 1 << 21  # matrix entries per block of the per-pixel eigenproblem (32 MiB in complex128)


# ----------------------------------------------------------------------------- helpers
def rss(images: Array, axis: int = 0) -> Array:
    """Root-sum-of-squares coil combination ``sqrt(sum_c |x_c|^2)`` along ``axis``.

    Parameters
    ----------
    images : array
        Coil images (any namespace), coil axis ``axis`` (default 0, the csbox
        convention; ``-3`` for batched 2-D images shaped ``(..., C, n0, n1)``).
    axis : int

    Returns
    -------
    array
        Real, ``images`` without ``axis``, in the input's namespace and precision.

    References
    ----------
    P. B. Roemer, W. A. Edelstein, C. E. Hayes, S. P. Souza, O. M. Mueller,
    "The NMR phased array", MRM 16:192-225 (1990).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.mri import rss
    >>> coils = np.stack([np.full((2, 2), 3.0), np.full((2, 2), 4j)])
    >>> rss(coils)
    array([[5., 5.],
           [5., 5.]])
    """
    images = check_array("images", images, min_ndim=1)
    axis = check_int("axis", axis, low=-images.ndim, high=images.ndim - 1)
    xp = array_namespace(images)
    return xp.sqrt(xp.sum(xp.real(images * xp.conj(images)), axis=axis))


def _spatial(x: Array, ndim: int | None, what: str, min_coils: int = 1) -> tuple[int, tuple, int]:
    d = x.ndim - 1 if ndim is None else check_int("ndim", ndim, low=1)
    if x.ndim < d + 1:
        raise ValueError(f"{what} has shape {tuple(x.shape)}: expected (..., n_coils, *image_shape) "
                         f"with {d} image axes")
    n_coils = int(x.shape[-d - 1])
    if n_coils < min_coils:
        raise ValueError(f"{what} has {n_coils} coil(s); needs at least {min_coils}")
    return d, tuple(int(s) for s in x.shape[x.ndim - d :]), n_coils


def _principal_direction(cov: Array) -> Array:
    """Top eigenvector of a batch of Hermitian coil covariances ``(..., C, C)`` -> ``(..., C)``."""
    xp = array_namespace(cov)
    _, v = xp.linalg.eigh(cov)
    return v[..., -1]


def _fix_phase(maps: Array, ref: Array, d: int) -> Array:
    """Rotate each pixel's coil vector so that ``<ref, s(r)>`` is real and positive.

    ``maps``: ``(..., C, *N)``; ``ref``: ``(..., C)`` (a virtual coil, shaped ``maps.shape[:-d]``).
    The eigenvectors have an arbitrary phase per pixel; referring them to one
    fixed coil combination makes the phase smooth wherever the virtual coil sees
    signal (its weights never vanish inside the object, unlike a single coil's).
    """
    xp = array_namespace(maps)
    r = xp.reshape(ref, (*ref.shape, *([1] * d)))
    ip = xp.sum(xp.conj(r) * maps, axis=-d - 1, keepdims=True)
    mag = xp.abs(ip)
    tiny = xp.finfo(mag.dtype).smallest_normal
    phase = xp.where(mag > tiny, xp.conj(ip) / xp.where(mag > tiny, mag, 1.0), 1.0 + 0.0 * ip)
    return maps * phase


def _top_eigen(H: Array, n: int, method: str, start: Array, max_iter: int) -> tuple[Array, Array]:
    """Top-``n`` eigenpairs of Hermitian ``H`` ``(P, C, C)``: vectors ``(P, C, n)``, values ``(P, n)``.

    ``"eigh"``: the batched dense solver. ``"power"``: orthogonal (subspace)
    iteration from ``start`` ``(P, C, n)`` with Gram-Schmidt, ``max_iter``
    steps, and Rayleigh quotients (accurate where the eigengap is large: inside
    the object; pixels with a small gap have small eigenvalues and are cropped).
    """
    xp = array_namespace(H)
    if method == "eigh":
        w, v = xp.linalg.eigh(H)
        C = H.shape[-1]
        idx = list(range(C - 1, C - 1 - n, -1))
        return xp.stack([v[..., i] for i in idx], axis=-1), xp.stack([w[..., i] for i in idx], axis=-1)
    V = start
    for _ in range(max_iter):
        V = _orthonormalize(H @ V)
    HV = H @ V
    vals = xp.real(xp.sum(xp.conj(V) * HV, axis=-2))
    return V, vals


def _orthonormalize(V: Array) -> Array:
    """Modified Gram-Schmidt on the last axis' columns of ``(P, C, n)``, elementwise over P."""
    xp = array_namespace(V)
    cols = []
    for i in range(V.shape[-1]):
        v = V[..., i]
        for q in cols:
            v = v - xp.sum(xp.conj(q) * v, axis=-1, keepdims=True) * q
        nrm = xp.linalg.vector_norm(v, axis=-1, keepdims=True)
        v = v / xp.where(nrm > 0, nrm, 1.0)
        cols.append(v)
    return xp.stack(cols, axis=-1)


def _pad_end(x: Array, axis: int, size: int) -> Array:
    xp = array_namespace(x)
    extra = size - x.shape[axis]
    if extra <= 0:
        return x
    shape = list(x.shape)
    shape[axis] = extra
    return xp.concat([x, xp.zeros(tuple(shape), dtype=x.dtype, device=device(x))], axis=axis)


def _centre_slices(shape: tuple[int, ...], width: int) -> tuple[slice, ...]:
    return tuple(slice(n // 2 - width // 2, n // 2 - width // 2 + width) for n in shape)


# ----------------------------------------------------------------------------- ESPIRiT
def _calibration_matrix(cal: Array, k: int, d: int) -> Array:
    """Hankel-structured calibration matrix: rows = patches, columns = (coil, kernel offset).

    ``cal``: ``(*B, C, w, ..., w)`` -> ``(*B, (w-k+1)^d, C k^d)``.
    """
    xp = array_namespace(cal)
    w = int(cal.shape[-1])
    p = w - k + 1
    offsets = [()]
    for _ in range(d):
        offsets = [(*o, u) for o in offsets for u in range(k)]
    patches = []
    for o in offsets:
        sl = (..., *[slice(u, u + p) for u in o])
        patches.append(xp.reshape(cal[sl], (*cal.shape[:-d], p**d)))
    A = xp.stack(patches, axis=-2)  # (*B, C, k^d, p^d)
    A = xp.reshape(A, (*A.shape[:-3], A.shape[-3] * A.shape[-2], p**d))
    return xp.matrix_transpose(A)


def _signal_space(A: Array, threshold: float) -> tuple[Array, Array]:
    """Right singular vectors ``Vh`` (rows) of ``A`` and 0/1 weights ``sigma_j > threshold sigma_1``.

    From the eigen-decomposition of the smaller Gram matrix (``A^H A`` or ``A A^H``,
    at most ``min(rows, cols)^2``) rather than an SVD of ``A``: a third of the
    work, and the threshold on ``sigma^2 = lambda`` (``threshold^2 >= 1e-6``) sits
    far above the Gram matrix's rounding.
    """
    xp = array_namespace(A)
    AH = xp.conj(xp.matrix_transpose(A))
    rows, cols = A.shape[-2], A.shape[-1]
    if rows >= cols:
        lam, V = xp.linalg.eigh(AH @ A)  # ascending; columns = right singular vectors
        Vh = xp.conj(xp.matrix_transpose(V))
    else:
        lam, U = xp.linalg.eigh(A @ AH)
        sigma = xp.sqrt(xp.clip(lam, min=0.0))
        sig = xp.where(sigma > 0, sigma, 1.0)
        Vh = (xp.conj(xp.matrix_transpose(U)) @ A) / xp.expand_dims(sig, axis=-1)
    weights = xp.astype(lam > (threshold**2) * lam[..., -1:], real_dtype(xp, A.dtype))
    return Vh, weights


def _kernel_covariance(Vh: Array, weights: Array, C: int, k: int, d: int) -> Array:
    """Fourier coefficients ``h[delta]`` of the image-space ESPIRiT operator.

    ``H(r) = (1/k^d) sum_j w_j g_j(r) g_j(r)^H`` with ``g_{j,c}(r) = sum_u v_j[c,u]
    exp(2 pi i u.r / N)`` is a trigonometric polynomial of degree ``k - 1``: it
    is sampled exactly on a ``(2k)^d`` grid (small FFTs), and its coefficients
    are returned as ``(*B, C, C, 2k, ..., 2k)`` (index ``delta mod 2k``).
    """
    xp = array_namespace(Vh)
    L = 2 * k
    r = Vh.shape[-2]
    ker = xp.reshape(Vh, (*Vh.shape[:-1], C, *([k] * d)))  # (*B, r, C, k..)
    for a in range(d):
        ker = _pad_end(ker, ker.ndim - d + a, L)
    axes = tuple(range(-d, 0))
    g = ifftn(ker, axes, "forward")  # sum_u v[u] exp(+2 pi i u w / L): unnormalised inverse DFT
    g = xp.reshape(g, (*g.shape[:-d], L**d))  # (*B, r, C, L^d)
    G = xp.moveaxis(g, -1, -3)  # (*B, L^d, r, C)
    Gw = G * xp.reshape(weights, (*weights.shape[:-1], 1, r, 1))
    Hs = xp.matrix_transpose(Gw) @ xp.conj(G) / float(k**d)  # (*B, L^d, C, C): sum_j g g^H
    Hs = xp.reshape(Hs, (*Hs.shape[:-3], *([L] * d), C, C))
    return fftn(_grid_last(Hs, d), axes, "forward")


def _grid_last(Hs: Array, d: int) -> Array:
    """``(*B, L.., C, C)`` -> ``(*B, C, C, L..)``."""
    xp = array_namespace(Hs)
    nb = Hs.ndim - d - 2
    perm = (*range(nb), nb + d, nb + d + 1, *range(nb, nb + d))
    return xp.permute_dims(Hs, perm)


def _dft_rows(n: int, k: int, like: Array) -> tuple[Array, list[int]]:
    """``E[j, t] = exp(2 pi i delta_t (j - n/2) / n)`` for ``delta_t = t`` (t < k) or ``t - 2k``."""
    xp = array_namespace(like)
    dt = like.dtype
    L = 2 * k
    deltas = [t if t < k else t - L for t in range(L) if t != k]  # drop delta = -k (zero coefficient)
    keep = [t for t in range(L) if t != k]
    j = xp.astype(xp.arange(n, device=device(like)) - (n // 2), real_dtype(xp, dt))
    dl = xp.asarray(deltas, device=device(like))
    phase = (2.0 * math.pi / n) * xp.astype(j[:, None] * xp.astype(dl, real_dtype(xp, dt))[None, :],
                                             real_dtype(xp, dt))
    E = xp.astype(xp.cos(phase), dt) + 1j * xp.astype(xp.sin(phase), dt)
    return E, keep


def _image_operator_blocks(h: Array, shape: tuple[int, ...], k: int):
    """Yield ``(rows, H)``: the C x C operator ``H(r)`` on blocks of rows (axis 0 of the image).

    ``H(r) = sum_delta h[delta] exp(2 pi i delta.r / N)``: the image axes after the
    first are contracted once (``(*B, C, C, 2k-1, n1, ..)`` stays small), then
    each block of rows is one matrix product.
    """
    xp = array_namespace(h)
    d = len(shape)
    nb = h.ndim - d - 2
    C = h.shape[nb]
    T = h
    E0, keep0 = _dft_rows(shape[0], k, h)
    T = xp.take(T, xp.asarray(keep0, device=device(h)), axis=nb + 2)
    for a in range(1, d):
        Ea, keep = _dft_rows(shape[a], k, h)
        ax = nb + 2 + a
        T = xp.take(T, xp.asarray(keep, device=device(h)), axis=ax)
        T = xp.moveaxis(xp.tensordot(T, Ea, axes=([ax], [1])), -1, ax)  # (.., n_a, ..)
    # (*B, C, C, K0, n1..) -> (*B, K0, n1.., C, C)
    perm = (*range(nb), *range(nb + 2, nb + 2 + d), nb, nb + 1)
    T = xp.permute_dims(T, perm)
    rest = math.prod(shape[1:])
    Tm = xp.reshape(T, (*T.shape[:nb], T.shape[nb], rest * C * C))
    n_batch = math.prod(h.shape[:nb])
    step = max(1, _BLOCK // max(1, rest * C * C * n_batch))
    for r0 in range(0, shape[0], step):
        rows = slice(r0, min(shape[0], r0 + step))
        Hb = E0[rows, :] @ Tm  # (*B, b, rest*C*C)
        b = rows.stop - rows.start
        yield rows, xp.reshape(Hb, (*Hb.shape[:nb], b, *shape[1:], C, C))


def espirit_maps(
    kspace: Array, calib_width: int = 24, kernel_width: int = 6, threshold: float = 0.02, crop: float = 0.95,
    n_maps: int = 1, *, ndim: int | None = None, method: str = "power", max_iter: int = 30,
    return_eigenvalues: bool = False,
) -> Array | tuple[Array, Array]:
    """ESPIRiT coil sensitivities from the fully sampled centre of multi-coil k-space.

    1. Calibration matrix ``A``: every ``kernel_width^d`` patch (all coils) of the
       centred ``calib_width^d`` region is a row.
    2. SVD ``A = U Sigma V^H``; the right singular vectors with ``sigma_j > threshold sigma_1``
       span the signal (row) space: every k-space patch satisfies ``p = V_par V_par^H p``.
    3. Averaged over the patches containing each sample, that is the k-space
       convolution ``y = (1/k^d) sum_u R_u^H V_par V_par^H R_u y``, which becomes a
       pointwise ``C x C`` operator in image space, ``m(r) = H(r) m(r)`` with
       ``H(r) = (1/k^d) sum_j g_j(r) g_j(r)^H``, ``g_j`` the zero-padded inverse
       DFT of kernel ``j``.
    4. Coil images ``m = S rho`` make the maps the eigenvectors of ``H(r)`` with eigenvalue 1:
       per pixel, the top ``n_maps`` eigenvectors are kept where their eigenvalue exceeds
       ``crop`` and set to zero elsewhere (outside the object). The phase is referred to the
       first principal component of the coils.

    ``H(r)`` is a trigonometric polynomial of degree ``kernel_width - 1``: it is computed exactly from
    ``(2 kernel_width)^d`` samples (small FFTs) and evaluated in blocks of rows, so memory is
    ``O(C^2 * block)``, not ``O(C^2 N)``.

    Parameters
    ----------
    kspace : array, shape ``(..., n_coils, *image_shape)``
        Centred k-space (zeros where not sampled); leading axes are a batch
        (slices), each calibrated on its own. Any namespace and device; the
        maps come back in the same, in the input's precision.
    calib_width : int
        Width of the (fully sampled) centred calibration region per axis.
    kernel_width : int
        ESPIRiT kernel width per axis.
    threshold : float
        Singular values above ``threshold * sigma_max`` span the signal space.
    crop : float
        Eigenvalue below which a pixel's map is set to zero (in [0, 1]).
    n_maps : int
        Number of maps (eigenvectors) per pixel; 2 gives soft-SENSE maps.
    ndim : int, optional
        Number of image axes (default ``kspace.ndim - 1``: no batch).
    method : {"power", "eigh"}
        Per-pixel eigen solver: orthogonal iteration (``max_iter`` steps from the
        virtual coil, BART's default solver) or the batched dense ``eigh``.
    max_iter : int
        Iterations of ``"power"``.
    return_eigenvalues : bool
        Also return the eigenvalues (``(..., [n_maps,] *image_shape)``).

    Returns
    -------
    maps : array
        ``(..., n_coils, *image_shape)``, or ``(..., n_maps, n_coils, *image_shape)``
        when ``n_maps > 1``; unit norm over coils inside the object.
    eigenvalues : array, optional

    References
    ----------
    M. Uecker, P. Lai, M. J. Murphy, P. Virtue, M. Elad, J. M. Pauly, S. S.
    Vasanawala, M. Lustig, "ESPIRiT - an eigenvalue approach to autocalibrating
    parallel MRI: where SENSE meets GRAPPA", MRM 71:990-1001 (2014).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.mri import espirit_maps, shepp_logan_kspace
    >>> sim = shepp_logan_kspace((64, 64), n_coils=4, seed=0)
    >>> maps = espirit_maps(sim.kspace, calib_width=16, kernel_width=5)
    >>> maps.shape
    (4, 64, 64)
    >>> inside = np.abs(sim.image) > 0.1
    >>> bool(np.allclose(np.sum(np.abs(maps) ** 2, axis=0)[inside], 1.0, atol=1e-2))
    True
    """
    p = _check_espirit(kspace, calib_width, kernel_width, threshold, crop, n_maps, ndim, method, max_iter)
    cal, h = _espirit_kernel(p)
    maps, vals = _espirit_output(p, *_espirit_eigen(p, cal, h))
    return (maps, vals) if return_eigenvalues else maps


class _Espirit(NamedTuple):
    """:func:`espirit_maps`'s checked inputs and the shapes derived from them."""

    kspace: Array
    d: int
    shape: tuple[int, ...]
    C: int
    batch: tuple[int, ...]
    cdt: Any
    calib_width: int
    kernel_width: int
    threshold: float
    crop: float
    n_maps: int
    method: str
    max_iter: int


def _check_espirit(kspace: Any, calib_width: Any, kernel_width: Any, threshold: Any, crop: Any,
                   n_maps: Any, ndim: Any, method: Any, max_iter: Any) -> _Espirit:
    """Check :func:`espirit_maps`'s inputs (k-space cast to its complex dtype) and bound the
    calibration matrix's memory."""
    kspace = check_array("kspace", kspace, min_ndim=2)
    xp = array_namespace(kspace)
    cdt = complex_dtype(xp, kspace.dtype)
    kspace = xp.astype(kspace, cdt) if kspace.dtype != cdt else kspace
    d, shape, C = _spatial(kspace, ndim, "kspace", min_coils=1)
    kernel_width = check_int("kernel_width", kernel_width, low=1)
    calib_width = check_int("calib_width", calib_width, low=kernel_width, high=min(shape))
    threshold = check_scalar("threshold", threshold, low=0.0, high=1.0, high_open=True)
    crop = check_scalar("crop", crop, low=0.0, high=1.0)
    n_maps = check_int("n_maps", n_maps, low=1, high=C)
    method = check_choice("method", method, ("power", "eigh"))
    max_iter = check_int("max_iter", max_iter, low=1)
    if 2 * kernel_width > min(shape):
        raise ValueError(f"kernel_width = {kernel_width} is too large for image shape {shape}")
    batch = tuple(int(s) for s in kspace.shape[: kspace.ndim - d - 1])
    n_rows = (calib_width - kernel_width + 1) ** d
    check_memory("espirit_maps calibration matrix", math.prod(batch) * n_rows * C * kernel_width**d * 3)
    return _Espirit(kspace, d, shape, C, batch, cdt, calib_width, kernel_width, threshold, crop, n_maps,
                    method, max_iter)


def _espirit_kernel(p: _Espirit) -> tuple[Array, Array]:
    """Steps 1-3: the calibration region ``cal`` and the kernel covariance ``h`` behind ``H(r)``."""
    d, shape, C, calib_width, kernel_width = p.d, p.shape, p.C, p.calib_width, p.kernel_width
    xp = array_namespace(p.kspace)
    cal = p.kspace[(..., *_centre_slices(shape, calib_width))]  # (*B, C, w..)
    empty = xp.all(cal == 0, axis=-d - 1)
    if bool(to_numpy(xp.any(empty))):
        raise ValueError(
            f"kspace: the centred {calib_width}^{d} calibration region has unsampled points; "
            "give a smaller calib_width (the fully sampled centre) or fully sampled calibration data"
        )
    A = _calibration_matrix(cal, kernel_width, d)
    Vh, weights = _signal_space(A, p.threshold)
    h = _kernel_covariance(Vh, weights, C, kernel_width, d)  # (*B, C, C, 2k..)
    return cal, h


def _espirit_eigen(p: _Espirit, cal: Array, h: Array) -> tuple[Array, Array, Array]:
    """Step 4: the top ``n_maps`` eigenpairs of ``H(r)`` per pixel, block by block, and the
    virtual-coil reference ``(vecs (*B, *N, C, n), vals (*B, *N, n), ref (*B, C))``."""
    d, shape, C, batch, n_maps = p.d, p.shape, p.C, p.batch, p.n_maps
    xp = array_namespace(cal)
    # virtual coil: principal component of the calibration data (reference phase, start vector)
    calm = xp.reshape(cal, (*cal.shape[: -d], p.calib_width**d))
    ref = _principal_direction(calm @ xp.conj(xp.matrix_transpose(calm)))  # (*B, C)
    start = _start_vectors(calm, n_maps)

    nb = len(batch)
    map_blocks, val_blocks = [], []
    for _rows, Hb in _image_operator_blocks(h, shape, p.kernel_width):
        P = math.prod(Hb.shape[:-2])
        flat = xp.reshape(Hb, (P, C, C))
        npix = P // max(1, math.prod(batch))
        st = xp.reshape(start, (*start.shape[:nb], 1, C, n_maps))
        st = xp.reshape(xp.broadcast_to(st, (*batch, npix, C, n_maps)), (P, C, n_maps))
        vecs, vals = _top_eigen(flat, n_maps, p.method, st, p.max_iter)
        map_blocks.append(xp.reshape(vecs, (*Hb.shape[:-2], C, n_maps)))
        val_blocks.append(xp.reshape(vals, (*Hb.shape[:-2], n_maps)))
    vecs = xp.concat(map_blocks, axis=nb)  # (*B, *N, C, n_maps)
    vals = xp.concat(val_blocks, axis=nb)  # (*B, *N, n_maps)
    return vecs, vals, ref


def _espirit_output(p: _Espirit, vecs: Array, vals: Array, ref: Array) -> tuple[Array, Array]:
    """Maps ``(*B, [n,] C, *N)`` cropped where the eigenvalue is below ``crop``, phase referred to
    the virtual coil, and their eigenvalues ``(*B, [n,] *N)``."""
    d, nb = p.d, len(p.batch)
    xp = array_namespace(vecs)
    maps = xp.permute_dims(vecs, (*range(nb), nb + d + 1, nb + d, *range(nb, nb + d)))  # (*B, n, C, *N)
    vals = xp.permute_dims(vals, (*range(nb), nb + d, *range(nb, nb + d)))  # (*B, n, *N)
    maps = maps * xp.astype(xp.expand_dims(vals > p.crop, axis=-d - 1), p.cdt)
    maps = _fix_phase(maps, xp.expand_dims(ref, axis=-2), d)
    if p.n_maps == 1:
        maps, vals = maps[(..., 0, *([slice(None)] * (d + 1)))], vals[(..., 0, *([slice(None)] * d))]
    return maps, vals


def _start_vectors(calm: Array, n: int) -> Array:
    """Start of the orthogonal iteration: the top-``n`` principal components of the coils."""
    xp = array_namespace(calm)
    _, v = xp.linalg.eigh(calm @ xp.conj(xp.matrix_transpose(calm)))
    C = v.shape[-1]
    return xp.stack([v[..., C - 1 - i] for i in range(n)], axis=-1)  # (*B, C, n)


# ----------------------------------------------------------------------------- Walsh
def _box_sum(x: Array, axis: int, width: int) -> Array:
    """Sum over a centred window of ``width`` along ``axis`` (zero outside), same length."""
    xp = array_namespace(x)
    n = x.shape[axis]
    h = width // 2
    shape = list(x.shape)
    shape[axis] = 1
    zero = xp.zeros(tuple(shape), dtype=x.dtype, device=device(x))
    cs = xp.concat([zero, xp.cumulative_sum(x, axis=axis)], axis=axis)  # cs[i] = sum_{<i}
    hi = [min(i + width - h, n) for i in range(n)]
    lo = [max(i - h, 0) for i in range(n)]
    idx_hi = xp.asarray(hi, device=device(x))
    idx_lo = xp.asarray(lo, device=device(x))
    return xp.take(cs, idx_hi, axis=axis) - xp.take(cs, idx_lo, axis=axis)


def walsh_maps(
    images: Array,
    kernel: int = 5,
    *,
    ndim: int | None = None,
    method: str = "eigh",
    max_iter: int = 30,
) -> Array:
    """Coil maps by Walsh's adaptive combine: principal eigenvector of the local coil covariance.

    ``R(r) = sum_{r' in box(r)} m(r') m(r')^H`` over a ``kernel^d`` box; the map at
    ``r`` is the unit-norm top eigenvector of ``R(r)``, phase referred to the
    first principal component of the coils. For well-separated signal and
    noise it is the matched filter that maximises the combined SNR.

    Parameters
    ----------
    images : array, shape ``(..., n_coils, *image_shape)``
        Coil images (e.g. the inverse FFT of the calibration region, zero-padded).
    kernel : int
        Box width per axis (odd: centred).
    ndim : int, optional
        Number of image axes (default ``images.ndim - 1``).
    method, max_iter
        Per-pixel eigen solver, as in :func:`espirit_maps`.

    Returns
    -------
    array, shape of ``images``
        Unit-norm maps (everywhere: there is no crop; mask the background).

    References
    ----------
    D. O. Walsh, A. F. Gmitro, M. W. Marcellin, "Adaptive reconstruction of
    phased array MR imagery", MRM 43:682-690 (2000).
    """
    images = check_array("images", images, min_ndim=2)
    xp = array_namespace(images)
    cdt = complex_dtype(xp, images.dtype)
    images = xp.astype(images, cdt) if images.dtype != cdt else images
    d, shape, C = _spatial(images, ndim, "images")
    kernel = check_int("kernel", kernel, low=1, high=min(shape))
    method = check_choice("method", method, ("power", "eigh"))
    max_iter = check_int("max_iter", max_iter, low=1)
    nb = images.ndim - d - 1
    batch = tuple(int(s) for s in images.shape[:nb])
    flat_img = xp.reshape(images, (*batch, C, math.prod(shape)))
    ref = _principal_direction(flat_img @ xp.conj(xp.matrix_transpose(flat_img)))  # (*B, C)
    # pixels last -> coils last: (*B, *N, C)
    m = xp.permute_dims(images, (*range(nb), *range(nb + 1, nb + 1 + d), nb))
    rest = math.prod(shape[1:])
    step = max(1, _BLOCK // max(1, rest * C * C * max(1, math.prod(batch))))
    h = kernel // 2
    out = []
    for r0 in range(0, shape[0], step):
        r1 = min(shape[0], r0 + step)
        a0, a1 = max(0, r0 - h), min(shape[0], r1 + kernel - h - 1)
        blk = m[(*([slice(None)] * nb), slice(a0, a1), ...)]
        R = xp.expand_dims(blk, axis=-1) * xp.conj(xp.expand_dims(blk, axis=-2))  # (*B, b, .., C, C)
        for a in range(1, d):
            R = _box_sum(R, nb + a, kernel)
        R = _box_sum(R, nb, kernel)[(*([slice(None)] * nb), slice(r0 - a0, r1 - a0), ...)]
        P = math.prod(R.shape[:-2])
        st = xp.broadcast_to(xp.reshape(ref, (*batch, *([1] * d), C, 1)), (*R.shape[:-1], 1))
        vecs, _ = _top_eigen(xp.reshape(R, (P, C, C)), 1, method, xp.reshape(st, (P, C, 1)), max_iter)
        out.append(xp.reshape(vecs, (*R.shape[:-2], C)))
    maps = xp.concat(out, axis=nb)  # (*B, *N, C)
    maps = xp.permute_dims(maps, (*range(nb), nb + d, *range(nb, nb + d)))
    return _fix_phase(maps, ref, d)
