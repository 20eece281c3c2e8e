"""BART's ``.cfl`` / ``.hdr`` file pair: read and write complex arrays of any dimensions.

Format (BART, ``src/misc/io.c``): ``NAME.hdr`` is text whose line ``# Dimensions``
is followed by one line of space-separated sizes (BART writes 16, trailing ones
included; other ``# ...`` sections such as ``# Command`` may follow);
``NAME.cfl`` holds the samples as little-endian complex64 (float32 real,
float32 imaginary, interleaved) in column-major (Fortran) order: the first
dimension varies fastest. BART's axes are ``[x, y, z, coil, map, te, ...]``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_cfl", "write_cfl"]

_BART_DIMS = 16


def _base(name: str | os.PathLike) -> Path:
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"name must be a path (str or os.PathLike), got {type(name).__name__}")
    p = Path(name)
    if p.suffix in (".cfl", ".hdr"):
        p = p.with_suffix("")
    return p


def _with(base: Path, ext: str) -> Path:
    """``NAME.ext``, appended as BART does (``kspace.v2`` -> ``kspace.v2.cfl``, not ``kspace.cfl``)."""
    return base.with_name(base.name + ext)


def _read_dims(hdr: Path) -> tuple[int, ...]:
    try:
        raw = hdr.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no BART header {hdr}") from None
    if len(raw) > 1 << 20:  # BART writes a few hundred bytes
        raise ValueError(f"{hdr}: {len(raw)} bytes is not a BART header (the field '# Dimensions' is a line)")
    try:
        lines = raw.decode("ascii").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{hdr}: not a text header (non-ASCII bytes); no '# Dimensions' field") from None
    for i, line in enumerate(lines):
        if line.strip() == "# Dimensions":
            if i + 1 >= len(lines):
                break
            try:
                dims = tuple(int(t) for t in lines[i + 1].split())
            except ValueError:
                raise ValueError(f"{hdr}: the line after '# Dimensions' must be integers, "
                                 f"got {lines[i + 1]!r}") from None
            if not dims or any(d < 0 for d in dims):
                raise ValueError(f"{hdr}: dimensions must be non-negative integers, got {dims}")
            return dims
    raise ValueError(f"{hdr}: no '# Dimensions' line followed by the sizes (not a BART header)")


def _check_finite(data: np.ndarray, cfl: Path) -> None:
    """``ValueError`` naming the file when a sample is NaN or Inf (scanned in blocks: no big temporary)."""
    flat = data.reshape(-1, order="A")
    step = 1 << 20
    for i in range(0, flat.size, step):
        if not np.isfinite(flat[i : i + step]).all():
            bad = i + int(np.flatnonzero(~np.isfinite(flat[i : i + step]))[0])
            raise ValueError(
                f"{cfl}: sample {bad} (in file order) is NaN or Inf; pass check_finite=False to read it as is"
            )


def read_cfl(
    name: str | os.PathLike, *, squeeze: bool = True, mmap: bool = False, check_finite: bool = True
) -> np.ndarray:
    """Read BART's ``NAME.cfl`` / ``NAME.hdr`` into a complex64 NumPy array.

    Parameters
    ----------
    name : str or path
        The file name with or without the ``.cfl``/``.hdr`` suffix.
    squeeze : bool
        Drop trailing singleton dimensions (BART pads every array to 16 axes);
        inner singleton axes are kept, so BART's axis numbering is preserved.
    mmap : bool
        Memory-map the ``.cfl`` file read-only instead of reading it.
    check_finite : bool, default True
        Raise ``ValueError`` (naming the file and the sample) when a sample is NaN or Inf; with
        ``mmap`` the file is scanned once, block by block.

    Returns
    -------
    ndarray, complex64, Fortran-ordered
        ``a[i0, i1, ...]`` is BART's sample at those indices.

    Raises
    ------
    ValueError
        When the header is malformed (not text, no ``# Dimensions`` line, negative or non-integer
        sizes), the ``.cfl`` size does not match it (checked before anything is allocated), or a
        sample is NaN/Inf (``check_finite``).
    """
    base = _base(name)
    dims = _read_dims(_with(base, ".hdr"))
    cfl = _with(base, ".cfl")
    n = math.prod(dims)
    try:
        size = cfl.stat().st_size
    except FileNotFoundError:
        raise FileNotFoundError(f"no BART data file {cfl}") from None
    if size != 8 * n:
        raise ValueError(f"{cfl} has {size} bytes but its header gives dims {dims} "
                         f"({n} complex64 samples = {8 * n} bytes)")
    if squeeze:
        while len(dims) > 1 and dims[-1] == 1:
            dims = dims[:-1]
    if mmap:
        out = np.memmap(cfl, dtype="<c8", mode="r", shape=dims, order="F")
    else:
        out = np.reshape(np.fromfile(cfl, dtype="<c8", count=n), dims, order="F")
        out = out.astype(np.complex64, copy=False)
    if check_finite:
        _check_finite(out, cfl)
    return out


def write_cfl(name: str | os.PathLike, array: Any) -> None:
    """Write ``array`` as BART's ``NAME.cfl`` / ``NAME.hdr`` (complex64, column-major).

    Parameters
    ----------
    name : str or path
        The file name with or without the ``.cfl``/``.hdr`` suffix.
    array : array_like
        Any numeric array (NumPy or any array-API namespace; copied to the
        host). Real and integer data are stored as complex with zero imaginary
        part; complex128 is rounded to complex64 (BART's only type). Axis ``i``
        of ``array`` is BART's dimension ``i``; arrays with fewer than 16 axes
        are padded with singleton dimensions in the header, as BART writes it.

    Raises
    ------
    TypeError
        For non-numeric data.
    ValueError
        When finite values overflow complex64 (NaN and Inf are stored as they are).

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from csbox.io import read_cfl, write_cfl
    >>> x = np.arange(6, dtype=np.complex64).reshape(2, 3)
    >>> d = tempfile.mkdtemp()
    >>> write_cfl(os.path.join(d, "x"), x)
    >>> bool(np.array_equal(read_cfl(os.path.join(d, "x")), x))
    True
    """
    from ..backend import to_numpy

    a = to_numpy(array) if hasattr(array, "shape") else np.asarray(array)
    if a.dtype.kind not in "biufc":
        raise TypeError(f"array must be numeric, got dtype {a.dtype}")
    if a.ndim == 0:
        a = np.reshape(a, (1,))
    with np.errstate(over="ignore"):
        data = a.astype(np.complex64)
    if np.any(np.isinf(data) & ~np.isinf(a)):
        raise ValueError("array has values beyond the complex64 range BART stores")
    dims = (*a.shape, *([1] * max(0, _BART_DIMS - a.ndim)))
    base = _base(name)
    base.parent.mkdir(parents=True, exist_ok=True)
    _with(base, ".hdr").write_text("# Dimensions\n" + " ".join(str(d) for d in dims) + " \n")
    np.asarray(data, dtype="<c8").ravel(order="F").tofile(_with(base, ".cfl"))
