"""csbox.distributed on a LocalCluster: scheduler overhead per task, and the speed-up of 16-coil SENSE.

Two measurements, side by side with a serial loop:

1. overhead per task: ``map_batches`` and ``sweep`` of an empty ``fn`` (400 tasks) on each
   cluster: wall time per task through client, scheduler and workers;
2. a 32-slice batch of 16-coil l1-wavelet SENSE (``csbox.mri.l1_wavelet_sense``, 128 x 128 slices,
   simulated birdcage coils, 4x variable-density mask, db4 wavelets with cycle spinning, 50 FISTA
   iterations per slice) with ``map_batches(chunk=1)``: a plain loop over slices in this process,
   then ``LocalCluster``s of 1 and 2 worker processes (started under ``worker_environment()``) and
   of 1 and 2 worker threads in this process (``processes=False``); with ``--compare-env`` also
   worker processes given ``LocalCluster(env=WORKER_ENV)``, as csbox started them before this fix
   (Dask sets ``env=`` after the process has started: glibc keeps Dask's
   ``MALLOC_TRIM_THRESHOLD_=65536``).

The ceiling without Dask: the same 32 slices split over 1 and 2 independent plain processes
(``subprocess``, no scheduler, no data transfer; the wall time of their loops). Printed per
configuration: wall time, speed-up against the serial loop in one plain process (the baseline; the
loop in this process is printed too, but this process also runs the clusters' event loops), and 2
workers against 1 (goal >= 1.7x on 2 cores), and the cost of an empty task. The script re-executes
itself with ``WORKER_ENV`` in its environment, so that the serial loop, the worker threads and the
plain processes run glibc's allocator with the workers' settings. The configurations are timed back
to back, best of ``--rounds``, so that load from other processes hits them alike; the load average
is printed at start and end (above the number of CPUs the numbers were taken on a busy machine).
Everything single-threaded (``CSBOX_FFT_WORKERS=1``, one BLAS/OpenMP thread) so the serial loop and
each worker use one core. Cluster start-up is timed apart. ``--threads-check`` times one slice in
plain processes with csbox's default FFT threads and with ``WORKER_ENV``.

Run: ``python benchmarks/bench_distributed.py [--rounds 2] [--n 128] [--iters 50]``
[--compare-env] (``pip install -e ".[distributed]"``).
"""

from __future__ import annotations

import os

for _v in ("CSBOX_FFT_WORKERS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # before NumPy/SciPy/csbox are imported (--threads-check overrides)

import argparse  # noqa: E402
import logging  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from _timing import versions  # noqa: E402
from csbox.distributed import WORKER_ENV, map_batches, sweep, worker_environment  # noqa: E402
from csbox.mri import Sense, l1_wavelet_sense, shepp_logan_kspace  # noqa: E402
from csbox.sampling import variable_density  # noqa: E402

N_EMPTY = 400
N_SLICES = 32
N_COILS = 16
LAM = 1e-3


def identity(block):
    return block


def empty_point(i):
    return {}


def recon(kspace, maps, mask, iters):
    """One chunk of slices: l1-wavelet SENSE, a fixed number of FISTA iterations (``tol=0``)."""
    return l1_wavelet_sense(kspace, maps, mask, lam=LAM, max_iter=iters, tol=0.0)


def sense_batch(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(kspace (32, 16, n, n), maps (16, n, n), mask (n, n))``: shifted, scaled phantoms, 16 coils."""
    sim = shepp_logan_kspace((n, n), n_coils=N_COILS, seed=0)
    mask = variable_density((n, n), acceleration=4, calib=16, seed=0)
    images = np.stack([np.roll(sim.image, 2 * s, axis=0) * (1.0 + 0.01 * s) for s in range(N_SLICES)])
    kspace = Sense(sim.maps, mask).apply(images.astype(np.complex128))
    rng = np.random.default_rng(1)
    noise = 1e-3 * (rng.standard_normal(kspace.shape) + 1j * rng.standard_normal(kspace.shape))
    return kspace + noise * mask, sim.maps, mask


def threads_check(n: int, iters: int) -> None:
    """CPU and wall time of one slice in fresh processes: csbox's default FFT threads vs WORKER_ENV."""
    cases = {"default (CSBOX_FFT_WORKERS unset: all cores)": {}, "csbox WORKER_ENV": WORKER_ENV}
    for name, extra in cases.items():
        env = {k: v for k, v in os.environ.items()
               if k not in WORKER_ENV and k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")} | extra
        out = [subprocess.run([sys.executable, __file__, "--one-slice", "--n", str(n), "--iters", str(iters)],
                              env=env, capture_output=True, text=True, check=True).stdout.split()
               for _ in range(2)]
        wall, cpu = min(float(o[0]) for o in out), min(float(o[1]) for o in out)
        print(f"  {name:<46} one slice: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)


def one_slice(n: int, iters: int) -> None:
    kspace, maps, mask = sense_batch(n)
    recon(kspace[:1], maps, mask, iters)
    t, c = time.perf_counter(), time.process_time()
    recon(kspace[:1], maps, mask, iters)
    print(f"{time.perf_counter() - t:.3f} {time.process_time() - c:.3f}")


def part(j: int, k: int, n: int, iters: int) -> None:
    """Slices ``j::k`` in this process; prints the loop's start and end (epoch seconds)."""
    kspace, maps, mask = sense_batch(n)
    t0 = time.time()
    for s in range(j, N_SLICES, k):
        recon(kspace[s:s + 1], maps, mask, iters)
    print(f"{t0:.4f} {time.time():.4f}")


def plain_processes(k: int, n: int, iters: int) -> float:
    """Wall time of the 32 slices split over ``k`` independent processes (no Dask): the ceiling."""
    procs = [subprocess.Popen([sys.executable, __file__, "--part", str(j), str(k), "--n", str(n),
                               "--iters", str(iters)], stdout=subprocess.PIPE, text=True) for j in range(k)]
    spans = [[float(v) for v in p.communicate()[0].split()] for p in procs]
    return max(e for _, e in spans) - min(s for s, _ in spans)


def start(kind: str, n_workers: int):
    """A LocalCluster and its Client, with the workers up and csbox imported; and the seconds it took."""
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    opts = {"n_workers": n_workers, "threads_per_worker": 1, "dashboard_address": ":0",
            "silence_logs": logging.WARNING}
    if kind == "processes":
        with worker_environment():
            lc = LocalCluster(processes=True, **opts)
    elif kind == "processes, env=":  # how csbox started its workers before: malloc settings too late
        # without WORKER_ENV in this (re-executed) process's environment, which Dask would copy into
        # its pre-spawn variables: the nannies spawn with Dask's defaults, as they did for csbox
        saved = {k: os.environ.pop(k) for k in WORKER_ENV if k in os.environ}
        try:
            lc = LocalCluster(processes=True, env=dict(WORKER_ENV), **opts)
        finally:
            os.environ.update(saved)
    else:
        lc = LocalCluster(processes=False, **opts)
    c = Client(lc)
    c.run(lambda: __import__("csbox.mri") and None)
    return lc, c, time.perf_counter() - t0


def malloc_trim_at_start() -> str:
    """``MALLOC_TRIM_THRESHOLD_`` of the environment this process started with (what glibc read)."""
    with open("/proc/self/environ", "rb") as f:
        env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
    return env.get(b"MALLOC_TRIM_THRESHOLD_", b"unset").decode()


def overhead(c, rounds: int) -> tuple[float, float]:
    """Seconds per empty task through ``map_batches`` and through ``sweep``, best of ``rounds``."""
    map_batches(identity, np.zeros((8, 1)), client=c, progress=False)  # warm: functions on the workers
    t_map = t_sweep = np.inf
    for _ in range(rounds):
        t0 = time.perf_counter()
        map_batches(identity, np.zeros((N_EMPTY, 1)), client=c, progress=False)
        t_map = min(t_map, (time.perf_counter() - t0) / N_EMPTY)
        t0 = time.perf_counter()
        sweep(empty_point, {"i": list(range(N_EMPTY))}, client=c, progress=False)
        t_sweep = min(t_sweep, (time.perf_counter() - t0) / N_EMPTY)
    return t_map, t_sweep


def print_table(best: dict, over: dict, n: int, iters: int) -> None:
    # the baseline: the serial loop in a process of its own (this process also hosts the clusters'
    # schedulers and the worker threads, whose event loops and profilers take the GIL now and then)
    t_serial = best[("plain processes", 1)]
    print(f"\n32 slices, 16 coils, {n} x {n}, l1-wavelet SENSE, {iters} FISTA iterations each "
          f"(best of the rounds):")
    print(f"  {'configuration':<30} {'wall s':>8} {'vs serial':>10} {'2 vs 1 worker':>14} "
          f"{'empty task ms (map / sweep)':>28}")
    print(f"  {'serial loop in this process':<30} {best['serial']:8.2f} {t_serial / best['serial']:9.2f}x")
    for kind in dict.fromkeys(key[0] for key in best if key != "serial"):
        for k in (1, 2):
            t = best[(kind, k)]
            ratio = f"{best[(kind, 1)] / t:13.2f}x" if k == 2 else " " * 14
            name = f"{kind}, {k} {'workers' if k > 1 else 'worker'}"
            if kind == "plain processes":
                name = "serial loop, a plain process" if k == 1 else "2 plain processes (no Dask)"
            om, osw = over.get((kind, k), (np.nan, np.nan))
            cost = f"{1e3 * om:14.2f} / {1e3 * osw:.2f}" if (kind, k) in over else ""
            print(f"  {name:<30} {t:8.2f} {t_serial / t:9.2f}x {ratio} {cost}")


def run(args) -> None:
    kspace, maps, mask = sense_batch(args.n)
    kw = {"maps": maps, "mask": mask, "iters": args.iters}
    ref = np.concatenate([recon(kspace[s:s + 1], maps, mask, args.iters).x for s in range(N_SLICES)])
    kinds = ("processes", "threads", *(("processes, env=",) if args.compare_env else ()))
    configs = [(kind, k) for kind in kinds for k in (1, 2)]
    clusters = {cfg: start(*cfg) for cfg in configs}
    print("cluster start-up (workers up, csbox imported): "
          + ", ".join(f"{kind} x{k} {clusters[(kind, k)][2]:.1f} s" for kind, k in configs), flush=True)
    if os.path.exists("/proc/self/environ"):
        print("MALLOC_TRIM_THRESHOLD_ the worker processes started with: " + ", ".join(
            f"{kind} x{k} {sorted(set(clusters[(kind, k)][1].run(malloc_trim_at_start).values()))}"
            for kind, k in configs if kind.startswith("processes")), flush=True)
    best = dict.fromkeys(["serial", ("plain processes", 1), ("plain processes", 2), *configs], np.inf)
    try:
        over = {cfg: overhead(clusters[cfg][1], args.rounds) for cfg in configs}
        for r in range(args.rounds):
            t0 = time.perf_counter()
            for s in range(N_SLICES):
                recon(kspace[s:s + 1], maps, mask, args.iters)
            best["serial"] = min(best["serial"], time.perf_counter() - t0)
            for k in (1, 2):
                best[("plain processes", k)] = min(best[("plain processes", k)],
                                                   plain_processes(k, args.n, args.iters))
            for cfg in configs:
                t0 = time.perf_counter()
                got = map_batches(recon, kspace, client=clusters[cfg][1], progress=False, **kw)
                best[cfg] = min(best[cfg], time.perf_counter() - t0)
                # the same arithmetic per slice as the loop (chunk=1, same seed): equal to rounding
                assert np.allclose(got, ref, rtol=0, atol=1e-9 * np.abs(ref).max()), cfg
            print(f"round {r + 1}: " + ", ".join(f"{k}: {v:.1f} s" for k, v in best.items()), flush=True)
    finally:
        for lc, c, _ in clusters.values():
            c.close()
            lc.close()
    print_table(best, over, args.n, args.iters)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2, help="timed rounds, best kept (default 2)")
    p.add_argument("--n", type=int, default=128, help="image size per slice (default 128)")
    p.add_argument("--iters", type=int, default=50, help="FISTA iterations per slice (default 50)")
    p.add_argument("--compare-env", action="store_true",
                   help="also worker processes given WORKER_ENV by LocalCluster(env=...), as before the fix")
    p.add_argument("--threads-check", action="store_true", help="only the FFT-threads check")
    p.add_argument("--one-slice", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--part", type=int, nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.part:
        part(*args.part, args.n, args.iters)
        return 0
    if args.one_slice:
        one_slice(args.n, args.iters)
        return 0
    if args.threads_check:
        threads_check(args.n, args.iters)
        return 0
    if any(os.environ.get(k) != v for k, v in WORKER_ENV.items()):
        # the serial loop, the worker threads and the plain processes get the workers' malloc settings
        # too (glibc reads them at start-up only): every configuration runs the same allocator
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], {**os.environ, **WORKER_ENV})
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("dask.distributed is not installed: pip install -e '.[distributed]'; skipping")
        return 0
    print(versions("numpy", "scipy", "dask", "distributed"), f"| {os.cpu_count()} CPUs,",
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    run(args)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end on {os.cpu_count()} CPUs "
          "(> CPUs: the numbers were taken under load from other processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
