"""The task loop: scatter the payload once, keep a bounded window of tasks in flight, yield as they finish."""

from __future__ import annotations

import itertools
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tqdm.auto import tqdm


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
        with warnings.catch_warnings():
            # in-memory chunks travel with their tasks (so a dead worker's tasks can re-run elsewhere);
            # the window already bounds what is in flight, which is what Dask's advice is about
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
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
