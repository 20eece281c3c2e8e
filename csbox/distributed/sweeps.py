"""sweep: one function over every point of a parameter grid, rows logged as JSON lines, resumable."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_memory
from ..backend import to_numpy
from ._execute import _execute
from .clients import _check_run_args, _open_client
from .failures import Failure, _error_text, _finish

__all__ = ["sweep"]

_INDEX_KEY = "_index"


def _call_point(fn: Callable[..., Any], params: dict) -> Any:
    """On the worker: one grid point."""
    return fn(**params)


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
