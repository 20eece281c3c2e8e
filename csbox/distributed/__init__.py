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

The package, one concept per module: ``csbox.distributed.batches`` (``map_batches``),
``csbox.distributed.sweeps`` (``sweep`` and its JSON-lines log),
``csbox.distributed.failures`` (``Failure``, ``BatchError``),
``csbox.distributed.clients`` (the ``client`` argument, ``WORKER_ENV``,
``worker_environment``), and the private
task loop (``_execute``), chunk sources (``_sources``) and zarr output (``_zarr_store``).

References
----------
M. Rocklin, "Dask: parallel computation with blocked algorithms and task
scheduling", Proc. SciPy 2015.
"""

from .batches import map_batches
from .clients import WORKER_ENV, worker_environment
from .failures import BatchError, Failure
from .sweeps import sweep

__all__ = ["WORKER_ENV", "BatchError", "Failure", "map_batches", "sweep", "worker_environment"]
