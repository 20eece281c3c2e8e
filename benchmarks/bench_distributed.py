"""csbox.distributed on a LocalCluster: per-task overhead, and speed-up of real work at 1 vs 2 workers.

Three measurements, each printed with its ratio:

1. overhead per task: ``map_batches`` and ``sweep`` of an empty ``fn`` (400
   tasks, 2 workers): wall time per task and tasks per second through the
   client + scheduler;
2. the phase-transition grid of ``csbox demo phase-transition`` (the quick grid
   by default, ``--full`` for the 9 x 13 grid of the docs): in this process
   (the ``"serial"`` path), on 1 worker, on 2 workers;
3. a 32-slice CS-MRI batch (128 x 128 slices, 4x random mask, db4 wavelets,
   100 FISTA iterations per slice) with ``map_batches``: a serial loop, 1
   worker, 2 workers.

Overhead = ``t(1 worker) / t(serial) - 1`` (goal < 5 %), speed-up = ``t(serial)
/ t(2 workers)`` (goal >= 1.7 on 2 cores). Serial, 1 and 2 workers are timed back
to back, best of two rounds, so that load from other processes hits them alike. Everything single-threaded
(``CSBOX_FFT_WORKERS=1``, BLAS with one thread) so the serial baseline and each
worker use one core. Cluster start-up is timed apart. At the end, the numbers
are turned into what a 64-worker cluster needs: ``64 / t(task)`` tasks per
second through the scheduler, against the measured throughput.

Run: ``python benchmarks/bench_distributed.py [--full]`` (``pip install -e ".[distributed]"``).
"""

from __future__ import annotations

import os

for _v in ("CSBOX_FFT_WORKERS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # before NumPy/SciPy/csbox are imported

import argparse  # noqa: E402
import functools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from _timing import versions  # noqa: E402
from csbox.demos import phase_transition  # noqa: E402
from csbox.distributed import WORKER_ENV, map_batches, sweep  # noqa: E402
from csbox.operators import PartialFourier, Wavelet  # noqa: E402
from csbox.phantoms import shepp_logan  # noqa: E402
from csbox.solvers import fista  # noqa: E402

N_EMPTY = 400
N_SLICES = 32
SHAPE = (128, 128)


def identity(block):
    return block


def empty_point(i):
    return {}


def recon(y, A, W):
    return fista(A, y, 0.005, transform=W, max_iter=100, tol=None, check_every=100)


def mri_batch():
    rng = np.random.default_rng(0)
    mask = rng.random(SHAPE) < 0.25
    mask[:4, :4] = mask[-4:, -4:] = mask[:4, -4:] = mask[-4:, :4] = True  # low frequencies (DC at 0)
    A = PartialFourier(SHAPE, mask)
    base = shepp_logan(SHAPE[0])
    slices = np.stack([np.roll(base, 2 * s, axis=0) * (1.0 + 0.01 * s) for s in range(N_SLICES)])
    y = A.apply(slices) + 0.005 * (rng.standard_normal((N_SLICES, A.oshape[0]))
                                    + 1j * rng.standard_normal((N_SLICES, A.oshape[0])))
    return A, Wavelet(SHAPE, "db4", level=4), y


def slice_cpu() -> None:
    """CPU seconds of one FISTA slice in this process (run by --malloc in child processes)."""
    A, W, y = mri_batch()
    recon(y[:1], A, W)
    t = time.process_time()
    recon(y[:1], A, W)
    print(f"{time.process_time() - t:.3f}")


def malloc_check() -> None:
    """One FISTA slice in plain processes under Dask's and csbox's worker malloc settings."""
    import subprocess

    cases = {"plain process": {}, "Dask's MALLOC_TRIM_THRESHOLD_=65536": {"MALLOC_TRIM_THRESHOLD_": "65536"},
             "csbox WORKER_ENV": WORKER_ENV}
    for name, extra in cases.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | dict(extra)
        cpu = [float(subprocess.run([sys.executable, __file__, "--slice-cpu"], env=env, capture_output=True,
                                    text=True, check=True).stdout.split()[-1]) for _ in range(2)]
        print(f"  {name:<40} CPU per 128x128 FISTA slice: {min(cpu):.2f} s")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cluster(n):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    lc = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env=WORKER_ENV)
    c = Client(lc)
    c.submit(identity, np.zeros((1, 1)), pure=False).result()  # workers up and importing csbox
    c.run(lambda: __import__("csbox.solvers") and None)
    return lc, c, time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="the docs' 9 x 13 phase-transition grid (minutes)")
    p.add_argument("--rounds", type=int, default=2, help="timed rounds, best kept (default 2)")
    p.add_argument("--malloc", action="store_true", help="only the malloc-threshold check")
    p.add_argument("--slice-cpu", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.slice_cpu:
        slice_cpu()
        return 0
    if args.malloc:
        malloc_check()
        return 0
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("dask.distributed is not installed: pip install -e '.[distributed]'; skipping")
        return 0
    print(versions("numpy", "scipy", "dask", "distributed", "zarr"), f"| {os.cpu_count()} CPUs,",
          f"load average {os.getloadavg()[0]:.2f} at start")

    A, W, y = mri_batch()
    quick = not args.full
    n, trials = (100, 4) if quick else (200, 12)
    deltas = np.linspace(0.1, 0.9, 4 if quick else 9).tolist()
    rhos = np.linspace(0.05, 0.95, 5 if quick else 13).tolist()
    task = functools.partial(phase_transition.cell_at, n=n, trials=trials, deltas=deltas, rhos=rhos,
                             iters=(800, 100) if quick else (4000, 400))
    grid = {"delta": deltas, "rho": rhos}
    ref = np.stack([recon(y[s:s + 1], A, W).x[0] for s in range(N_SLICES)])
    rows_ref = sweep(task, grid, client="serial", progress=False)

    def mri(c):
        got = map_batches(recon, y, client=c, A=A, W=W, progress=False)
        assert np.allclose(got, ref, rtol=0, atol=1e-6 * np.abs(ref).max())

    def pt(c):
        assert sweep(task, grid, client=c, progress=False) == rows_ref

    # both clusters up at once; serial, 1 and 2 workers timed back to back (best of --rounds), so
    # that load from other processes hits the three alike. Each result is printed as it comes.
    clusters = {k: cluster(k) for k in (1, 2)}
    print(f"\ncluster start-up (processes up, csbox imported): 1 worker {clusters[1][2]:.1f} s, "
          f"2 workers {clusters[2][2]:.1f} s", flush=True)
    try:
        c = clusters[2][1]
        map_batches(identity, np.zeros((8, 1)), client=c, progress=False)
        t_map = min(timed(lambda: map_batches(identity, np.zeros((N_EMPTY, 1)), client=c,
                                              progress=False))[0] for _ in range(args.rounds)) / N_EMPTY
        t_sweep = min(timed(lambda: sweep(empty_point, {"i": list(range(N_EMPTY))}, client=c,
                                          progress=False))[0] for _ in range(args.rounds)) / N_EMPTY
        print(f"\n1. overhead of an empty task, 2 workers, {N_EMPTY} tasks: "
              f"map_batches {1e3 * t_map:.2f} ms ({1 / t_map:.0f} tasks/s), "
              f"sweep {1e3 * t_sweep:.2f} ms ({1 / t_sweep:.0f} tasks/s)", flush=True)
        per_task = []
        for name, work, n_tasks in (
            (f"phase-transition grid {len(deltas)}x{len(rhos)}, n={n}, {trials} trials", pt,
             len(deltas) * len(rhos)),
            (f"FISTA batch, {N_SLICES} slices {SHAPE[0]}x{SHAPE[1]}, 100 it", mri, N_SLICES),
        ):
            best = {"serial": np.inf, 1: np.inf, 2: np.inf}
            for _ in range(args.rounds):
                for k in best:
                    t, _ = timed(lambda k=k, work=work: work("serial" if k == "serial" else clusters[k][1]))
                    best[k] = min(best[k], t)
            t_serial, t1, t2 = best["serial"], best[1], best[2]
            print(f"\n{name}:\n  serial {t_serial:.2f} s, 1 worker {t1:.2f} s, 2 workers {t2:.2f} s\n"
                  f"  overhead at 1 worker {100 * (t1 / t_serial - 1):+.1f} % (goal < 5 %), "
                  f"speed-up at 2 workers {t_serial / t2:.2f}x (goal >= 1.7x), 2 vs 1 worker {t1 / t2:.2f}x",
                  flush=True)
            per_task.append((name, t_serial / n_tasks))
    finally:
        for lc, c, _ in clusters.values():
            c.close()
            lc.close()

    print("\nwhat a 64-worker cluster needs (one task per worker at a time):")
    for name, t_task in per_task:
        print(f"  {name}: {1e3 * t_task:.0f} ms per task -> {64 / t_task:.0f} tasks/s through client and "
              f"scheduler, {64 * 1e3 * t_map / t_task:.0f} % of one client core at the "
              f"{1e3 * t_map:.2f} ms per task measured here")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end on {os.cpu_count()} CPUs "
          "(> CPUs: the numbers were taken under load from other processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
