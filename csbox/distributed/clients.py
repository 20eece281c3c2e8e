"""Where a batch runs: the ``client`` argument checked and opened, and the workers' environment."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["WORKER_ENV"]

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
