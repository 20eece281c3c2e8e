"""csbox.distributed on a real two-process LocalCluster: equal to serial runs, resumable, fault tolerant."""

import functools
import json
import os
import pickle
import signal
import uuid

import numpy as np
import pytest

from csbox.demos import phase_transition
from csbox.distributed import WORKER_ENV, BatchError, map_batches, sweep, worker_environment
from csbox.operators import Kronecker, MatrixOperator, PartialFourier, Wavelet
from csbox.solvers import fista

distributed = pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

SHAPE = (32, 32)


@pytest.fixture(scope="module")
def client():
    with worker_environment():
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
    with cluster, distributed.Client(cluster) as c:
        yield c


def start_environment(block=None):
    """The environment this process started with (what glibc read its malloc settings from)."""
    with open("/proc/self/environ", "rb") as f:
        env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    return {k.decode(): v.decode() for k, v in env.items()}


def malloc_trim_at_start(block):
    return np.full((block.shape[0], 1), float(start_environment()["MALLOC_TRIM_THRESHOLD_"]))


# ----------------------------------------------------------------------------- helpers run on the workers
def reconstruct(y, A):
    """The one FISTA call of this file (its signature is the only place to change if fista's does).

    ``tol=None`` runs exactly ``max_iter`` iterations, so a batch of slices and a
    loop over single slices do the same arithmetic per slice.
    """
    return fista(A, y, 0.02, max_iter=60, tol=None, step=1.0)


def mri_problem(n_slices=8, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random(SHAPE) < 0.35
    mask[0, 0] = True
    A = PartialFourier(SHAPE, mask)
    x = np.zeros((n_slices, *SHAPE))
    for s in range(n_slices):
        x[s, rng.integers(0, SHAPE[0], 20), rng.integers(0, SHAPE[1], 20)] = rng.standard_normal(20)
    y = A.apply(x) + 0.01 * (rng.standard_normal((n_slices, A.oshape[0]))
                             + 1j * rng.standard_normal((n_slices, A.oshape[0])))
    return A, y


def logged(block, *, log_dir, fail_rows=(), kill_row=None, marker=None):
    """Doubles its rows; leaves one file per call in ``log_dir`` (the call count survives the worker).

    Raises on a chunk holding a row in ``fail_rows``; SIGKILLs its own worker
    process the first time it meets ``kill_row`` (a real worker death mid-run).
    """
    rows = [int(r) for r in block[:, 0]]
    with open(os.path.join(log_dir, f"{rows[0]}-{uuid.uuid4().hex}"), "w"):
        pass
    if kill_row in rows and not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os.kill(os.getpid(), signal.SIGKILL)
    if set(rows) & set(fail_rows):
        raise ValueError(f"bad rows {rows}")
    return 2.0 * block


def calls(log_dir):
    return len(os.listdir(log_dir))


def trial(a, b, *, log_dir=None, fail_at=None):
    if log_dir is not None:
        with open(os.path.join(log_dir, f"{a}-{b}-{uuid.uuid4().hex}"), "w"):
            pass
    if (a, b) == fail_at:
        raise RuntimeError("diverged")
    rng = np.random.default_rng(1000 * a + int(10 * b))
    return {"err": float(np.linalg.norm(rng.standard_normal(5)) * b), "support": np.arange(a)}


class Counted:
    """Counts its pickles in this process and its unpickles in files (one per worker-side load)."""

    pickles = 0

    def __init__(self, log_dir):
        self.log_dir = log_dir

    def __getstate__(self):
        Counted.pickles += 1
        return {"log_dir": self.log_dir}

    def __setstate__(self, state):
        self.log_dir = state["log_dir"]
        with open(os.path.join(self.log_dir, f"{os.getpid()}-{uuid.uuid4().hex}"), "w"):
            pass


def scaled(block, *, op):
    return 3.0 * block


# ----------------------------------------------------------------------------- worker environment
@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="reads /proc (Linux)")
def test_workers_start_with_worker_env(client):
    """WORKER_ENV is in the workers' environment from process start (``env=`` would set it too late).

    glibc reads ``MALLOC_*`` once, at start-up: ``/proc/self/environ`` is that environment, while
    ``os.environ`` would also show variables Dask sets after the start.
    """
    before = dict(os.environ)
    for env in client.run(start_environment).values():
        assert {k: env.get(k) for k in WORKER_ENV} == WORKER_ENV
    # the cluster map_batches starts itself (client="local:1")
    got = map_batches(malloc_trim_at_start, np.zeros((2, 1)), client="local:1", progress=False)
    np.testing.assert_array_equal(got, float(WORKER_ENV["MALLOC_TRIM_THRESHOLD_"]))
    # this process's environment is as it was for the WORKER_ENV names (Dask's own nannies may
    # have written theirs into it when they spawned workers before)
    assert {k: os.environ.get(k) for k in WORKER_ENV} == {k: before.get(k) for k in WORKER_ENV}


def test_worker_environment_restores_this_process():
    saved = os.environ.get("CSBOX_FFT_WORKERS")
    os.environ["CSBOX_FFT_WORKERS"] = "7"
    try:
        with worker_environment():
            import dask

            assert os.environ["CSBOX_FFT_WORKERS"] == "1"
            pre = dask.config.get("distributed.nanny.pre-spawn-environ")
            assert {k: str(pre[k]) for k in WORKER_ENV} == WORKER_ENV
            assert "OPENBLAS_NUM_THREADS" in pre  # Dask's own pre-spawn variables are kept
        assert os.environ["CSBOX_FFT_WORKERS"] == "7"
        assert dask.config.get("distributed.nanny.pre-spawn-environ").get("CSBOX_FFT_WORKERS") is None
    finally:
        if saved is None:
            os.environ.pop("CSBOX_FFT_WORKERS")
        else:
            os.environ["CSBOX_FFT_WORKERS"] = saved


# ----------------------------------------------------------------------------- operators travel
def test_operators_pickle():
    rng = np.random.default_rng(1)
    A = PartialFourier(SHAPE, rng.random(SHAPE) < 0.4)
    W = Wavelet(SHAPE, "db4", level=2)
    K = Kronecker(rng.standard_normal((4, 5)), rng.standard_normal((3, 6)))
    M = MatrixOperator(rng.standard_normal((6, 7)))
    x = rng.standard_normal(SHAPE)
    for op, v in [(A, x), (W, x), (K, rng.standard_normal(K.ishape)), (M, rng.standard_normal(7)),
                  (A @ W.H, x), (2.0 * M.H @ M + M.H @ M, rng.standard_normal(7))]:
        before = op.apply(v)  # fills the operator's caches, which must travel too
        clone = pickle.loads(pickle.dumps(op))
        # the same float operations in the same order: bit-identical
        np.testing.assert_array_equal(clone.apply(v), before, err_msg=repr(op))
        np.testing.assert_array_equal(clone.H.apply(before), op.H.apply(before), err_msg=repr(op))


def test_payload_sent_once_per_worker(client, tmp_path):
    """fn's keyword arguments are pickled once on the client and unpickled at most once per worker."""
    Counted.pickles = 0
    data = np.arange(16.0).reshape(8, 2)
    res = map_batches(scaled, data, client=client, op=Counted(str(tmp_path)), progress=False)
    np.testing.assert_array_equal(res, 3.0 * data)
    assert Counted.pickles == 1  # 8 tasks, one serialisation
    assert 1 <= len(os.listdir(tmp_path)) <= 2  # 2 workers


# ----------------------------------------------------------------------------- map_batches
def test_fista_over_slices_equals_serial_loop(client):
    A, y = mri_problem()
    serial = np.stack([reconstruct(y[s:s + 1], A).x[0] for s in range(y.shape[0])])
    for chunk in (1, 3):
        out = map_batches(reconstruct, y, client=client, chunk=chunk, A=A, progress=False)
        assert out.shape == serial.shape and out.dtype == serial.dtype
        # same iterations per slice; batched FFTs may round differently in the last bits
        np.testing.assert_allclose(out, serial, rtol=0, atol=1e-6 * np.abs(serial).max())
    # a partial carrying the operator works the same
    out = map_batches(functools.partial(reconstruct, A=A), y, client=client, chunk=2, progress=False)
    np.testing.assert_allclose(out, serial, rtol=0, atol=1e-6 * np.abs(serial).max())


def test_resume_computes_only_missing_chunks(client, tmp_path):
    data = np.repeat(np.arange(8.0)[:, None], 3, axis=1)
    logs, store = tmp_path / "calls", tmp_path / "out.zarr"
    logs.mkdir()
    with pytest.raises(BatchError) as info:
        map_batches(logged, data, client=client, chunk=2, out=store, log_dir=str(logs), fail_rows=(5,),
                    progress=False)
    # the failing chunk is named by its rows; the other three chunks finished and are in the store
    assert [f.params for f in info.value.failures] == [{"start": 4, "stop": 6}]
    assert "bad rows [4, 5]" in str(info.value) and "{'start': 4, 'stop': 6}" in str(info.value)
    assert calls(logs) == 4
    np.testing.assert_array_equal(zarr.open_array(str(store), mode="r")[:4], 2.0 * data[:4])
    # second call: only the failed chunk runs
    z = map_batches(logged, data, client=client, chunk=2, out=store, log_dir=str(logs), progress=False)
    assert calls(logs) == 5
    np.testing.assert_array_equal(z[:], 2.0 * data)
    # third call: nothing new, not even a cluster round trip
    z = map_batches(logged, data, client="serial", chunk=2, out=store, log_dir=str(logs), progress=False)
    assert calls(logs) == 5
    np.testing.assert_array_equal(z[:], 2.0 * data)
    # a store from another call shape is refused, not silently mixed
    with pytest.raises(ValueError, match="chunk"):
        map_batches(logged, data, client="serial", chunk=4, out=store, log_dir=str(logs), progress=False)


def test_exception_without_out_keeps_the_other_results(client, tmp_path):
    data = np.repeat(np.arange(6.0)[:, None], 2, axis=1)
    with pytest.raises(BatchError) as info:
        map_batches(logged, data, client=client, log_dir=str(tmp_path), fail_rows=(2,), progress=False)
    err = info.value
    assert len(err.failures) == 1 and err.failures[0].index == 2
    assert isinstance(err.failures[0].exception, ValueError)
    assert np.isnan(err.results[2]).all()
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_array_equal(err.results[keep], 2.0 * data[keep])


def test_large_in_memory_chunks_do_not_warn(client, recwarn):
    """Chunks travel with their tasks by design, bounded by the window: Dask's large-graph advice is noise."""
    data = np.ones((24, 2**17))  # 1 MiB per row: the first window of 16 tasks is over Dask's 10 MB
    np.testing.assert_array_equal(map_batches(np.negative, data, client=client, progress=False), -data)
    assert not [w for w in recwarn if "large graph" in str(w.message)]


def write_sources(tmp_path, data):
    """The same array as a memory-mapped .npy, a zarr store, an HDF5 dataset and a dask array."""
    np.save(tmp_path / "d.npy", data)
    zarr.open_array(str(tmp_path / "d.zarr"), mode="w", shape=data.shape, chunks=(3, *data.shape[1:]),
                    dtype=data.dtype)[:] = data
    return {
        "memmap": (np.load(tmp_path / "d.npy", mmap_mode="r"), data),
        "memmap view": (np.load(tmp_path / "d.npy", mmap_mode="r")[1:, ::-1], data[1:, ::-1]),
        "npy path": (str(tmp_path / "d.npy"), data),
        "zarr": (zarr.open_array(str(tmp_path / "d.zarr"), mode="r"), data),
        "zarr path": (tmp_path / "d.zarr", data),
    }


def test_file_sources(client, tmp_path):
    A, y = mri_problem(n_slices=7, seed=2)
    ref = np.stack([reconstruct(y[s:s + 1], A).x[0] for s in range(y.shape[0])])
    for name, (src, expect) in write_sources(tmp_path, y).items():
        if name == "memmap view":  # a strided view of the file: check the rows read, not a recon
            got = map_batches(np.negative, src, client=client, chunk=2, progress=False)
            np.testing.assert_array_equal(got, -expect, err_msg=name)
            continue
        got = map_batches(reconstruct, src, client=client, chunk=3, A=A, progress=False)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6 * np.abs(ref).max(), err_msg=name)


def test_hdf5_and_dask_sources(client, tmp_path):
    data = np.random.default_rng(3).standard_normal((9, 4, 5))
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["group/x"] = data
    with h5py.File(tmp_path / "d.h5", "r") as f:
        got = map_batches(np.negative, f["group/x"], client=client, chunk=4, progress=False)
    np.testing.assert_array_equal(got, -data)
    da = pytest.importorskip("dask.array")
    got = map_batches(np.negative, da.from_array(data, chunks=(2, 4, 3)), client=client, chunk=4,
                      progress=False)
    np.testing.assert_array_equal(got, -data)


# ----------------------------------------------------------------------------- sweep
GRID = {"a": [1, 2, 3], "b": np.array([0.5, 1.5])}


def test_sweep_rows_equal_serial_rows(client, tmp_path):
    serial = [{"a": a, "b": float(b), **trial(a, b)} for a in GRID["a"] for b in GRID["b"]]
    for row in serial:
        row["support"] = row["support"].tolist()
    rows = sweep(trial, GRID, client=client, progress=False)
    assert rows == serial
    assert sweep(trial, GRID, client="serial", progress=False) == serial
    # with out=: the same rows, and the file reads back as the same table
    out = tmp_path / "rows.jsonl"
    assert sweep(trial, GRID, client=client, out=out, progress=False) == serial
    saved = sorted((json.loads(line) for line in out.read_text().splitlines()), key=lambda r: r["_index"])
    assert [{k: v for k, v in r.items() if k != "_index"} for r in saved] == serial


def test_sweep_failure_reported_with_params_and_resumed(client, tmp_path):
    logs, out = tmp_path / "calls", tmp_path / "rows.jsonl"
    logs.mkdir()
    run = functools.partial(trial, log_dir=str(logs), fail_at=(2, 1.5))
    with pytest.raises(BatchError) as info:
        sweep(run, GRID, client=client, out=out, progress=False)
    err = info.value
    assert [(f.index, f.params) for f in err.failures] == [(3, {"a": 2, "b": 1.5})]
    assert "{'a': 2, 'b': 1.5}" in str(err) and "RuntimeError: diverged" in str(err)
    assert err.results[3] is None and sum(r is not None for r in err.results) == 5
    assert calls(logs) == 6 and len(out.read_text().splitlines()) == 5
    # a killed/failed run loses nothing: the second call runs the one missing point
    rows = sweep(functools.partial(trial, log_dir=str(logs)), GRID, client=client, out=out, progress=False)
    assert calls(logs) == 7
    assert rows == sweep(trial, GRID, client="serial", progress=False)
    # a partial last line (a run killed mid-write) is ignored; a file from another grid is refused
    with open(out, "a") as f:
        f.write('{"_index": 0, "a"')
    assert sweep(trial, GRID, client="serial", out=out, progress=False) == rows
    with pytest.raises(ValueError, match="another sweep"):
        sweep(trial, {"a": [7], "b": [0.5]}, client="serial", out=out, progress=False)


def test_sweep_resumes_a_grid_with_nan_values(tmp_path):
    """A NaN grid value (e.g. 'no noise') equals itself in the record: the rows are reused, not refused."""
    out, grid = tmp_path / "rows.jsonl", {"a": [float("nan"), 1.0], "b": [2]}
    rows = sweep(lambda a, b: {"s": a + b}, grid, client="serial", out=out, progress=False)

    def never(a, b):
        raise AssertionError("finished points must not run again")

    again = sweep(never, grid, client="serial", out=out, progress=False)
    assert np.isnan(again[0]["a"]) and np.isnan(again[0]["s"]) and again[1] == rows[1]


def test_phase_transition_on_the_cluster(client):
    """The demo's grid through sweep on the cluster equals the in-process cells."""
    deltas, rhos = [0.3, 0.6], [0.1, 0.5]
    task = functools.partial(phase_transition.cell_at, n=60, trials=2, deltas=deltas, rhos=rhos,
                             iters=(300, 40))
    rows = sweep(task, {"delta": deltas, "rho": rhos}, client=client.scheduler.address, progress=False)
    assert [(r["delta"], r["rho"]) for r in rows] == [(d, r) for d in deltas for r in rhos]
    for r in rows:
        assert {k: r[k] for k in phase_transition.METHODS} == task(r["delta"], r["rho"])


def test_default_local_cluster_and_cli_option():
    """client=None starts (and closes) a LocalCluster sized to the machine; --scheduler only where taken."""
    from csbox.cli import main

    data = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(map_batches(np.negative, data, progress=False), -data)
    assert main(["demo", "mri", "--scheduler", "local:2", "--quick"]) == 2


# ----------------------------------------------------------------------------- validation
def test_validation(tmp_path):
    data = np.zeros((4, 2))
    with pytest.raises(TypeError, match="chunk"):
        map_batches(np.negative, data, chunk=1.5)
    with pytest.raises(ValueError, match="chunk"):
        map_batches(np.negative, data, chunk=0)
    with pytest.raises(TypeError, match="client"):
        map_batches(np.negative, data, client=3)
    with pytest.raises(ValueError, match="local:N"):
        map_batches(np.negative, data, client="local:0")
    with pytest.raises(TypeError, match="data"):
        map_batches(np.negative, [1, 2, 3])
    with pytest.raises(ValueError, match="leading axis"):
        map_batches(np.negative, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="does not exist"):
        map_batches(np.negative, tmp_path / "missing.npy")
    with pytest.raises(TypeError, match="fn"):
        map_batches("negative", data)
    with pytest.raises(BatchError, match="leading axis"):
        map_batches(np.sum, data, client="serial", progress=False)
    with pytest.raises(TypeError, match="grid"):
        sweep(trial, [1, 2])
    with pytest.raises(ValueError, match="empty"):
        sweep(trial, {"a": [], "b": [1]})
    with pytest.raises(TypeError, match="grid\\['a'\\]"):
        sweep(trial, {"a": "abc"})
    with pytest.raises(ValueError, match="parameter names"):
        sweep(trial, {"_index": [1]})
    with pytest.raises(BatchError, match="dict of metrics"):
        sweep(lambda a: a, {"a": [1]}, client="serial", progress=False)
    with pytest.raises(BatchError, match="metric names"):
        sweep(lambda a: {"a": a}, {"a": [1]}, client="serial", progress=False)


# ----------------------------------------------------------------------------- worker death (last: it
# leaves the cluster restarting a worker)
def test_worker_killed_mid_run(client, tmp_path):
    """One worker process is SIGKILLed while running a chunk: its tasks re-run on the other, nothing lost."""
    data = np.repeat(np.arange(12.0)[:, None], 3, axis=1)
    logs = tmp_path / "calls"
    logs.mkdir()
    pids = set(client.run(os.getpid).values())
    got = map_batches(logged, data, client=client, chunk=2, log_dir=str(logs), kill_row=6,
                      marker=str(tmp_path / "killed"), progress=False)
    assert (tmp_path / "killed").exists()
    np.testing.assert_array_equal(got, 2.0 * data)
    # the killed chunk ran twice (once on the dead worker); the others at least once
    assert calls(logs) >= 7
    client.wait_for_workers(2, timeout=180)  # a restart can be slow on a loaded machine
    assert set(client.run(os.getpid).values()) != pids  # the nanny replaced the dead process
