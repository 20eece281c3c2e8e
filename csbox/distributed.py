"""Scale-out on Dask: batch reconstructions and parameter sweeps, resumable, nothing lost.

Two functions cover the two ways csbox work outgrows one process:

* :func:`map_batches` applies ``fn(data[i:i + chunk], **kwargs)`` along the
  leading axis of a large array (every slice of an MRI exam, every frame of an
  ultrasound acquisition), reading each chunk on the worker that processes it;
* :func:`sweep` runs ``fn(**params)`` for every point of a parameter grid
  (phase-transition diagrams, SNR x rate x method tables) and returns one row
  of parameters and metrics per point.

Both run on a ``dask.distributed`` cluster: an existing one (a ``Client`` or a
scheduler address, e.g. from ``dask-jobqueue`` on HPC or ``dask-cuda`` for GPU
workers), ``"local:N"`` for a ``LocalCluster`` of ``N`` processes, ``None`` for
a ``LocalCluster`` sized to the machine, or ``"serial"`` to run in the calling
process (same results, same resume files, no Dask needed).

Semantics shared by both:

* ``fn`` and the keyword arguments (operators, masks) are scattered to every
  worker once (``client.scatter(..., broadcast=True)``), not sent with each task;
* at most ``8 x`` (number of worker threads) tasks are in flight, so neither the
  client nor the scheduler holds the whole input;
* with ``out=PATH`` every finished item is written as it completes, and a second
  call with the same arguments computes only the items not yet written: a killed
  run loses nothing that finished;
* a worker that dies mid-run has its tasks re-run on the others (Dask's
  scheduler does this); an exception in ``fn`` on one item is recorded with the
  item's index and parameters, the other items run to the end (and are saved),
  and a :class:`BatchError` listing the failed items is raised last.

References
----------
M. Rocklin, "Dask: parallel computation with blocked algorithms and task
scheduling", Proc. SciPy 2015.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import mmap
import os
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ._validation import check_int, check_memory
from .backend import to_numpy

__all__ = ["WORKER_ENV", "BatchError", "Failure", "map_batches", "sweep"]

#: Environment of the worker processes csbox starts (``client=None`` / ``"local:N"``); give it to
#: clusters you start yourself (``LocalCluster(env=WORKER_ENV)``, or Dask's config key
#: ``distributed.nanny.pre-spawn-environ``). One FFT/BLAS thread per single-thread worker. The
#: malloc thresholds undo Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``, which switches off
#: glibc's adaptive mmap threshold: every temporary above 128 KiB (a 128 x 128 complex image)
#: is then mmap-ed and page-faulted afresh, which made FISTA with wavelets 3x slower on a worker
#: than in a plain process (``benchmarks/bench_distributed.py``). 32 MiB and 64 MiB are glibc's
#: own adaptive maxima on 64-bit Linux.
WORKER_ENV = {
    "CSBOX_FFT_WORKERS": "1",
    "OMP_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": str(32 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(64 * 2**20),
}

_DONE_FILE = ".csbox-done"  # one finished chunk index per line, next to the zarr array's metadata
_STORE_ATTR = "csbox.map_batches"
_INDEX_KEY = "_index"


# ----------------------------------------------------------------------------- failures
@dataclass
class Failure:
    """One item whose ``fn`` call raised.

    Attributes
    ----------
    index : int
        Position of the item (chunk number for :func:`map_batches`, grid
        position for :func:`sweep`).
    params : dict
        The item: ``{"start": i, "stop": j}`` (rows of ``data``) or the grid point.
    error : str
        ``"ExceptionType: message"``.
    traceback : str
        The remote traceback, formatted.
    exception : BaseException or None
        The exception object, where it could be brought back.
    """

    index: int
    params: dict
    error: str
    traceback: str = ""
    exception: BaseException | None = None


class BatchError(RuntimeError):
    """Some items failed; every other item finished (and, with ``out=``, was saved).

    Parameters
    ----------
    failures : list of Failure
        The failed items (stored sorted by index).
    n_items : int
        Number of items in the batch (for the message).
    results : optional
        The partial results, stored as ``results``.
    saved : bool, default False
        Whether the finished items were written to ``out=`` (changes the message).

    Attributes
    ----------
    failures : list of Failure
        The failed items, in index order.
    results : numpy.ndarray, zarr array or list
        What :func:`map_batches` / :func:`sweep` would have returned, with the
        failed items missing (NaN rows for inexact dtypes, zeros otherwise, in
        arrays; ``None`` in a list of rows). ``None`` when no item succeeded.
    """

    def __init__(self, failures: list[Failure], n_items: int, results: Any = None, saved: bool = False):
        self.failures = sorted(failures, key=lambda f: f.index)
        self.results = results
        head = f"{len(failures)} of {n_items} items failed"
        kept = "; the others finished and were saved (a second call retries only the failed ones)" \
            if saved else "; the others finished (results in .results)"
        lines = [f"  item {f.index} {f.params}: {f.error}" for f in self.failures[:10]]
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more (see .failures)")
        super().__init__(head + kept + ":\n" + "\n".join(lines))


# ----------------------------------------------------------------------------- clients
def _require_dask() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "csbox.distributed needs dask.distributed: pip install 'csbox[distributed]' "
            "(or pass client='serial' to run in this process)"
        ) from exc
    return distributed


def _n_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _check_client(client: Any) -> Any:
    """Validate ``client`` without connecting: a Client, None, "serial", "local:N" or an address."""
    if client is None or (isinstance(client, str) and client == "serial"):
        return client
    if isinstance(client, str):
        if client.startswith("local:"):
            tail = client[len("local:"):]
            if not tail.isdigit() or int(tail) < 1:
                raise ValueError(f"client must be 'local:N' with N >= 1 workers, got {client!r}")
        elif not client:
            raise ValueError("client must be a scheduler address, 'local:N', 'serial' or None, got ''")
        return client
    if type(client).__name__ == "Client" and hasattr(client, "submit") and hasattr(client, "scatter"):
        return client
    raise TypeError(
        "client must be a dask.distributed.Client, a scheduler address such as 'tcp://host:8786', "
        f"'local:N', 'serial' or None, got {type(client).__name__}"
    )


@contextlib.contextmanager
def _open_client(client: Any) -> Iterator[Any]:
    """The Client to run on (``None`` for serial); clusters and clients started here are closed after."""
    if isinstance(client, str) and client == "serial":
        yield None
        return
    if client is not None and not isinstance(client, str):
        yield client
        return
    distributed = _require_dask()
    if isinstance(client, str) and not client.startswith("local:"):
        with distributed.Client(client) as c:
            yield c
        return
    n = _n_cpus() if client is None else int(client[len("local:"):])
    # processes with one thread each: csbox numerics hold the GIL between NumPy calls, and the
    # FFTs would otherwise each start a thread per core on every worker
    with distributed.LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
        env=dict(WORKER_ENV),
    ) as cluster, distributed.Client(cluster) as c:  # fmt: skip
        yield c


# ----------------------------------------------------------------------------- the task loop
def _remote_traceback(fut: Any) -> str:
    try:
        tb = fut.traceback()
        return "".join(traceback.format_tb(tb)) if tb is not None else ""
    except Exception:  # the traceback is a courtesy: never let it hide the error
        return ""


def _execute(
    client: Any,
    func: Callable[[Any, Any], Any],
    payload: Any,
    items: Iterable[tuple[int, Any]],
    *,
    total: int,
    progress: bool,
    desc: str,
) -> Iterator[tuple[int, Any, BaseException | None, str]]:
    """Run ``func(payload, arg)`` per ``(index, arg)``; yield ``(index, value, error, tb)`` as they finish.

    ``payload`` goes to every worker once; ``arg`` is built lazily and travels
    with its task (so the scheduler can re-run the task elsewhere if its worker
    dies). At most ``8 x`` worker threads tasks are in flight.
    """
    bar = tqdm(total=total, desc=desc, disable=not progress)
    try:
        if client is None:
            for index, arg in items:
                if _is_dask_collection(arg):
                    arg = arg.compute()
                try:
                    value, err, tb = func(payload, arg), None, ""
                except Exception as exc:
                    value, err, tb = None, exc, traceback.format_exc()
                bar.update()
                yield index, value, err, tb
            return
        yield from _execute_dask(client, func, payload, items, bar)
    finally:
        bar.close()


def _execute_dask(
    client: Any, func: Callable, payload: Any, items: Iterable[tuple[int, Any]], bar: Any
) -> Iterator[tuple[int, Any, BaseException | None, str]]:
    from distributed import as_completed

    [remote_payload] = client.scatter([payload], broadcast=True, hash=False)
    window = max(16, 8 * sum(client.nthreads().values()))
    token = f"{getattr(func, '__name__', 'task').lstrip('_')}-{uuid.uuid4().hex[:8]}"
    queue = iter(items)
    pending: dict[Any, int] = {}
    running = as_completed()

    def submit(k: int) -> None:
        """Submit up to ``k`` more items in one call (one message to the scheduler)."""
        batch = list(itertools.islice(queue, k))
        if not batch:
            return
        args = [client.compute(a) if _is_dask_collection(a) else a for _, a in batch]
        futs = client.map(func, [remote_payload] * len(batch), args,
                          key=[f"{token}-{index}" for index, _ in batch])
        for (index, _), fut in zip(batch, futs, strict=True):
            pending[fut] = index
            running.add(fut)

    try:
        submit(window)
        # finished futures come in batches: one gather and one refill per batch
        for batch in running.batches():
            done = [f for f in batch if f.status == "finished"]
            values = dict(zip(done, client.gather(done), strict=True)) if done else {}
            submit(len(batch))
            for fut in batch:
                index = pending.pop(fut)
                value, err, tb = values.get(fut), None, ""
                if fut not in values:
                    err, tb = _future_error(fut), _remote_traceback(fut)
                fut.release()
                bar.update()
                yield index, value, err, tb
    finally:
        if pending:
            client.cancel(list(pending))
        remote_payload.release()


def _future_error(fut: Any) -> BaseException:
    try:
        err = fut.exception()
    except BaseException as exc:  # cancelled futures raise here
        return exc
    return err if err is not None else RuntimeError(f"task ended with status {fut.status!r}")


def _is_dask_collection(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("dask"):
        return False
    from dask import is_dask_collection

    return is_dask_collection(x)


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


# ----------------------------------------------------------------------------- data sources
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


def _require_zarr() -> Any:
    try:
        import zarr
    except ImportError as exc:
        raise ImportError("out= writes a zarr store and needs zarr: "
                          "pip install 'csbox[distributed]'") from exc
    return zarr


# ----------------------------------------------------------------------------- worker side
_READERS = (_MemmapChunk, _SlicedChunk, _HDF5Chunk)


def _apply_chunk(payload: tuple[Callable, dict], block: Any) -> np.ndarray:
    """On the worker: read the chunk, apply ``fn``, bring the result to the host as NumPy."""
    fn, kwargs = payload
    if isinstance(block, _READERS):
        block = block.read()
    return _host_result(fn(block, **kwargs), int(block.shape[0]))


def _host_result(res: Any, n: int) -> np.ndarray:
    from .iterative import Result

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


def _call_point(fn: Callable[..., Any], params: dict) -> Any:
    """On the worker: one grid point."""
    return fn(**params)


def _finish(failures: list[Failure], n_items: int, results: Any, *, saved: bool) -> Any:
    """``results``, or a :class:`BatchError` holding them when some items failed."""
    if failures:
        raise BatchError(failures, n_items, results, saved=saved)
    return results


# ----------------------------------------------------------------------------- map_batches output
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


def _place(results: np.ndarray | None, value: np.ndarray, start: int, stop: int, n: int) -> np.ndarray:
    """Put one chunk's rows into the stacked in-memory result (allocated at the first chunk)."""
    if results is None:
        check_memory("map_batches' stacked result", n * math.prod(value.shape[1:]), value.dtype.itemsize)
        fill = np.nan if np.issubdtype(value.dtype, np.inexact) else 0
        results = np.full((n, *value.shape[1:]), fill, dtype=value.dtype)
    _check_like(value, results.shape[1:], results.dtype)
    results[start:stop] = value
    return results


def _check_run_args(fn: Any, client: Any, progress: Any, out: Any) -> Any:
    """The arguments :func:`map_batches` and :func:`sweep` share, checked; returns the client spec."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    client = _check_client(client)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path or None, got {type(out).__name__}")
    return client


# ----------------------------------------------------------------------------- map_batches
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
        (about a millisecond, see ``docs/distributed.md``) and let ``fn`` batch.
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


# ----------------------------------------------------------------------------- sweep
def _plain(v: Any) -> Any:
    """``v`` as plain Python (NumPy scalars and arrays converted, tuples as lists): rows JSON round-trip."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "shape") and hasattr(v, "dtype"):  # torch, CuPy, array_api_strict
        return _plain(np.asarray(to_numpy(v)))
    return v


def _grid_points(grid: Any) -> list[dict]:
    if not isinstance(grid, Mapping) or not grid:
        raise TypeError(f"grid must be a non-empty dict of parameter lists, "
                        f"got {type(grid).__name__} {grid!r}")
    axes = []
    for key, values in grid.items():
        if not isinstance(key, str) or not key.isidentifier() or key == _INDEX_KEY:
            raise ValueError(f"grid keys must be parameter names (identifiers other than {_INDEX_KEY!r}), "
                             f"got {key!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise TypeError(f"grid[{key!r}] must be a list of values, got {type(values).__name__} {values!r}")
        if isinstance(values, np.ndarray) and values.ndim != 1:
            raise ValueError(f"grid[{key!r}] must be 1-D, got shape {values.shape}")
        if len(values) == 0:
            raise ValueError(f"grid[{key!r}] is empty; every parameter needs at least one value")
        axes.append([_plain(v) for v in values])
    n_points = math.prod(len(a) for a in axes)
    check_memory("the sweep's grid", n_points * len(axes), 64)
    return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*axes)]


def _make_row(params: dict, metrics: Any, to_file: bool) -> dict:
    if not isinstance(metrics, Mapping):
        raise TypeError(f"fn must return a dict of metrics, got {type(metrics).__name__}")
    row = dict(params)
    for key, v in metrics.items():
        if not isinstance(key, str) or key in params or key == _INDEX_KEY:
            raise ValueError(f"metric names must be strings other than the parameters {list(params)} and "
                             f"{_INDEX_KEY!r}, got {key!r}")
        row[key] = _plain(v)
    if to_file:
        try:
            json.dumps(row, allow_nan=True)
        except TypeError as exc:
            raise TypeError(f"row {row!r} cannot be written as JSON ({exc}); return numbers, strings, "
                            "lists or arrays") from None
    return row


def _same_point(a: dict, b: dict) -> bool:
    """Equal grid points as JSON writes them (a NaN value equals itself, as in the file)."""
    return json.dumps(a, sort_keys=True, allow_nan=True) == json.dumps(b, sort_keys=True, allow_nan=True)


class _RowLog:
    """Finished rows as JSON lines ``{"_index": i, **params, **metrics}``, appended and synced one by one."""

    def __init__(self, path: str | os.PathLike, points: list[dict]):
        self.path = Path(path)
        self.points = points
        if self.path.exists() and not self.path.is_file():
            raise ValueError(f"out {str(self.path)!r} exists and is not a file")

    def finished(self) -> dict[int, dict]:
        if not self.path.exists():
            return {}
        text = self.path.read_text()
        if text and not text.endswith("\n"):  # a run killed mid-append: close the partial line
            with open(self.path, "a") as f:
                f.write("\n")
        rows: dict[int, dict] = {}
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # the partial last line of a killed run
            if not isinstance(rec, dict) or not isinstance(rec.get(_INDEX_KEY), int):
                raise ValueError(f"out {str(self.path)!r} is not a sweep record: line {line[:80]!r}")
            i = rec.pop(_INDEX_KEY)
            if not 0 <= i < len(self.points) or not _same_point({k: rec.get(k) for k in self.points[i]},
                                                                self.points[i]):
                raise ValueError(
                    f"out {str(self.path)!r} holds row {i} with parameters "
                    f"{ {k: rec.get(k) for k in self.points[0]} }, which is not point {i} of this grid; "
                    "it belongs to another sweep: give a new path or delete it"
                )
            rows.setdefault(i, rec)
        return rows

    def append(self, index: int, row: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps({_INDEX_KEY: index, **row}) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _check_json_grid(grid: Mapping[str, Sequence[Any]]) -> None:
    """Refuse grid values that cannot be written to a JSON-lines ``out`` file."""
    for key, values in grid.items():
        try:
            json.dumps(_plain(list(values)))
        except TypeError:
            raise TypeError(f"grid[{key!r}] must hold JSON values (numbers, strings) to be written to "
                            f"out, got {list(values)!r}") from None


def _run_points(client: Any, fn: Callable, points: list[dict], rows: list, log: Any,
                progress: bool) -> list[Failure]:
    """Run ``fn`` on the points whose row is still ``None``; fill ``rows`` (and ``log``) as they finish."""
    todo = [i for i, row in enumerate(rows) if row is None]
    failures: list[Failure] = []
    if not todo:
        return failures
    with _open_client(client) as c:
        items = ((i, points[i]) for i in todo)
        with contextlib.closing(_execute(c, _call_point, fn, items, total=len(todo),
                                         progress=progress, desc="sweep")) as run:
            for i, value, err, tb in run:
                if err is None:
                    try:
                        row = _make_row(points[i], value, to_file=log is not None)
                        if log is not None:
                            log.append(i, row)
                        rows[i] = row
                    except (TypeError, ValueError) as exc:
                        err, tb = exc, traceback.format_exc()
                if err is not None:
                    failures.append(Failure(i, dict(points[i]), _error_text(err), tb, err))
    return failures


def sweep(
    fn: Callable[..., Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]],
    *,
    client: Any = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
) -> list[dict]:
    """Run ``fn(**params)`` for every point of a parameter grid on a Dask cluster.

    The grid is the Cartesian product of ``grid``'s value lists, the last key
    varying fastest (as nested loops in the dict's order).

    Parameters
    ----------
    fn : callable
        ``fn(**params) -> dict`` of metrics (numbers, strings, lists or arrays;
        NumPy values are converted to Python ones). Sent to every worker once.
    grid : dict of str to list
        Parameter names and their values (NumPy scalars are passed to ``fn`` as
        Python numbers).
    client : distributed.Client, str or None
        As in :func:`map_batches`: a ``Client``, a scheduler address,
        ``"local:N"``, ``None`` (a ``LocalCluster`` with one process per core) or
        ``"serial"``.
    out : path, optional
        A JSON-lines file: each finished row is appended as ``{"_index": i,
        **params, **metrics}`` (flushed and synced) as it completes, so
        ``pandas.read_json(out, lines=True)`` reads the table. If the file exists
        from the same grid, its rows are reused and only the missing points run.
    progress : bool
        A tqdm bar over grid points, updated on the client (on by default;
        ``False`` turns it off).

    Returns
    -------
    list of dict
        One row ``{**params, **metrics}`` per grid point, in grid order.

    Raises
    ------
    BatchError
        After every other point has finished (and been appended to ``out``),
        when ``fn`` raised on some points; it lists their parameters and errors,
        and ``.results`` holds the rows with ``None`` for the failed points.

    References
    ----------
    M. Rocklin, "Dask: parallel computation with blocked algorithms and task
    scheduling", Proc. SciPy 2015.

    Examples
    --------
    >>> from csbox.distributed import sweep
    >>> grid = {"a": [1, 2], "b": [10]}
    >>> rows = sweep(lambda a, b: {"sum": a + b}, grid, client="serial", progress=False)
    >>> [r["sum"] for r in rows]
    [11, 12]
    """
    client = _check_run_args(fn, client, progress, out)
    points = _grid_points(grid)
    log = _RowLog(out, points) if out is not None else None
    if log is not None:
        _check_json_grid(grid)
    rows: list[dict | None] = [None] * len(points)
    if log is not None:
        for i, row in log.finished().items():
            rows[i] = row
    failures = _run_points(client, fn, points, rows, log, progress)
    return _finish(failures, len(points), rows, saved=log is not None)
