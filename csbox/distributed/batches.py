"""map_batches: one function along the leading axis of a large array, chunk by chunk, on a cluster."""

from __future__ import annotations

import contextlib
import math
import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_int, check_memory
from ..backend import to_numpy
from ..iterative import Result
from ._execute import _execute
from ._sources import _READERS, _check_batch_data, _chunk_source
from ._zarr_store import _check_like, _ZarrOut
from .clients import _check_run_args, _open_client
from .failures import Failure, _error_text, _finish

__all__ = ["map_batches"]


def _apply_chunk(payload: tuple[Callable, dict], block: Any) -> np.ndarray:
    """On the worker: read the chunk, apply ``fn``, bring the result to the host as NumPy."""
    fn, kwargs = payload
    if isinstance(block, _READERS):
        block = block.read()
    return _host_result(fn(block, **kwargs), int(block.shape[0]))


def _host_result(res: Any, n: int) -> np.ndarray:
    if isinstance(res, Result):
        res = res.x
    if not hasattr(res, "shape"):
        raise TypeError(f"fn must return an array (or a csbox Result) whose leading axis has the chunk's "
                        f"{n} rows, got {type(res).__name__}")
    arr = np.asarray(to_numpy(res))
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"fn returned shape {arr.shape} for a chunk of {n} rows; its leading axis must be "
                         f"the chunk's rows (one result per input row)")
    return arr


def _place(results: np.ndarray | None, value: np.ndarray, start: int, stop: int, n: int) -> np.ndarray:
    """Put one chunk's rows into the stacked in-memory result (allocated at the first chunk)."""
    if results is None:
        check_memory("map_batches' stacked result", n * math.prod(value.shape[1:]), value.dtype.itemsize)
        fill = np.nan if np.issubdtype(value.dtype, np.inexact) else 0
        results = np.full((n, *value.shape[1:]), fill, dtype=value.dtype)
    _check_like(value, results.shape[1:], results.dtype)
    results[start:stop] = value
    return results


def _run_chunks(client: Any, fn: Callable, kwargs: dict, source: tuple, bounds: list,
                store: Any, progress: bool) -> tuple[np.ndarray | None, list[Failure]]:
    """Run ``fn`` on the chunks ``store`` has not recorded; write each (or stack them) as it finishes."""
    source, kind = source
    n = bounds[-1][1]
    done = store.finished(len(bounds)) if store is not None else set()
    todo = [c for c in range(len(bounds)) if c not in done]
    results: np.ndarray | None = None
    failures: list[Failure] = []
    if not todo:
        return results, failures
    with _open_client(client) as c:
        items = ((ci, source(*bounds[ci])) for ci in todo)
        # closing(): an error here cancels the tasks in flight before the client goes away
        with contextlib.closing(_execute(c, _apply_chunk, (fn, kwargs), items, total=len(todo),
                                         progress=progress, desc=f"map_batches ({kind})")) as run:
            for ci, value, err, tb in run:
                start, stop = bounds[ci]
                if err is None:
                    try:
                        if store is not None:
                            store.write(ci, start, stop, value)
                        else:
                            results = _place(results, value, start, stop, n)
                    except (TypeError, ValueError) as exc:
                        err, tb = exc, traceback.format_exc()
                if err is not None:
                    failures.append(Failure(ci, {"start": start, "stop": stop}, _error_text(err), tb, err))
    return results, failures


def map_batches(
    fn: Callable[..., Any], data: Any, *, client: Any = None, chunk: int = 1,
    out: str | os.PathLike | None = None, progress: bool = True, **kwargs: Any,
) -> Any:
    """Apply ``fn(data[i:i + chunk], **kwargs)`` along the leading axis of ``data`` on a Dask cluster.

    ``R[i:i+c] = fn(D[i:i+c], **kwargs)`` for ``i = 0, c, 2c, ...``: each chunk is independent (a slice
    of an exam, a frame of an acquisition), read where it is processed, its result row-aligned with its input.

    Parameters
    ----------
    fn : callable
        ``fn(block, **kwargs)`` with ``block`` of shape ``(rows, *data.shape[1:])``
        (``rows = chunk``, fewer for the last chunk), returning an array whose
        leading axis has ``rows`` entries, or a csbox ``Result`` (its ``x`` is
        taken). Any namespace (CuPy on GPU workers): results come back as NumPy.
        A ``functools.partial`` of ``fista`` with its operator is typical; it must
        pickle (csbox operators do).
    data : array-like or path
        NumPy array, memory-mapped ``.npy`` (``np.load(path, mmap_mode="r")``, or
        the path itself), zarr array (or the path of a zarr store), HDF5 dataset
        (``h5py``; the file must be readable by the workers) or dask array. Files
        are read chunk by chunk on the workers (they must see the same path); a
        dask array's chunks are computed on the cluster; an in-memory array sends
        each chunk with its task. Nothing is loaded whole on the client.
    client : distributed.Client, str or None
        Where to run: a ``Client``; a scheduler address (``"tcp://host:8786"``);
        ``"local:N"`` for a ``LocalCluster`` of ``N`` single-thread processes;
        ``None`` for such a cluster with one process per core; ``"serial"`` to run
        in this process without Dask. Clusters and clients started here are
        closed before returning.
    chunk : int
        Rows per task (``>= 1``). Larger chunks amortise the per-task overhead
        (a few milliseconds, see ``docs/distributed.md``) and let ``fn`` batch.
    out : path, optional
        A zarr store to write each chunk to as it completes (chunked ``(chunk,
        *row_shape)``; the finished chunk numbers are recorded in a file
        ``.csbox-done`` in it). If the store exists from an earlier call with the
        same ``data`` length and ``chunk``, only the chunks not recorded are
        computed. The client writes the store, so ``out`` is a path on the client.
    progress : bool
        A tqdm bar over chunks, updated on the client as each one finishes (on by default: it costs
        nothing on the workers; ``False`` turns it off).
    **kwargs
        Passed to ``fn``; sent to every worker once with ``fn`` itself, not with every task.

    Returns
    -------
    numpy.ndarray or zarr.Array
        The stacked results ``(data.shape[0], *row_shape)``, or the zarr array
        at ``out``.

    Raises
    ------
    BatchError
        After every other chunk has finished (and been written to ``out``), when ``fn`` raised on some
        chunks; it lists their rows and errors and holds the partial results. A second call with ``out=``
        recomputes only those.

    References
    ----------
    M. Rocklin, "Dask: parallel computation with blocked algorithms and task
    scheduling", Proc. SciPy 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.distributed import map_batches
    >>> data = np.arange(12.0).reshape(6, 2)
    >>> out = map_batches(lambda b: 2 * b, data, client="serial", chunk=2, progress=False)
    >>> out[:, 0]
    array([ 0.,  4.,  8., 12., 16., 20.])
    """
    chunk = check_int("chunk", chunk, low=1)
    client = _check_run_args(fn, client, progress, out)
    data, n = _check_batch_data(data)
    bounds = [(i, min(i + chunk, n)) for i in range(0, n, chunk)]
    store = _ZarrOut(out, n, chunk) if out is not None else None
    results, failures = _run_chunks(client, fn, kwargs, _chunk_source(data), bounds, store, progress)
    return _finish(failures, len(bounds), store.z if store is not None else results, saved=store is not None)
