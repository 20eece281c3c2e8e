"""What a batch reports when some of its items fail: :class:`Failure` per item, :class:`BatchError` last."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BatchError", "Failure"]


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


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _finish(failures: list[Failure], n_items: int, results: Any, *, saved: bool) -> Any:
    """``results``, or a :class:`BatchError` holding them when some items failed."""
    if failures:
        raise BatchError(failures, n_items, results, saved=saved)
    return results
