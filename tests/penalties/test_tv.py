"""TV's FGP machinery: the fused NumPy kernel against the generic array-API step, and the TV
penalty's warm start under threads."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import array_api_strict as xps
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csbox.backend import TVDualKernel, tv_dual_kernel
from csbox.operators import Gradient, Identity, PartialFourier
from csbox.penalties import FGP, TV
from csbox.phantoms import shepp_logan
from csbox.sampling import cartesian, variable_density
from csbox.solvers import fista


def _image(shape, cplx, seed):
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(shape)
    return b + 1j * rng.standard_normal(shape) if cplx else b


def _run(b, G, lam, iso, q0, steps):
    """FGP on ``b`` (NumPy: the fused kernel; array_api_strict: the generic step) for ``steps`` steps."""
    solver = FGP(b, lam, G, iso, q0, max_iter=steps)
    for _ in range(steps):
        solver.step()
    objective, dual = solver.primal_dual()
    return solver, np.asarray(solver.estimate()), np.asarray(solver.q), float(objective), float(dual)


@given(
    shape=st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple),
    iso=st.booleans(),
    cplx=st.booleans(),
    lam=st.sampled_from([0.0, 0.05, 0.3]),
    warm=st.booleans(),
    seed=st.integers(0, 10),
)
def test_fused_kernel_iterates_the_generic_map(shape, iso, cplx, lam, warm, seed):
    """The NumPy kernel and the array-API step are the same map: after 12 steps from the same start
    (a warm start with non-zero entries outside the range of D included: both zero them) the duals,
    the primal points and the objectives agree to rounding (a few ulps per step: 1e-12 relative)."""
    rng = np.random.default_rng(seed + 100)
    axes = tuple(sorted(rng.choice(len(shape), size=rng.integers(1, len(shape) + 1), replace=False)))
    G = Gradient(shape, axes)
    b = _image(shape, cplx, seed)
    q0 = _image(G.oshape, cplx, seed + 1) if warm else None
    fused, x1, q1, p1, d1 = _run(b, G, lam, iso, q0, 12)
    assert isinstance(fused.kernel, TVDualKernel)
    generic, x2, q2, p2, d2 = _run(xps.asarray(b), G, lam, iso, None if q0 is None else xps.asarray(q0), 12)
    assert generic.kernel is None
    scale = 1.0 + np.abs(b).max()
    np.testing.assert_allclose(q1, q2, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(x1, x2, rtol=0, atol=1e-12 * scale)
    assert p1 == pytest.approx(p2, rel=1e-12, abs=1e-12) and d1 == pytest.approx(d2, rel=1e-12, abs=1e-10)
    assert x1.dtype == b.dtype and q1.dtype == b.dtype and q1.shape == G.oshape


def test_kernel_applies_to_numpy_floating_only():
    b = np.ones((4, 4))
    assert tv_dual_kernel(b, (-2, -1), 0.1, True, 0.125) is not None
    assert tv_dual_kernel(b.astype(np.float32), (-2, -1), 0.1, True, 0.125) is not None
    assert tv_dual_kernel(b.astype(np.complex64), (-2, -1), 0.1, True, 0.125) is not None
    assert tv_dual_kernel(b.astype(np.int64), (-2, -1), 0.1, True, 0.125) is None
    assert tv_dual_kernel(xps.asarray(b), (-2, -1), 0.1, True, 0.125) is None
    # periodic differences run the generic step
    assert FGP(b, 0.1, Gradient((4, 4), boundary="periodic"), True, None).kernel is None


def test_kernel_step_allocates_no_field():
    """The point of the kernel: a step writes into buffers made once (the dual fields keep their ids)."""
    k = tv_dual_kernel(np.random.default_rng(0).standard_normal((16, 16)), (-2, -1), 0.1, True, 0.125)
    ids = {id(k.q), id(k.r), id(k.w)}
    for _ in range(3):
        k.step(0.5)
    assert {id(k.q), id(k.r), id(k.w)} == ids


def _mri(n=32, seed=0):
    lines = variable_density(n, acceleration=3, density="gauss", sigma=0.3, calib=6, seed=seed)
    A = PartialFourier((n, n), cartesian(lines, (n, n), axis=0), centered=True)
    rng = np.random.default_rng(seed)
    y = A @ shepp_logan(n) + 0.01 * (rng.standard_normal(A.oshape) + 1j * rng.standard_normal(A.oshape))
    return A, y


def test_shared_penalty_in_a_thread_pool_equals_the_serial_runs():
    """One TV object shared by four threads: FISTA solves (each on its own copy of the penalty) and
    sequences of direct prox calls (each thread warm-starts from its own previous dual only) give
    bit for bit what they give run one after another, each sequence on a fresh penalty."""
    A, y = _mri()
    ys = [y * s for s in (1.0, 0.5, 2.0, 1.5)]
    tv = TV(0.02, inner_max_iter=10)
    serial = [fista(A, yi, penalty=tv, max_iter=15, tol=None).x for yi in ys]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda yi: fista(A, yi, penalty=tv, max_iter=15, tol=None).x, ys))
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)

    images = [_image((24, 24), False, s) for s in range(4)]

    def sequence(img, pen, barrier=None):
        if barrier is not None:
            barrier.wait()  # all four threads inside at once: each runs its sequence on its own thread
        v = img
        for _ in range(6):
            v = pen.prox(img + 0.5 * (v - img), 0.5)
        return v

    serial = [sequence(img, TV(0.3, inner_max_iter=5)) for img in images]
    barrier = Barrier(4)
    shared = TV(0.3, inner_max_iter=5)
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda img: sequence(img, shared, barrier), images))
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)


def test_warm_start_survives_copies_and_pickles_without_its_state():
    import copy
    import pickle

    tv = TV(0.3, inner_max_iter=5)
    b = _image((8, 8), False, 0)
    cold = tv.prox(b)
    warm = tv.prox(b)  # warm-started from the first call's dual: closer to the exact prox
    assert not np.array_equal(cold, warm)
    for clone in (copy.deepcopy(tv), pickle.loads(pickle.dumps(tv)), tv.with_lam(0.3)):
        np.testing.assert_array_equal(clone.prox(b), cold)  # no dual carried over


def test_inner_max_iter_is_the_name():
    assert TV(0.1, inner_max_iter=7).with_lam(0.2).inner_max_iter == 7
    with pytest.raises(TypeError):
        TV(0.1, max_inner=7)
    with pytest.raises(ValueError, match="inner_max_iter"):
        TV(0.1, inner_max_iter=0)


def test_prox_of_identity_problem_matches_tv_denoise():
    """TV.prox(v, step) is tv_denoise(v, step lam) run for inner_max_iter steps without checks."""
    from csbox.solvers import tv_denoise

    b = _image((12, 12), False, 3)
    p = TV(0.2, inner_max_iter=40).prox(b, 0.5)
    ref = tv_denoise(b, 0.1, max_iter=40, tol=None, check_every=40).x
    np.testing.assert_allclose(p, ref, rtol=0, atol=1e-14)
    assert Identity((12, 12)).ishape == p.shape
