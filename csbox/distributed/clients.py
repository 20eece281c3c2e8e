"""Where a batch runs: the ``client`` argument checked and opened, and the workers' environment."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["WORKER_ENV", "worker_environment"]

#: Environment of the worker processes csbox starts (``client=None`` / ``"local:N"``). Clusters you
#: start yourself get it from :func:`worker_environment` (``with worker_environment(): cluster =
#: LocalCluster(...)``), or from the job script's shell for ``dask worker`` (dask-jobqueue's
#: ``job_script_prologue``). ``LocalCluster(env=WORKER_ENV)`` is not enough: Dask applies ``env=`` inside
#: the worker after it has started, when glibc has already read its malloc settings. One FFT/BLAS thread
#: per single-thread worker. The malloc thresholds undo Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``,
#: which switches off glibc's adaptive mmap threshold: every temporary above 128 KiB (a 128 x 128 complex
#: image) is then mmap-ed and page-faulted afresh, which made l1-wavelet SENSE 2.3x slower in CPU time on
#: a worker than in a plain process (``benchmarks/bench_distributed.py``). 32 MiB and 64 MiB are glibc's
#: own adaptive maxima on 64-bit Linux.
WORKER_ENV = {
    "CSBOX_FFT_WORKERS": "1",
    "OMP_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": str(32 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(64 * 2**20),
}

_PRE_SPAWN = "distributed.nanny.pre-spawn-environ"


@contextlib.contextmanager
def worker_environment() -> Iterator[None]:
    """Start Dask worker processes inside this block with :data:`WORKER_ENV` set before they spawn.

    Within the block, :data:`WORKER_ENV` is added to Dask's ``distributed.nanny.pre-spawn-environ``
    config (the variables a nanny puts into the environment before it spawns its worker, and again at
    each restart) and, for the block's duration, to ``os.environ``, which Dask lets override that config.
    Nannies created in the block (``LocalCluster(processes=True)``, ``Nanny``) keep the setting for the
    life of the cluster; the calling process's environment is restored on exit (Dask's nannies write
    their variables into it again whenever they spawn a worker). Worker threads
    (``processes=False``) run in this process and are not affected.

    Yields
    ------
    None

    Examples
    --------
    >>> from distributed import Client, LocalCluster
    >>> from csbox.distributed import worker_environment
    >>> with worker_environment():  # doctest: +SKIP
    ...     cluster = LocalCluster(n_workers=2, threads_per_worker=1)
    >>> client = Client(cluster)  # doctest: +SKIP
    """
    import dask

    _require_dask()
    pre = {**dask.config.get(_PRE_SPAWN, default={}), **WORKER_ENV}
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    try:
        with dask.config.set({_PRE_SPAWN: pre}):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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
    with worker_environment():
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
    with cluster, distributed.Client(cluster) as c:
        yield c


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
