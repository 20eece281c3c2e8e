"""Thread safety: the same reconstructions from a thread pool give exactly the serial results.

Dask's threaded scheduler (and any user's ``ThreadPoolExecutor``) calls operators and solvers from
several threads at once, on shared operator and penalty objects. Every case below runs once
serially, then ``RUNS`` times from 4 threads sharing the same objects, and the results must be
bit-identical (same arithmetic in the same order: no tolerance is needed, and any per-call state
kept on a shared object, such as a warm start or a scratch buffer, shows up as a difference).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from csbox.mri import birdcage_maps, cg_sense
from csbox.operators import NUFFT, PartialFourier, Wavelet
from csbox.penalties import L1, TV
from csbox.phantoms import shepp_logan
from csbox.solvers import admm, fista
from csbox.ultrasound import Probe, das, plane_waves, simulate

THREADS, RUNS = 4, 8


def _pool_results(fn, args: list) -> list:
    with ThreadPoolExecutor(THREADS) as ex:
        return list(ex.map(fn, args))


def _assert_same_as_serial(fn, args: list) -> None:
    serial = [np.asarray(fn(a)) for a in args]
    for got, want in zip(_pool_results(fn, args), serial, strict=True):
        np.testing.assert_array_equal(np.asarray(got), want)


def _kspace_case(n: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < 0.4
    mask[n // 2 - 3 : n // 2 + 3] = True
    A = PartialFourier((n, n), mask, centered=True)
    img = shepp_logan(n)
    ys = [A @ (img * (1 + 0.1 * k)) + 0.01 * rng.standard_normal(int(mask.sum())) for k in range(RUNS)]
    return A, ys


def test_fista_wavelet_partial_fourier_from_threads():
    A, ys = _kspace_case()
    pen = L1(0.01).in_basis(Wavelet((32, 32), "db2", level=2))  # shared by every thread
    _assert_same_as_serial(lambda y: fista(A, y, penalty=pen, max_iter=30, tol=None).x, ys)


def test_admm_tv_from_threads():
    """TV keeps its FGP dual warm start per thread (``threading.local``): threads never share it."""
    A, ys = _kspace_case(seed=1)
    tv = TV(0.01)  # one penalty object shared by the threads
    _assert_same_as_serial(lambda y: admm(A, y, tv, max_iter=15, tol=None).x, ys)


def test_cg_sense_from_threads():
    n, n_coils = 32, 4
    maps = birdcage_maps((n, n), n_coils)
    rng = np.random.default_rng(2)
    mask = np.zeros((n, n), bool)
    mask[::2] = True
    mask[n // 2 - 4 : n // 2 + 4] = True
    img = shepp_logan(n)
    ks = [np.fft.fft2(maps * img * (1 + 0.1 * k), norm="ortho") * mask for k in range(RUNS)]
    ks = [k + 0.01 * mask * rng.standard_normal(k.shape) for k in ks]
    _assert_same_as_serial(lambda k: cg_sense(k, maps, mask, max_iter=10).x, ks)


def test_nufft_apply_and_adjoint_from_threads():
    rng = np.random.default_rng(3)
    coords = rng.uniform(-16, 16, (500, 2))
    F = NUFFT((32, 32), coords)
    xs = [rng.standard_normal((32, 32)) + 1j * rng.standard_normal((32, 32)) for _ in range(RUNS)]
    _assert_same_as_serial(lambda x: F @ x, xs)
    ys = [F @ x for x in xs]
    _assert_same_as_serial(lambda y: F.H @ y, ys)


def test_das_from_threads():
    P = Probe.l11_5v()
    tx = plane_waves([-5, 5])
    rng = np.random.default_rng(4)
    x, z = np.linspace(-3e-3, 3e-3, 31), np.linspace(15e-3, 20e-3, 41)
    frames = [simulate(P, tx, rng.uniform(-3e-3, 3e-3, 30), rng.uniform(15e-3, 20e-3, 30),
                       rng.standard_normal(30), fs=4 * P.fc, n_samples=900) for _ in range(RUNS)]
    _assert_same_as_serial(lambda d: das(d, P, tx, x, z, fs=4 * P.fc), frames)


@pytest.mark.parametrize("name", ["PartialFourier", "Wavelet", "NUFFT"])
def test_operators_keep_no_per_call_state(name):
    """One operator applied from 4 threads to different inputs: each output is its own input's."""
    rng = np.random.default_rng(5)
    n = 32
    op = {
        "PartialFourier": lambda: PartialFourier((n, n), rng.random((n, n)) < 0.5),
        "Wavelet": lambda: Wavelet((n, n), "db2", level=2),
        "NUFFT": lambda: NUFFT((n, n), rng.uniform(-n / 2, n / 2, (400, 2))),
    }[name]()
    xs = [rng.standard_normal((n, n)) * (k + 1) for k in range(3 * THREADS)]
    _assert_same_as_serial(lambda x: op @ x, xs)
    ys = [op @ x for x in xs]
    _assert_same_as_serial(lambda y: op.H @ y, ys)
