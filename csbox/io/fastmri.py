"""fastMRI ``.h5`` files (single- and multi-coil) -> :class:`~csbox.io.RawMRI`.

Layout (the fastMRI data set, Zbontar et al. 2018, and its ``fastmri`` package's ``SliceDataset``):
``kspace`` ``(slices, coils, rows, cols)`` complex64 (single-coil: ``(slices, rows, cols)``), the
readout along ``rows`` (640 samples, 2x oversampled) and phase encoding along ``cols``;
``ismrmrd_header``, the scan's ISMRMRD XML; ``reconstruction_rss`` (multi-coil) or
``reconstruction_esc`` (single-coil) ``(slices, 320, 320)`` in training and validation files;
``mask`` ``(cols,)`` in test and challenge files (the acquired phase-encoding columns, with the
attributes ``acceleration`` and ``num_low_frequency``). k-space is centred with the orthonormal
FFT, as in :mod:`csbox.mri`.

csbox puts the readout last: k-space is returned as ``(slices, coils, ky, kx)`` = the file's
``(slices, coils, cols, rows)``, and the reference images are transposed alike (``ky`` is the image's
vertical axis); ``np.swapaxes(image, -1, -2)`` gives the data set's orientation back.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._validation import check_memory
from .mri import MRIHeader, RawMRI, file_name, parse_ismrmrd_header, require

__all__ = ["read_fastmri"]


def _dataset(src: str, f: Any, name: str, h5py: Any) -> Any:
    d = f.get(name)
    if d is not None and not isinstance(d, h5py.Dataset):
        raise ValueError(f"{src}: field {name!r} must be an HDF5 dataset, got a {type(d).__name__}")
    return d


def _read(src: str, ds: Any, sel: Any, size: int, what: str) -> np.ndarray:
    """Read ``ds[sel]`` after checking that the file can hold what its shape declares."""
    nbytes = int(np.prod(ds.shape, dtype=np.float64)) * ds.dtype.itemsize
    if ds.compression is None and ds.chunks is None and nbytes > size:
        raise ValueError(f"{src}: field {what} declares {nbytes} bytes but the file has {size} "
                         "(truncated or corrupt)")
    check_memory(f"{src}: {what}", nbytes, 1)
    try:
        return ds[sel]
    except (OSError, ValueError, TypeError) as e:
        raise ValueError(f"{src}: field {what} cannot be read (truncated or corrupt file?): {e}") from None


def _slices(src: str, slices: Any, n: int) -> tuple[Any, bool]:
    if slices is None:
        return slice(None), False
    if isinstance(slices, (int, np.integer)) and not isinstance(slices, bool):
        if not -n <= slices < n:
            raise ValueError(f"slices must index the {n} slices of {src}, got {slices}")
        return int(slices) % n, True
    if isinstance(slices, slice):
        if len(range(n)[slices]) == 0:
            raise ValueError(f"slices selects no slice of the {n} in {src}: {slices}")
        return slices, False
    raise TypeError(f"slices must be None, an int or a slice, got {type(slices).__name__}")


def _mask(src: str, f: Any, h5py: Any, k: np.ndarray, n_cols: int) -> np.ndarray:
    """Sampled ``ky`` lines: the file's ``mask`` if it has one, else the lines holding any non-zero."""
    d = _dataset(src, f, "mask", h5py)
    if d is None:
        line = np.any(k != 0, axis=(-3, -1))  # (slices, ky)
    else:
        m = np.asarray(d[()])
        if m.shape != (n_cols,) or m.dtype.kind not in "biuf" or not np.all((m == 0) | (m == 1)):
            raise ValueError(f"{src}: field 'mask' must be {n_cols} values 0/1 (one per k-space column), "
                             f"got shape {m.shape} dtype {m.dtype}")
        line = np.broadcast_to(m.astype(bool), (k.shape[0], n_cols))
    return np.broadcast_to(line[:, :, None], (k.shape[0], k.shape[-2], k.shape[-1])).copy()


def _header(src: str, f: Any, h5py: Any, rows: int, cols: int) -> MRIHeader:
    d = _dataset(src, f, "ismrmrd_header", h5py)
    if d is None:
        return MRIHeader(matrix=(rows, cols, 1), extra={"no_ismrmrd_header": True})
    xml = d[()]
    if isinstance(xml, np.ndarray):
        xml = xml.reshape(-1)[0] if xml.size == 1 else xml.tobytes()
    if not isinstance(xml, (bytes, str)):
        raise ValueError(f"{src}: field 'ismrmrd_header' must be XML text, got {type(xml).__name__}")
    hdr, _ = parse_ismrmrd_header(xml, src)
    if hdr.matrix[:2] != (rows, cols):
        hdr.extra["header_matrix"] = hdr.matrix
        hdr.matrix = (rows, cols, 1)
    return hdr


def read_fastmri(path: str | os.PathLike, *, slices: int | slice | None = None) -> RawMRI:
    """Read a fastMRI ``.h5`` file (single- or multi-coil) into a :class:`~csbox.io.RawMRI`.

    Parameters
    ----------
    path : str or path
        The file.
    slices : int, slice or None
        Read only these slices (an int drops the slice axis); all by default.

    Returns
    -------
    RawMRI
        ``kspace`` ``(slices, coils, ky, kx)`` complex64 (readout last: the file's axes 2 and 3
        swapped; one coil for single-coil files; the slice axis dropped for one slice); ``mask``
        from the file's ``mask`` (test and challenge files) or the lines that hold data;
        ``reference`` ``(slices, 320, 320)`` from ``reconstruction_rss`` / ``reconstruction_esc``
        (transposed alike) when the file has one; ``header`` from ``ismrmrd_header``, with
        ``header.extra`` holding the file's attributes (``acquisition``, ``max``, ``norm``,
        ``acceleration``, ``num_low_frequency``, ...).

    Raises
    ------
    ValueError
        A truncated or corrupt file, no ``kspace`` or one of the wrong type or shape, non-finite
        samples, a ``mask`` that does not match, a malformed header; naming the file and the field.
    ImportError
        Without h5py (``pip install 'csbox[mri]'``).
    """
    src = file_name(path)
    h5py = require("h5py", "read_fastmri")
    if not os.path.exists(src):
        raise FileNotFoundError(f"no fastMRI file {src}")
    size = os.path.getsize(src)
    try:
        f = h5py.File(src, "r")
    except OSError as e:
        raise ValueError(f"{src}: not a readable HDF5 file (truncated or corrupt?): {e}") from None
    with f:
        ds = _dataset(src, f, "kspace", h5py)
        if ds is None:
            raise ValueError(f"{src}: no field 'kspace' (not a fastMRI file; fields: {sorted(f.keys())})")
        if ds.dtype.kind != "c" or ds.ndim not in (3, 4) or 0 in ds.shape:
            raise ValueError(f"{src}: field 'kspace' must be complex (slices, [coils,] rows, cols), "
                             f"got {ds.dtype} {ds.shape}")
        sel, drop = _slices(src, slices, ds.shape[0])
        k = _read(src, ds, sel, size, "'kspace'")
        k = k[None] if drop else k
        k = k[:, None] if ds.ndim == 3 else k
        k = np.ascontiguousarray(np.swapaxes(k, -1, -2)).astype(np.complex64, copy=False)
        if not np.all(np.isfinite(k)):
            raise ValueError(f"{src}: field 'kspace' holds NaN or Inf samples")
        hdr = _header(src, f, h5py, ds.shape[-2], ds.shape[-1])
        mask = _mask(src, f, h5py, k, ds.shape[-1])
        ref = None
        for name in ("reconstruction_rss", "reconstruction_esc"):
            r = _dataset(src, f, name, h5py)
            if r is not None:
                if r.ndim != 3 or r.shape[0] != ds.shape[0]:
                    raise ValueError(f"{src}: field {name!r} must be (slices={ds.shape[0]}, y, x), "
                                     f"got {r.shape}")
                ref = np.swapaxes(_read(src, r, sel, size, repr(name)), -1, -2).astype(np.float32)
                ref = ref[None] if drop else ref
                hdr.extra["reference"] = name
                break
        hdr.extra.update({k_: _attr(v) for k_, v in f.attrs.items()})
    if drop or k.shape[0] == 1:
        k, mask = k[0], mask[0]
        ref = None if ref is None else ref[0]
    axes = ("coil", "ky", "kx") if k.ndim == 3 else ("slice", "coil", "ky", "kx")
    return RawMRI(kspace=k, mask=mask, header=hdr, axes=axes, reference=ref, path=src)


def _attr(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.generic):
        return v.item()
    return v
