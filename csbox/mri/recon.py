"""Parallel-imaging reconstructions: CG-SENSE, l1-wavelet SENSE, TV SENSE, locally-low-rank SENSE.

Each is a thin function over :func:`csbox.reconstruct` with the SENSE model
``A = M F S`` (:class:`~csbox.mri.Sense`),

    min_x 0.5 ||M F S x - y||_2^2 + R(x),

and the penalty ``R`` named by the function.

**Scale-aware weights.** A scanner's k-space may hold values near 1e-4 or near 1e13: an
absolute ``lam`` would mean something else on every scan. With ``normalize=True`` (the
default) each function solves the problem for the normalised data ``y / s``, with

    s = max_r |(A^H y)(r)|,

the peak of the zero-filled SENSE-combined image, and returns ``s`` times its solution. For the
l1, TV and nuclear-norm penalties (positively homogeneous of degree 1) this is the problem with
the absolute weight ``lam * s``: ``lam`` is a fraction of the zero-filled image's peak, the same on
every scan (BART's ``pics`` scales its data in the same spirit), and scaling ``y`` by any
``c > 0`` scales the image by ``c`` and nothing else. Tikhonov's ``(lam/2)||x||^2`` is homogeneous
of degree 2, so ``cg_sense``'s ``lam`` is scale-free either way. ``normalize=False`` takes ``lam``
as an absolute weight (csbox 0.2's behaviour). The defaults of ``lam`` were chosen on a real
16-channel brain scan (``csbox.data.load("brain-16ch")``) at 4-8x Poisson-disc undersampling
(see ``docs/mri.md``). With normalisation, ``x0`` is divided by ``s`` before the solve, the
callback and ``result.history`` see the normalised problem, and ``result.x`` is on the data's
scale. Each returns the solver's :class:`~csbox.iterative.Result`; ``result.x`` is the complex
image ``(..., [n_maps,] *image_shape)``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .._validation import check_array, check_int, check_scalar
from ..backend import Array, array_namespace, to_numpy
from ..iterative import Result
from ..operators import Wavelet
from ..penalties import L1, TV, LocallyLowRank, Tikhonov
from ..solvers import reconstruct
from .sense import Sense

__all__ = ["LAM_L1", "LAM_LLR", "LAM_TV", "cg_sense", "l1_wavelet_sense", "llr_sense", "tv_sense"]

#: Default relative weights (fractions of ``max|A^H y|``), chosen on the real 16-channel brain scan
#: of ``data/`` at R = 4-8 (2-D Poisson disc, 24 x 24 calibration): see ``docs/mri.md``.
LAM_L1 = 0.004
LAM_TV = 0.002
LAM_LLR = 0.004


def _operator(kspace: Array, maps: Array, mask: Any, ndim: int | None,
              coil_batch: int | None = None, coords: Any = None) -> Sense:
    """The SENSE operator for ``kspace``; ``mask=None``: sampled where any coil is non-zero.

    With ``coords`` (non-Cartesian) there is no mask: ``kspace`` is ``(n_coils, *coords.shape[:-1])``.
    """
    kspace = check_array("kspace", kspace, min_ndim=2)
    maps = check_array("maps", maps, min_ndim=2)
    d = maps.ndim - 1 if ndim is None else check_int("ndim", ndim, low=1)
    if coords is not None:
        if mask is not None:
            raise ValueError("give mask (Cartesian) or coords (non-Cartesian), not both")
        A = Sense(maps, coords=coords, ndim=d, coil_batch=coil_batch)
        if tuple(kspace.shape) != A.oshape:
            raise ValueError(f"kspace has shape {tuple(kspace.shape)}, expected {A.oshape} (n_coils, "
                             f"*coords.shape[:-1]) for these maps and coords")
        return A
    probe = Sense(maps, ndim=d)
    if tuple(kspace.shape[max(0, kspace.ndim - len(probe.oshape)):]) != probe.oshape:
        raise ValueError(f"kspace has shape {tuple(kspace.shape)}, expected (..., {probe.n_coils}, "
                         f"*{probe.image_shape}) for these maps")
    if mask is None:
        xp = array_namespace(kspace)
        host = to_numpy(xp.any(kspace != 0, axis=-d - 1))
        lead = host.reshape((-1, *probe.image_shape))
        # one mask for all leading axes when they agree; otherwise one per frame
        mask = lead[0] if (lead == lead[0]).all() else host
    A = Sense(maps, mask, ndim=d, coil_batch=coil_batch)
    if tuple(kspace.shape[kspace.ndim - len(A.oshape):]) != A.oshape:
        raise ValueError(f"kspace has shape {tuple(kspace.shape)}, expected (..., *{A.oshape}) for these "
                         f"maps and mask")
    return A


def _checked(lam: Any, kspace: Array, maps: Array, mask: Any, ndim: int | None,
             coil_batch: int | None = None, coords: Any = None) -> tuple[float, Sense]:
    """The penalty weight checked (``>= 0``) and the SENSE operator of every reconstruction here."""
    return check_scalar("lam", lam, low=0.0), _operator(kspace, maps, mask, ndim, coil_batch, coords)


def _data_scale(A: Sense, kspace: Array) -> float:
    """The normalisation ``s = max |A^H y|`` of the ``*_sense`` functions (1.0 for all-zero data).

    Parameters
    ----------
    A : Sense
        The SENSE operator (maps and mask).
    kspace : array, shape ``(..., *A.oshape)``
        The data ``y``.

    Returns
    -------
    float
        The peak magnitude of the zero-filled SENSE-combined image, one number for every leading axis.
    """
    xp = array_namespace(kspace)
    s = float(xp.max(xp.abs(A.H @ kspace)))
    return s if s > 0 and math.isfinite(s) else 1.0


def _solve(A: Sense, kspace: Array, pens: list, solver: str, normalize: bool, x0: Any, **kw: Any) -> Result:
    """``reconstruct`` on ``y / s`` (``s`` from :func:`_data_scale` when ``normalize``), image times ``s``."""
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    s = _data_scale(A, kspace) if normalize else 1.0
    if s == 1.0:
        return reconstruct(A, kspace, pens, solver, x0=x0, **kw)
    x0 = None if x0 is None else check_array("x0", x0) / s
    res = reconstruct(A, kspace / s, pens, solver, x0=x0, **kw)
    return dataclasses.replace(res, x=None if res.x is None else res.x * s)


def cg_sense(
    kspace: Array,
    maps: Array,
    mask: Array | None = None,
    *,
    lam: float = 0.0,
    ndim: int | None = None,
    normalize: bool = True,
    coil_batch: int | None = None,
    coords: Array | None = None,
    max_iter: int = 30,
    tol: float | None = 1e-6,
    x0: Array | None = None,
    callback: Any = None,
    progress: bool = False,
) -> Result:
    """CG-SENSE: ``min_x 0.5||M F S x - y||^2 + (lam/2)||x||^2`` by conjugate gradients.

    Parameters
    ----------
    kspace : array, shape ``(..., n_coils, *image_shape)``
        Centred zero-filled k-space; leading axes are independent slices (or the
        frames of ``mask``).
    maps : array, shape ``(n_coils, *image_shape)`` or ``(n_maps, n_coils, *image_shape)``
        Coil sensitivities (give ``ndim`` for several maps).
    mask : bool array, shape ``(*frames, *image_shape)``, optional
        Sampling mask; default: the points where any coil's sample is non-zero.
    lam : float
        Tikhonov weight (BART's ``pics -l2 lam``); scale-free (see the module docstring).
    ndim, max_iter, tol, x0, callback, progress
        As for :class:`~csbox.mri.Sense` and :func:`~csbox.solvers.cg`.
    normalize : bool, default True
        Solve for ``y / max|A^H y|`` and rescale the image (the module docstring); the image is
        the same up to rounding, but float32 sums stay far from overflow on 1e13-valued data.
    coil_batch : int, optional
        Apply the maps and FFTs this many coils at a time (:class:`~csbox.mri.Sense`'s
        ``coil_batch``): less memory, a few per cent more time. Default all coils at once.
    coords : array, shape ``(..., 2 or 3)``, optional
        Non-Cartesian k-space locations in grid units (:class:`~csbox.operators.NUFFT`); then
        ``kspace`` is ``(n_coils, *coords.shape[:-1])`` and ``mask`` must be None. E.g. a radial
        trajectory (:func:`~csbox.mri.radial`) or a learned one
        (:func:`~csbox.mri.learned_trajectory.train_trajectory`).

    Returns
    -------
    CGResult

    References
    ----------
    K. P. Pruessmann, M. Weiger, P. Börnert, P. Boesiger, "Advances in sensitivity
    encoding with arbitrary k-space trajectories", MRM 46:638-651 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.mri import cg_sense, shepp_logan_kspace
    >>> from csbox.sampling import equispaced
    >>> sim = shepp_logan_kspace((64, 64), n_coils=8, seed=0)
    >>> mask = np.broadcast_to(equispaced(64, acceleration=2, calib=8)[:, None], (64, 64))
    >>> res = cg_sense(sim.kspace * mask, sim.maps, mask, max_iter=50)
    >>> res.x.shape
    (64, 64)
    >>> err = np.linalg.norm(res.x - sim.image) / np.linalg.norm(sim.image)
    >>> bool(err < 0.1)
    True
    """
    lam, A = _checked(lam, kspace, maps, mask, ndim, coil_batch, coords)
    pens = [Tikhonov(lam)] if lam > 0 else []
    return _solve(A, kspace, pens, "cg", normalize, x0, max_iter=max_iter, tol=tol, callback=callback,
                  progress=progress)


def l1_wavelet_sense(
    kspace: Array,
    maps: Array,
    mask: Array | None = None,
    *,
    lam: float = LAM_L1,
    wavelet: str = "db4",
    level: int | None = None,
    cycle_spin: bool = True,
    ndim: int | None = None,
    normalize: bool = True,
    coil_batch: int | None = None,
    coords: Array | None = None,
    max_iter: int = 100,
    tol: float | None = None,
    x0: Array | None = None,
    callback: Any = None,
    progress: bool = False,
    seed: int = 0,
) -> Result:
    """l1-wavelet SENSE: ``min_x 0.5||M F S x - y||^2 + lam ||W x||_1`` by FISTA.

    ``W`` is the orthonormal periodized ``wavelet`` transform over the image
    axes (each frame and map on its own), with random cycle spinning (BART's
    default) unless ``cycle_spin=False``. Other parameters as :func:`cg_sense`.

    Parameters
    ----------
    kspace, maps, mask, ndim
        As in :func:`cg_sense` (``mask`` defaults to the non-zero samples).
    lam : float, default ``LAM_L1``
        l1 weight ``>= 0``, a fraction of ``max|A^H y|`` (absolute with ``normalize=False``;
        BART's ``pics -l1 -r lam`` on BART's own scale).
    wavelet : str, default "db4"
        Orthogonal PyWavelets name, see :class:`~csbox.operators.Wavelet`.
    level : int, optional
        Decomposition levels (default: the most that divide every image size).
    cycle_spin : bool, default True
        Random circular shift of the wavelet axes at each step, ``[0, 2**level)`` samples per
        axis, drawn from ``seed``.
    max_iter, tol, x0, callback, progress
        The solver contract (:class:`~csbox.iterative.IterativeSolver`); ``x0`` has the image shape.
        Defaults ``max_iter=100``, ``tol=None`` (FISTA's default: relative change ``1e-6``).
    seed : int, default 0
        Seed of the cycle-spinning shifts.
    normalize : bool, default True
        ``lam`` relative to ``max|A^H y|`` (the data normalised, the image rescaled; module docstring).
    coil_batch, coords : optional
        As in :func:`cg_sense` (``coords``: non-Cartesian samples).

    Returns
    -------
    ProxGradResult
        FISTA's result; ``x`` is the complex image ``(..., [n_maps,] *image_shape)``.

    References
    ----------
    M. Lustig, D. Donoho, J. M. Pauly, "Sparse MRI", MRM 58:1182-1195 (2007);
    D. Liang, B. Liu, J. Wang, L. Ying, "Accelerating SENSE using compressed
    sensing", MRM 62:1574-1584 (2009).
    """
    lam, A = _checked(lam, kspace, maps, mask, ndim, coil_batch, coords)
    d = A.ndim_image
    W = Wavelet(A.ishape, wavelet, level, axes=tuple(range(len(A.ishape) - d, len(A.ishape))))
    pen = L1(lam).in_basis(W, cycle_spin=cycle_spin, seed=seed)
    return _solve(A, kspace, [pen], "fista", normalize, x0, max_iter=max_iter, tol=tol, callback=callback,
                  progress=progress)


def tv_sense(
    kspace: Array,
    maps: Array,
    mask: Array | None = None,
    *,
    lam: float = LAM_TV,
    ndim: int | None = None,
    normalize: bool = True,
    coil_batch: int | None = None,
    coords: Array | None = None,
    solver: str = "admm",
    max_iter: int = 50,
    tol: float | None = None,
    x0: Array | None = None,
    callback: Any = None,
    progress: bool = False,
    **options: Any,
) -> Result:
    """TV SENSE: ``min_x 0.5||M F S x - y||^2 + lam TV(x)`` (isotropic, over the image axes).

    Solved by ADMM with CG inner solves (BART's ``pics -R T``) or, with
    ``solver="pdhg"``, Chambolle-Pock; ``options`` go to the solver (``rho``,
    ``inner_max_iter``...). Other parameters as :func:`cg_sense`.

    Parameters
    ----------
    kspace, maps, mask, ndim
        As in :func:`cg_sense` (``mask`` defaults to the non-zero samples).
    lam : float, default ``LAM_TV``
        TV weight ``>= 0``, a fraction of ``max|A^H y|`` (absolute with ``normalize=False``).
    normalize : bool, default True
        As in :func:`l1_wavelet_sense`.
    coil_batch, coords : optional
        As in :func:`cg_sense` (``coords``: non-Cartesian samples).
    solver : {"admm", "pdhg", "fista", "auto"}, default "admm"
        Passed to :func:`csbox.reconstruct` (``"cg"`` raises ``ValueError``: TV is not quadratic).
    max_iter, tol, x0, callback, progress
        The solver contract (:class:`~csbox.iterative.IterativeSolver`); ``x0`` has the image shape.
        Defaults ``max_iter=50``, ``tol=None`` (the solver's default: relative change ``1e-5``).
    **options
        Solver keywords: :func:`~csbox.solvers.admm` (``rho``, ``inner_max_iter``...) or
        :func:`~csbox.solvers.pdhg` (``balance``...).

    Returns
    -------
    ADMMResult or PDHGResult
        (:class:`~csbox.solvers.ProxGradResult` with FISTA); ``x`` is the complex image
        ``(..., [n_maps,] *image_shape)``.

    References
    ----------
    K. T. Block, M. Uecker, J. Frahm, "Undersampled radial MRI with multiple
    coils. Iterative image reconstruction using a total variation constraint",
    MRM 57:1086-1098 (2007).
    """
    lam, A = _checked(lam, kspace, maps, mask, ndim, coil_batch, coords)
    pen = TV(lam, axes=tuple(range(-A.ndim_image, 0)))
    return _solve(A, kspace, [pen], solver, normalize, x0, max_iter=max_iter, tol=tol, callback=callback,
                  progress=progress, **options)


def llr_sense(
    kspace: Array,
    maps: Array,
    mask: Array,
    *,
    lam: float = LAM_LLR,
    block: int = 8,
    ndim: int | None = None,
    normalize: bool = True,
    coil_batch: int | None = None,
    max_iter: int = 100,
    tol: float | None = None,
    x0: Array | None = None,
    callback: Any = None,
    progress: bool = False,
    seed: int = 0,
) -> Result:
    """Locally-low-rank SENSE of a series: ``min_x 0.5||M_t F S x_t - y_t||^2 + lam sum_b ||X_b||_*``.

    ``mask`` holds one mask per frame, shape ``(n_frames, *image_shape)``;
    ``X_b`` is the ``block^d x n_frames`` matrix of an image block across frames
    (randomly shifted tiling at each step). Solved by ADMM with a CG inner solve,
    as BART's ``pics -R L`` (FISTA with the shifted tiling reconstructs slightly
    worse in the tests: relative error 0.230 against ADMM's lower one).

    Parameters
    ----------
    kspace : array, shape ``(n_frames, n_coils, *image_shape)``
        Centred zero-filled k-space of the series.
    maps : array, shape ``(n_coils, *image_shape)``
        One set of coil sensitivities (several maps raise ``ValueError``).
    mask : bool array, shape ``(n_frames, *image_shape)``
        One sampling mask per frame (required).
    lam : float, default ``LAM_LLR``
        Weight ``>= 0`` of the nuclear norms, a fraction of ``max|A^H y|`` (absolute with
        ``normalize=False``).
    block : int, default 8
        Block side ``>= 1`` (``block^d`` pixels, ``d`` image axes).
    ndim : int, optional
        As in :func:`cg_sense`.
    normalize : bool, default True
        As in :func:`l1_wavelet_sense`.
    coil_batch : int, optional
        As in :func:`cg_sense`.
    max_iter, tol, x0, callback, progress
        The solver contract (:class:`~csbox.iterative.IterativeSolver`); ``x0`` has the image shape.
        Defaults ``max_iter=100``, ``tol=None`` (ADMM's default: relative change ``1e-5``).
    seed : int, default 0
        Seed of the random tiling shifts.

    Returns
    -------
    ADMMResult
        ``x`` is the complex series ``(n_frames, *image_shape)``.

    References
    ----------
    T. Zhang, J. M. Pauly, I. R. Levesque, "Accelerating parameter mapping with
    a locally low rank constraint", MRM 73:655-661 (2015).
    """
    block = check_int("block", block, low=1)
    lam, A = _checked(lam, kspace, maps, mask, ndim, coil_batch)
    if len(A.frames) != 1 or A.multi_map:
        raise ValueError(f"llr_sense needs one map set and a mask shaped (n_frames, *image_shape); got "
                         f"frames {A.frames} and {A.n_maps} map(s)")
    pen = LocallyLowRank((block,) * A.ndim_image, lam, seed=seed)
    return _solve(A, kspace, [pen], "admm", normalize, x0, max_iter=max_iter, tol=tol, callback=callback,
                  progress=progress)
