"""Sampling masks and trajectories on disk: ``.npz`` archives read without pickle (no torch needed).

:func:`save_trajectory` / :func:`load_trajectory` do the same for non-Cartesian k-space
coordinates (``coords`` and the ``image_shape`` they are scaled for), e.g. a trajectory learned by
:func:`csbox.mri.learned_trajectory.train_trajectory`, read back for ``Sense(maps, coords=...)``.

:func:`save_mask` writes a boolean mask as the ``mask`` entry of an ``.npz`` archive;
:func:`load_mask` reads it back (from such a file or from :meth:`csbox.sampling.dps.DPSSampler.save`'s)
with ``allow_pickle=False``. ``csbox recon --accel mask.npz`` reads masks with it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_coords, check_shape

__all__ = ["load_mask", "load_trajectory", "save_mask", "save_trajectory"]


def _open_npz(path: str | Path) -> Any:
    """``np.load`` of an ``.npz`` without pickle; any unreadable file raises ``ValueError`` naming it."""
    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    if not hasattr(f, "files"):
        raise ValueError(f"{path}: expected an .npz archive, found a single .npy array")
    return f


def _entry(f: Any, key: str, path: str | Path) -> np.ndarray:
    """Entry ``key`` of an open archive; a missing one or one that would need pickle raises ``ValueError``."""
    if key not in f.files:
        raise ValueError(f"{path}: no {key!r} array in the file (has {f.files})")
    try:
        return f[key]
    except ValueError as e:  # object arrays: numpy refuses them without pickle
        raise ValueError(f"{path}: entry {key!r} cannot be read without pickle ({e})") from None


def save_mask(path: str | Path, mask: np.ndarray) -> None:
    """Save a boolean mask to ``.npz``.

    Parameters
    ----------
    path : str or pathlib.Path
        Target file (``numpy.savez`` appends ``.npz`` when missing).
    mask : array of bool
        The mask, any shape; another dtype raises ``TypeError``. Stored as the ``mask`` entry.
    """
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be boolean, got {mask.dtype}")
    if mask.size == 0 or not mask.any():
        raise ValueError(f"mask must be non-empty with at least one sampled entry, got shape {mask.shape}")
    np.savez(path, mask=mask)


def load_mask(path: str | Path, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Load a boolean mask saved by :func:`save_mask` or by a DPS sampler (no pickle).

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.npz`` archive with a boolean ``mask`` entry; a missing file raises
        ``FileNotFoundError``, an unreadable one, a missing entry or another dtype ``ValueError``.
    shape : tuple of int, optional
        Expected shape (``ValueError`` when it differs).

    Returns
    -------
    numpy.ndarray of bool
    """
    with _open_npz(path) as f:
        mask = _entry(f, "mask", path)
    if mask.dtype != np.bool_:
        raise ValueError(f"{path}: mask has dtype {mask.dtype}, expected bool")
    if shape is not None and tuple(mask.shape) != tuple(shape):
        raise ValueError(f"{path}: mask has shape {mask.shape}, expected {tuple(shape)}")
    return mask


def save_trajectory(path: str | Path, coords: Any, image_shape: tuple[int, ...]) -> None:
    """Save a non-Cartesian trajectory (k-space coordinates in grid units) to ``.npz``.

    Parameters
    ----------
    path : str or pathlib.Path
        Target file (``numpy.savez`` appends ``.npz`` when missing).
    coords : array, shape ``(..., d)``
        Sample locations in grid units, inside ``[-n/2, n/2]`` per axis (the convention of
        :class:`csbox.operators.NUFFT`; checked here). Stored as the float64 ``coords`` entry.
    image_shape : tuple of int
        The image shape ``n`` the coordinates are scaled for (``d`` sizes), stored as ``image_shape``.
    """
    shape = check_shape("image_shape", image_shape)
    c = check_coords(coords, shape)
    np.savez(path, coords=c, image_shape=np.asarray(shape, dtype=np.int64))


def load_trajectory(path: str | Path, image_shape: tuple[int, ...] | None = None) -> tuple[np.ndarray, tuple]:
    """Load a trajectory saved by :func:`save_trajectory` (no pickle).

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.npz`` archive with float ``coords`` and integer ``image_shape`` entries; a missing
        file raises ``FileNotFoundError``, an unreadable one or a missing/invalid entry ``ValueError``.
    image_shape : tuple of int, optional
        Expected image shape (``ValueError`` when the file's differs).

    Returns
    -------
    coords : numpy.ndarray of float64, shape ``(..., d)``
        Ready for ``Sense(maps, coords=coords)`` or :class:`~csbox.operators.NUFFT`.
    image_shape : tuple of int
    """
    with _open_npz(path) as f:
        coords, stored = _entry(f, "coords", path), _entry(f, "image_shape", path)
    if stored.dtype.kind not in "iu" or stored.ndim != 1 or not 1 <= stored.size <= 3 or np.any(stored < 1):
        raise ValueError(f"{path}: image_shape must be 1-3 positive integers, got {stored!r}")
    shape = tuple(int(s) for s in stored)
    if image_shape is not None and tuple(image_shape) != shape:
        raise ValueError(f"{path}: trajectory is for images of shape {shape}, expected {tuple(image_shape)}")
    try:
        c = check_coords(coords, shape)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from None
    return c, shape
