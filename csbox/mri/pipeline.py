"""From a scanner's raw data to an image: :func:`reconstruct_raw`, the everyday pipeline in one call.

The steps are those of a BART user's ``ecalib`` + ``pics`` script, on a
:class:`csbox.io.RawMRI` from any reader (ISMRMRD, fastMRI, twix, or built by hand):

1. readout oversampling removed (when the header says the readout is oversampled);
2. noise prewhitening with the file's noise scan (:func:`~csbox.mri.prewhiten`);
3. optionally, retrospective 2-D Poisson-disc undersampling (``accel``; experiments);
4. optionally, coil compression to ``n_coils`` virtual coils (:func:`~csbox.mri.coil_compress`);
5. ESPIRiT maps from the fully sampled k-space centre (or the file's calibration scan);
6. the reconstruction (:func:`cg_sense`, :func:`l1_wavelet_sense`, :func:`tv_sense`,
   :func:`llr_sense`) with the scale-aware ``lam`` of ``csbox.mri.recon``;
7. the image set to zero where the maps vanish (outside the object, where the data say nothing
   and a sparsity penalty would only extrapolate), unless ``crop_to_maps=False``.

Every slice (each index of the leading axes) is calibrated and reconstructed on its own.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_scalar
from ..io import RawMRI
from ..iterative import Result
from ..sampling import load_mask, load_trajectory, poisson_disc
from . import preprocess
from .coils import espirit_maps
from .recon import LAM_L1, LAM_LLR, LAM_TV, cg_sense, l1_wavelet_sense, llr_sense, tv_sense

__all__ = ["METHODS", "RawReconstruction", "reconstruct_raw"]

#: The reconstruction methods of :func:`reconstruct_raw` (and ``csbox recon --method``), with their
#: default ``lam`` (fractions of the zero-filled image's peak, see ``csbox.mri.recon``).
METHODS: dict[str, float] = {"cg": 0.0, "l1-wavelet": LAM_L1, "tv": LAM_TV, "llr": LAM_LLR}

_MIN_CALIB = 8


@dataclass
class RawReconstruction:
    """What :func:`reconstruct_raw` returns; unpacks as ``image, maps``.

    Attributes
    ----------
    image : ndarray, complex64, ``(*leading, *image_shape)``
        The reconstructed complex image of every slice.
    maps : ndarray, complex64, ``(*leading, coils, *image_shape)``
        The ESPIRiT maps used (of the compressed coils when ``n_coils`` was given).
    mask : ndarray, bool, ``(*leading, *image_shape)``
        The sampling mask reconstructed from (acquired, times the retrospective one).
    method : str
        The method's name (a key of :data:`METHODS`).
    lam : float
        The relative weight used.
    timings : dict of str to float
        Seconds spent in each step (``prewhiten``, ``coil_compress``, ``espirit``, ``reconstruction``,
        ``total``).
    steps : list of str
        What was done, one line each (for a log or an output file's metadata).
    results : list of Result
        The solver's result of every slice (iterations, stop reason, history).
    """

    image: np.ndarray
    maps: np.ndarray
    mask: np.ndarray
    method: str
    lam: float
    timings: dict[str, float] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    def __iter__(self) -> Any:
        return iter((self.image, self.maps))


def _remove_oversampling(k: np.ndarray, mask: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Crop the readout (last axis) to its central ``n`` samples in image space; DC stays at ``n // 2``."""
    nx = k.shape[-1]
    img = np.fft.fftshift(np.fft.ifft(np.fft.ifftshift(k, axes=-1), axis=-1, norm="ortho"), axes=-1)
    img = img[..., nx // 2 - n // 2: nx // 2 - n // 2 + n]
    k = np.fft.fftshift(np.fft.fft(np.fft.ifftshift(img, axes=-1), axis=-1, norm="ortho"), axes=-1)
    m = np.broadcast_to(mask.any(axis=-1, keepdims=True), (*mask.shape[:-1], n))
    return k.astype(np.complex64), np.ascontiguousarray(m)


def _calibration_width(mask: np.ndarray, want: int) -> int:
    """The largest ``c <= want`` whose centred ``c x c`` (``x c``) block of ``mask`` is fully sampled.

    Parameters
    ----------
    mask : bool array, ``image_shape``
        One slice's sampling mask, centred.
    want : int
        The calibration width asked for.

    Returns
    -------
    int
        ``c >= 8`` (else ``ValueError``: the scan has no usable calibration region).
    """
    shape = mask.shape
    for c in range(min(want, *shape), _MIN_CALIB - 1, -1):
        block = tuple(slice(n // 2 - c // 2, n // 2 - c // 2 + c) for n in shape)
        if mask[block].all():
            return c
    raise ValueError(f"the sampling mask has no fully sampled centred calibration region of at least "
                     f"{_MIN_CALIB}^{len(shape)} samples for ESPIRiT (asked for {want}); acquire "
                     f"calibration lines or lower accel")


def _poisson(shape: tuple[int, ...], accel: float, calib: int, seed: int) -> np.ndarray:
    """Retrospective Poisson-disc mask over the phase-encoding plane (2-D: ky x kx; 3-D: kz x ky)."""
    if len(shape) == 2:
        return poisson_disc(shape, acceleration=accel, calib=calib, seed=seed)
    pe = poisson_disc(shape[:-1], acceleration=accel, calib=calib, seed=seed)
    return np.broadcast_to(pe[..., None], shape)


def _retrospective(shape: tuple[int, ...], accel: float | str | Path, calib: int, seed: int,
                   log: list[str]) -> np.ndarray:
    """The retrospective mask: Poisson disc of rate ``accel``, or a mask file (``save_mask``'s ``.npz``).

    A file's mask covers the image plane ``shape`` or, for 3-D data, its phase-encoding plane
    ``shape[:-1]`` (broadcast along the readout).
    """
    if isinstance(accel, float):
        log.append(f"retrospective Poisson-disc undersampling R = {accel:g}, {calib}-sample calibration "
                   f"(seed {seed})")
        return _poisson(shape, accel, calib, seed)
    m = load_mask(accel)
    if m.shape == tuple(shape[:-1]) and len(shape) == 3:
        m = np.broadcast_to(m[..., None], shape)
    if m.shape != tuple(shape):
        raise ValueError(f"accel: the mask in {accel} has shape {m.shape}, expected {tuple(shape)} "
                         f"(the scan's image plane)")
    log.append(f"retrospective undersampling with the mask of {accel} (R = {m.size / max(m.sum(), 1):.3g})")
    return m


def _prepare(raw: RawMRI, accel: float | str | Path | None, method: str, calib: int, seed: int, whiten: bool,
             log: list[str], timings: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Steps 1-3: oversampling, prewhitening, retrospective undersampling (or a trajectory's coordinates)."""
    k, mask, ca = raw.kspace, raw.mask, raw.coil_axis
    n = raw.header.recon_matrix[0]
    if not raw.header.oversampling_removed and n < k.shape[-1]:
        k, mask = _remove_oversampling(k, mask, n)
        log.append(f"readout oversampling removed: {raw.kspace.shape[-1]} -> {n} samples")
    t0 = time.perf_counter()
    if raw.noise is not None and whiten:
        h = raw.header
        ratio = h.noise_dwell_us / h.dwell_us if h.noise_dwell_us and h.dwell_us else 1.0
        white = preprocess.prewhiten(k, raw.noise, coil_axis=ca, dwell_ratio=ratio)[0]
        k = np.asarray(white, dtype=np.complex64)
        log.append(f"prewhitened with {raw.noise.shape[1]} noise samples (dwell ratio {ratio:.3g})")
    timings["prewhiten"] = time.perf_counter() - t0
    if _is_trajectory(accel):
        return k, mask, _trajectory(accel, tuple(k.shape[ca + 1:]), method, log)
    if accel is not None:
        mask = mask & _retrospective(mask.shape[len(raw.leading):], accel, calib, seed, log)
        k = k * np.expand_dims(mask, ca).astype(np.complex64)
        log[-1] += f": {mask.mean():.1%} of k-space kept"
    return k, mask, None


def _is_trajectory(accel: Any) -> bool:
    """Whether ``accel`` names a trajectory file (``save_trajectory``'s ``.npz``: a ``coords`` entry)."""
    if not isinstance(accel, (str, Path)):
        return False
    try:
        with np.load(accel, allow_pickle=False) as f:
            return "coords" in getattr(f, "files", ())
    except (OSError, ValueError):
        return False  # load_mask reports the unreadable file


def _trajectory(accel: str | Path, plane: tuple[int, ...], method: str, log: list[str]) -> np.ndarray:
    """The coordinates of the trajectory file ``accel`` for images of shape ``plane``."""
    coords, _ = load_trajectory(accel, plane)
    if method == "llr":
        raise ValueError("accel: a trajectory file needs method 'cg', 'l1-wavelet' or 'tv', not 'llr'")
    log.append(f"retrospective non-Cartesian sampling along the trajectory of {accel} "
               f"({coords.size // coords.shape[-1]} samples): the fully sampled coil images resampled by "
               "the NUFFT; ESPIRiT from the Cartesian centre (as a separate calibration scan)")
    return coords


def _resample(ks: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """One slice's samples at ``coords``: the NUFFT of its coil images (centred unitary IFFT of ``ks``)."""
    from ..operators import FFT, NUFFT

    plane = ks.shape[1:]
    images = FFT(plane, centered=True).H @ ks.astype(np.complex128)
    return NUFFT(plane, coords) @ images


def _solve(method: str, k: np.ndarray, maps: np.ndarray, mask: np.ndarray | None, lam: float,
           max_iter: int | None, progress: bool, coords: np.ndarray | None = None) -> Result:
    """One slice's reconstruction by ``method`` (non-Cartesian with ``coords``, ``mask`` unused)."""
    kw: dict[str, Any] = {"lam": lam, "progress": progress}
    if max_iter is not None:
        kw["max_iter"] = max_iter
    if coords is not None:
        kw["coords"], mask = coords, None
    if method == "cg":
        return cg_sense(k, maps, mask, **kw)
    if method == "l1-wavelet":
        return l1_wavelet_sense(k, maps, mask, **kw)
    if method == "tv":
        return tv_sense(k, maps, mask, **kw)
    res = llr_sense(k[None], maps, mask[None], **kw)  # one frame: block-wise group sparsity
    return dataclasses.replace(res, x=None if res.x is None else res.x[0])


def _slice_maps(kc: np.ndarray, mask: np.ndarray, calib: int, kernel_width: int) -> np.ndarray:
    """ESPIRiT maps of one slice from its fully sampled centre (at most ``calib`` wide)."""
    cw = _calibration_width(mask, calib)
    return espirit_maps(kc, calib_width=cw, kernel_width=min(kernel_width, cw // 2))


def reconstruct_raw(
    raw: RawMRI, method: str = "l1-wavelet", lam: float | None = None, *, n_coils: int | None = None,
    compression: str = "svd", accel: float | str | Path | None = None, calib: int = 24, seed: int = 0,
    kernel_width: int = 6, max_iter: int | None = None, prewhiten: bool = True, crop_to_maps: bool = True,
    progress: bool = False,
) -> RawReconstruction:
    """Reconstruct a Cartesian scan: prewhiten, compress, ESPIRiT, then CG / l1-wavelet / TV / LLR SENSE.

    Solves, per slice, ``min_x 0.5||M F S x - y||^2 + lam s R(x)`` with ESPIRiT maps ``S``, the
    method's penalty ``R`` and ``s = max|S^H F^H M y|`` (``lam`` relative, see ``csbox.mri.recon``);
    the steps are listed in the module docstring. The BART equivalent is ``bart ecalib -m1 -r 24
    ksp sens; bart pics -l1 -r LAM ksp sens img`` (BART scales its data its own way, so the best
    ``lam`` differs between the two).

    Parameters
    ----------
    raw : RawMRI
        A Cartesian scan, e.g. ``csbox.io.read_ismrmrd(path)`` or ``csbox.data.load("brain-16ch")``.
    method : {"cg", "l1-wavelet", "tv", "llr"}
        CG-SENSE, l1-wavelet SENSE (FISTA), TV SENSE (ADMM), locally-low-rank SENSE (ADMM; on one
        frame, block-wise group sparsity).
    lam : float, optional
        Relative weight; default :data:`METHODS[method] <METHODS>` (chosen on the real scan in ``data/``).
    n_coils : int, optional
        Compress to this many virtual coils (``compression``: ``"svd"`` or ``"geometric"``).
    accel : float or path, optional
        Retrospective 2-D Poisson-disc undersampling by ``accel >= 1`` with a ``calib``-wide fully
        sampled centre (``seed``), for experiments on fully sampled data; or an ``.npz`` mask file
        (:func:`csbox.sampling.save_mask`, e.g. a learned mask) of the image plane's shape; or a
        trajectory file (:func:`csbox.sampling.save_trajectory`, e.g. a learned trajectory): the
        fully sampled coil images are resampled along it by the NUFFT and reconstructed with
        ``coords=`` (``cg``, ``l1-wavelet``, ``tv``), ESPIRiT still from the Cartesian centre.
    calib : int, default 24
        Calibration width asked for (ESPIRiT uses the largest fully sampled centred block up to it).
    seed : int
        Seed of the Poisson-disc mask.
    kernel_width : int, default 6
        ESPIRiT kernel width (at most half the calibration width).
    max_iter : int, optional
        Iterations of the method (its function's default otherwise).
    prewhiten : bool, default True
        Whiten with ``raw.noise`` when the file has a noise scan.
    crop_to_maps : bool, default True
        Zero the image where every map vanishes.
    progress : bool, default False
        A progress bar over the slices' steps (tqdm).

    Returns
    -------
    RawReconstruction
        ``image``, ``maps``, ``mask``, ``timings``, ``steps``, per-slice solver ``results``.

    Examples
    --------
    >>> from csbox import data, mri
    >>> raw = data.load("brain-16ch")  # real 16-channel brain scan, fully sampled
    >>> image, maps = mri.reconstruct_raw(raw, "l1-wavelet", accel=4, max_iter=20)
    >>> image.shape, maps.shape
    ((128, 128), (16, 128, 128))
    """
    method, lam, calib, accel, max_iter = _check_options(raw, method, lam, calib, accel, max_iter)
    log: list[str] = []
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    k, mask, coords = _prepare(raw, accel, method, calib, check_int("seed", seed), prewhiten, log, timings)
    k, kc = _compress(raw, k, n_coils, compression, calib, log, timings)
    out = _run_slices(raw, k, kc, mask, method, lam, calib, kernel_width, max_iter, crop_to_maps, progress,
                      timings, coords)
    timings["total"] = time.perf_counter() - t_start
    log.append(f"ESPIRiT maps (calibration up to {calib}, kernel {kernel_width}); {method} SENSE, "
               f"lam = {lam:g} of max|A^H y|" + ("; image zeroed outside the maps" if crop_to_maps else ""))
    return RawReconstruction(out[0], out[1], mask, method, lam, timings, log, out[2])


def _check_options(raw: Any, method: Any, lam: Any, calib: Any, accel: Any, max_iter: Any) -> tuple:
    """:func:`reconstruct_raw`'s checks: a Cartesian ``RawMRI``, the method, and its numbers."""
    if not isinstance(raw, RawMRI):
        raise TypeError(f"raw must be a csbox.io.RawMRI (from a reader), got {type(raw).__name__}")
    if raw.header.trajectory != "cartesian" or raw.trajectory is not None:
        raise ValueError(f"reconstruct_raw needs a Cartesian scan, this one is {raw.header.trajectory!r} "
                         "(grid it first: csbox.mri.gridding_reconstruction, or the NUFFT operators)")
    method = check_choice("method", method, list(METHODS))
    lam = METHODS[method] if lam is None else check_scalar("lam", lam, low=0.0)
    calib = check_int("calib", calib, low=_MIN_CALIB)
    if accel is not None and not isinstance(accel, (str, Path)):
        accel = check_scalar("accel", accel, low=1.0)
    if max_iter is not None:
        max_iter = check_int("max_iter", max_iter, low=1)
    return method, lam, calib, accel, max_iter


def _compress(raw: RawMRI, k: np.ndarray, n_coils: int | None, compression: str, calib: int, log: list[str],
              timings: dict[str, float]) -> tuple[np.ndarray, np.ndarray | None]:
    """Step 4: ``n_coils`` virtual coils, and the calibration scan that still fits ``k`` (or None)."""
    kc = raw.calibration
    if kc is not None and raw.header.oversampling_removed is False and kc.shape != k.shape:
        kc = None  # the oversampled calibration scan no longer fits: calibrate on the data
    t0 = time.perf_counter()
    if n_coils is not None:
        cc = preprocess.coil_compress(k, n_coils, method=compression, calib=calib, coil_axis=raw.coil_axis)
        k = np.asarray(cc[0], dtype=np.complex64)
        kc = None  # the calibration scan has the physical coils
        log.append(f"coil compression ({compression}): {raw.n_coils} -> {n_coils} virtual coils")
    timings["coil_compress"] = time.perf_counter() - t0
    return k, kc


def _run_slices(raw: RawMRI, k: np.ndarray, kc: np.ndarray | None, mask: np.ndarray, method: str, lam: float,
                calib: int, kernel_width: int, max_iter: int | None, crop: bool, progress: bool,
                timings: dict[str, float], coords: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, list[Result]]:
    """Steps 5-7 for every index of the leading axes (``coords``: resampled along a trajectory)."""
    from tqdm.auto import tqdm

    lead = k.shape[: raw.coil_axis]
    images, maps_all, results = [], [], []
    t_maps = t_rec = 0.0
    with tqdm(total=2 * int(np.prod(lead)), disable=not progress, desc=f"csbox {method}", unit="step") as bar:
        for idx in np.ndindex(*lead):
            t0 = time.perf_counter()
            ks, ms = k[idx], mask[idx]
            maps = _slice_maps(ks if kc is None else kc[idx], ms if kc is None else raw.calibration_mask[idx],
                               calib, kernel_width)
            t_maps += time.perf_counter() - t0
            bar.update(1)
            t0 = time.perf_counter()
            if coords is not None:
                ks = _resample(ks, coords)
            res = _solve(method, ks, maps, ms, lam, max_iter, False, coords)
            x = np.asarray(res.x, dtype=np.complex64)
            if crop:
                x = x * (np.sum(np.abs(maps) ** 2, axis=0) > 0)
            t_rec += time.perf_counter() - t0
            bar.update(1)
            bar.set_postfix_str(f"{res.n_iter} it, {res.stop_reason}")
            images.append(x)
            maps_all.append(np.asarray(maps, dtype=np.complex64))
            results.append(res)
    timings["espirit"], timings["reconstruction"] = t_maps, t_rec
    shape = lambda a: np.stack(a).reshape(*lead, *a[0].shape)  # noqa: E731
    return shape(images), shape(maps_all), results
