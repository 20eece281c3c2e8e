"""Sampling masks on disk: ``.npz`` archives read without pickle (no torch needed).

:func:`save_mask` writes a boolean mask as the ``mask`` entry of an ``.npz`` archive;
:func:`load_mask` reads it back (from such a file or from :meth:`csbox.sampling.dps.DPSSampler.save`'s)
with ``allow_pickle=False``. ``csbox recon --accel mask.npz`` reads masks with it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_mask", "save_mask"]


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
        if "mask" not in f.files:
            raise ValueError(f"{path}: no 'mask' array in the file (has {f.files})")
        mask = f["mask"]
    if mask.dtype != np.bool_:
        raise ValueError(f"{path}: mask has dtype {mask.dtype}, expected bool")
    if shape is not None and tuple(mask.shape) != tuple(shape):
        raise ValueError(f"{path}: mask has shape {mask.shape}, expected {tuple(shape)}")
    return mask
