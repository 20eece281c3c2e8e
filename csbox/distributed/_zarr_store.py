"""map_batches' ``out=``: a zarr array of the stacked results and the record of finished chunks."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_memory

_DONE_FILE = ".csbox-done"  # one finished chunk index per line, next to the zarr array's metadata
_STORE_ATTR = "csbox.map_batches"


def _require_zarr() -> Any:
    try:
        import zarr
    except ImportError as exc:
        raise ImportError("out= writes a zarr store and needs zarr: "
                          "pip install 'csbox[distributed]'") from exc
    return zarr


class _ZarrOut:
    """A zarr array of the stacked results plus a file of finished chunk numbers (the resume record).

    The client writes each chunk as it arrives, then appends its number to the
    record (flushed and synced): a chunk is recorded only once its data is in the
    store, so a run killed at any moment loses at most the chunks in flight.
    """

    def __init__(self, path: str | os.PathLike, n: int, chunk: int):
        self.zarr = _require_zarr()
        self.path = Path(path)
        self.meta = {"n": n, "chunk": chunk}
        self.z: Any = None
        if self.path.exists():
            try:
                z = self.zarr.open_array(str(self.path), mode="r+")
            except Exception as exc:
                raise ValueError(f"out {str(self.path)!r} exists but is not a zarr array; give a new path") \
                    from exc
            meta = dict(z.attrs).get(_STORE_ATTR)
            if meta != self.meta:
                raise ValueError(
                    f"out {str(self.path)!r} holds a map_batches run with {meta} (rows, chunk), this call "
                    f"has {self.meta}; give a new path or delete it"
                )
            self.z = z

    @property
    def record(self) -> Path:
        return self.path / _DONE_FILE

    def finished(self, n_chunks: int) -> set[int]:
        if self.z is None or not self.record.exists():
            return set()
        text = self.record.read_text()
        if text and not text.endswith("\n"):  # a run killed mid-append: close the partial line
            with open(self.record, "a") as f:
                f.write("\n")
        done = set()
        for line in text.splitlines():
            if line.strip().isdigit() and int(line) < n_chunks:
                done.add(int(line))
        return done

    def write(self, index: int, start: int, stop: int, value: np.ndarray) -> None:
        if self.z is None:
            shape = (self.meta["n"], *value.shape[1:])
            check_memory("the zarr chunk of map_batches' out",
                         self.meta["chunk"] * math.prod(value.shape[1:]), value.dtype.itemsize)
            self.z = self.zarr.open_array(str(self.path), mode="w", shape=shape,
                                          chunks=(self.meta["chunk"], *value.shape[1:]), dtype=value.dtype)
            self.z.attrs[_STORE_ATTR] = self.meta
        _check_like(value, self.z.shape[1:], self.z.dtype)
        self.z[start:stop] = value
        with open(self.record, "a") as f:
            f.write(f"{index}\n")
            f.flush()
            os.fsync(f.fileno())


def _check_like(value: np.ndarray, rest: tuple[int, ...], dtype: Any) -> None:
    if tuple(value.shape[1:]) != tuple(rest) or value.dtype != dtype:
        raise ValueError(f"fn returned rows of shape {value.shape[1:]} and dtype {value.dtype}, but earlier "
                         f"chunks gave {tuple(rest)} and {np.dtype(dtype)}; every chunk must give the same")
