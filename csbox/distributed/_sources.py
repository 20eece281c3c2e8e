"""Where a chunk comes from: memory-mapped files, zarr, HDF5 and dask arrays read on the worker."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class _MemmapChunk:
    """Rows ``start:stop`` of an array inside a file; re-mapped on the worker, never read on the client."""

    filename: str
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: str
    start: int
    stop: int

    def read(self) -> np.ndarray:
        raw = np.memmap(self.filename, dtype=np.uint8, mode="r")
        view = np.ndarray(self.shape, dtype=np.dtype(self.dtype), buffer=raw, offset=self.offset,
                          strides=self.strides)
        return np.array(view[self.start:self.stop])


@dataclass(frozen=True)
class _SlicedChunk:
    """Rows ``start:stop`` of a picklable lazy array (zarr): the array pickles as its store's address."""

    array: Any
    start: int
    stop: int

    def read(self) -> np.ndarray:
        return np.asarray(self.array[self.start:self.stop])


@dataclass(frozen=True)
class _HDF5Chunk:
    """Rows ``start:stop`` of an HDF5 dataset (h5py objects do not pickle: the worker reopens the file)."""

    filename: str
    name: str
    start: int
    stop: int

    def read(self) -> np.ndarray:
        import h5py

        with h5py.File(self.filename, "r") as f:
            return np.asarray(f[self.name][self.start:self.stop])


def _memmap_chunker(data: np.memmap) -> Callable[[int, int], _MemmapChunk] | None:
    """Locate ``data`` (a memmap or a view of one) in its file; ``None`` if it is not file-backed."""
    mm = getattr(data, "_mmap", None)
    filename = getattr(data, "filename", None)
    if mm is None or filename is None or data.size == 0:
        return None
    # np.memmap maps the file from the allocation boundary below its offset
    map_start = data.offset - data.offset % mmap.ALLOCATIONGRANULARITY
    map_addr = np.frombuffer(mm, dtype=np.uint8).__array_interface__["data"][0]
    offset = map_start + data.__array_interface__["data"][0] - map_addr
    shape, strides, dtype = tuple(data.shape), tuple(data.strides), data.dtype.str
    return lambda i, j: _MemmapChunk(str(filename), int(offset), shape, strides, dtype, i, j)


def _chunk_source(data: Any) -> tuple[Callable[[int, int], Any], str]:
    """A function ``(start, stop) -> task argument`` for ``data``, and a short name of its kind."""
    if isinstance(data, np.memmap):
        chunker = _memmap_chunker(data)
        if chunker is not None:
            return chunker, "memory-mapped file"
    mod = type(data).__module__
    if mod.startswith("h5py"):
        filename, name = data.file.filename, data.name
        return (lambda i, j: _HDF5Chunk(filename, name, i, j)), "HDF5 dataset"
    if mod.startswith("zarr"):
        return (lambda i, j: _SlicedChunk(data, i, j)), "zarr array"
    if mod.startswith("dask"):
        # a lazy slice: _execute computes each one on the cluster, culled to the blocks it needs
        return (lambda i, j: data[i:j]), "dask array"
    # in-memory arrays (NumPy, torch CPU...): the slice itself travels with its task
    return (lambda i, j: data[i:j]), "in-memory array"


def _open_path(data: str | os.PathLike) -> Any:
    """A path to ``.npy`` opens memory-mapped; any other path as a zarr array (read-only)."""
    path = Path(data)
    if not path.exists():
        raise ValueError(f"data path {str(path)!r} does not exist")
    if path.suffix == ".npy":
        return np.load(path, mmap_mode="r")
    try:
        import zarr
    except ImportError as exc:
        raise ImportError(f"data {str(path)!r} is not a .npy file; reading it as a zarr store needs "
                          "zarr: pip install 'csbox[distributed]'") from exc
    return zarr.open_array(str(path), mode="r")


def _check_batch_data(data: Any) -> tuple[Any, int]:
    """``data`` opened (a path) and checked: an indexable array with a non-empty leading axis."""
    if isinstance(data, (str, os.PathLike)):
        data = _open_path(data)
    shape = getattr(data, "shape", None)
    if shape is None or not hasattr(data, "__getitem__"):
        raise TypeError(f"data must be an array (NumPy, memmap, zarr, HDF5 dataset, dask) or a path, "
                        f"got {type(data).__name__}")
    if len(shape) == 0 or int(shape[0]) == 0:
        raise ValueError(f"data must have a non-empty leading axis to split, got shape {tuple(shape)}")
    return data, int(shape[0])


#: The chunk descriptions a worker reads itself (anything else is the block)
_READERS = (_MemmapChunk, _SlicedChunk, _HDF5Chunk)
