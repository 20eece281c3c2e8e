"""cg and lsqr against SciPy and dense algebra, on every backend, batched, and on bad input."""

import numpy as np
import pytest
import scipy.sparse.linalg as sla

from csbox.backend import array_namespace, to_numpy
from csbox.operators import MatrixOperator, PartialFourier
from csbox.solvers import cg, lsqr


def _problem(seed=0, m=40, n=15, complex_=True):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, n))
    y = rng.standard_normal(m)
    if complex_:
        M = M + 1j * rng.standard_normal((m, n))
        y = y + 1j * rng.standard_normal(m)
    return M, y


def _dense(M, y, lam):
    return np.linalg.solve(M.conj().T @ M + lam * np.eye(M.shape[1]), M.conj().T @ y)


@pytest.mark.parametrize("solver", [cg, lsqr])
@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_solution_matches_dense_on_every_backend(backend, solver, lam):
    M, y = _problem()
    ref = _dense(M, y, lam)
    yb = backend.asarray(y)
    res = solver(MatrixOperator(M), yb, lam, tol=1e-12 if not backend.single else 1e-6, max_iter=200)
    assert array_namespace(res.x) is array_namespace(yb)
    assert res.x.dtype == backend.complex
    assert res.converged
    # cond(M^H M) ~ 10 here: the solution error is a few times the working precision
    tol = 1e-4 if backend.single else 1e-10
    np.testing.assert_allclose(to_numpy(res.x), ref, atol=tol * np.abs(ref).max())
    obj = 0.5 * np.linalg.norm(M @ ref - y) ** 2 + 0.5 * lam * np.linalg.norm(ref) ** 2
    assert res.history["objective"][-1] == pytest.approx(obj, rel=10 * tol)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_cg_iterates_match_scipy_cg(k):
    """CG iterates are unique (Krylov minimisers of the energy error): equal to SciPy's after k steps."""
    M, y = _problem(seed=1)
    lam = 0.3
    N = M.conj().T @ M + lam * np.eye(M.shape[1])
    ref, _ = sla.cg(N, M.conj().T @ y, rtol=0.0, atol=0.0, maxiter=k)
    res = cg(MatrixOperator(M), y, lam, tol=None, max_iter=k)
    assert res.n_iter == k and res.stop_reason == "max_iter" and not res.converged
    np.testing.assert_allclose(res.x, ref, rtol=1e-10, atol=1e-12)


def test_preconditioned_cg_matches_scipy():
    """Jacobi-preconditioned CG on a badly scaled problem: same iterates as SciPy's PCG, fewer steps."""
    rng = np.random.default_rng(2)
    M = rng.standard_normal((60, 20)) * np.logspace(0, 3, 20)
    y = rng.standard_normal(60)
    N = M.T @ M
    d = 1.0 / np.diag(N)
    ref, _ = sla.cg(N, M.T @ y, rtol=0.0, atol=0.0, maxiter=5, M=np.diag(d))
    res = cg(MatrixOperator(M), y, M=lambda r: d * r, tol=None, max_iter=5)
    np.testing.assert_allclose(res.x, ref, rtol=1e-9)
    pre = cg(MatrixOperator(M), y, M=lambda r: d * r, tol=1e-10, max_iter=500)
    plain = cg(MatrixOperator(M), y, tol=1e-10, max_iter=500)
    assert pre.converged and pre.n_iter < plain.n_iter
    np.testing.assert_allclose(pre.x, np.linalg.lstsq(M, y, rcond=None)[0], rtol=1e-7)


@pytest.mark.parametrize("lam", [0.0, 0.49])
def test_lsqr_matches_scipy_lsqr(lam):
    """Same iterates as SciPy's LSQR (its damp is sqrt(lam)) and the same norm estimates."""
    M, y = _problem(seed=3, m=50, n=30)
    for k in (2, 7):
        ref = sla.lsqr(M, y, damp=np.sqrt(lam), atol=0, btol=0, iter_lim=k)
        res = lsqr(MatrixOperator(M), y, lam, tol=None, max_iter=k)
        np.testing.assert_allclose(res.x, ref[0], rtol=1e-10, atol=1e-12)
        # the result's residual is the exact ||y - A x|| / ||y|| (SciPy's r1norm uses an estimate of
        # ||x|| once damped, so it is compared without damping only)
        assert res.residual == pytest.approx(np.linalg.norm(M @ res.x - y) / np.linalg.norm(y), rel=1e-12)
        if lam == 0:
            assert res.residual * np.linalg.norm(y) == pytest.approx(ref[3], rel=1e-9)
        assert 0.5 * ref[4] ** 2 == pytest.approx(res.history["objective"][-1], rel=1e-9)  # r2norm
        assert res.norm_estimate == pytest.approx(ref[5], rel=1e-10)
        assert res.normal_residual_norm == pytest.approx(ref[7], rel=1e-8)
    # LSQR iterates = CGNR iterates in exact arithmetic
    c = cg(MatrixOperator(M), y, lam, tol=None, max_iter=7)
    np.testing.assert_allclose(res.x, c.x, rtol=1e-9)


def test_lsqr_stops_like_scipy():
    M, y = _problem(seed=4, m=60, n=25, complex_=False)
    ref = sla.lsqr(M, y, atol=1e-6, btol=1e-6)
    res = lsqr(MatrixOperator(M), y, tol=1e-6, max_iter=1000, check_every=1)
    assert res.converged and res.n_iter == ref[2]


def test_batched_right_hand_sides_each_get_their_own_recursion(backend):
    """A batch of (2, 3) right-hand sides equals six separate solves (per-item step lengths)."""
    M, _ = _problem(seed=5)
    rng = np.random.default_rng(6)
    Y = rng.standard_normal((2, 3, 40)) + 1j * rng.standard_normal((2, 3, 40))
    Y[1, 2] *= 1e3  # very different scales: shared step lengths would be wrong
    Yb = backend.asarray(Y)
    tol = 1e-4 if backend.single else 1e-10
    for solver in (cg, lsqr):
        for k in (3, 30):
            res = solver(MatrixOperator(M), Yb, 0.2, tol=None, max_iter=k, check_every=k)
            assert tuple(res.x.shape) == (2, 3, 15)
            for i in range(2):
                for j in range(3):
                    one = solver(MatrixOperator(M), Y[i, j], 0.2, tol=None, max_iter=k, check_every=k).x
                    np.testing.assert_allclose(to_numpy(res.x)[i, j], one, atol=tol * np.abs(one).max())


def test_cg_sense_like_partial_fourier_uses_fast_normal():
    """CG on a partial Fourier operator (normal = F^H P F) reaches the dense solution."""
    rng = np.random.default_rng(7)
    mask = rng.random((16, 16)) < 0.5
    A = PartialFourier((16, 16), mask)
    x = rng.standard_normal((16, 16))
    y = A @ x
    res = cg(A, y, 0.1, tol=1e-12, max_iter=100, check_every=1)
    # the normal matrix F^H P F + 0.1 I has eigenvalues in {0.1, 1.1}: CG converges in 2 steps
    assert res.converged and res.n_iter <= 3
    Fm = np.fft.fft2(np.eye(256).reshape(256, 16, 16), norm="ortho").reshape(256, 256).T
    P = Fm[mask.ravel()]
    ref = _dense(P, to_numpy(y), 0.1).reshape(16, 16)
    np.testing.assert_allclose(res.x, ref, atol=1e-10)


def test_warm_start_and_callback():
    M, y = _problem(seed=8)
    A = MatrixOperator(M)
    ref = _dense(M, y, 0.0)
    res = cg(A, y, x0=ref, tol=1e-8, check_every=1)
    assert res.converged and res.n_iter == 1
    seen = []

    def cb(state):
        seen.append(state.iteration)
        if state.iteration == 4:
            raise StopIteration

    res = lsqr(A, y, callback=cb, tol=None, max_iter=50, check_every=1)
    assert seen == [1, 2, 3, 4] and res.stop_reason == "callback" and not res.converged


def test_bad_input():
    M, y = _problem()
    A = MatrixOperator(M)
    with pytest.raises(TypeError, match="A must be"):
        cg("M", y)
    with pytest.raises(TypeError, match="A must be"):
        cg(np.ones((2, 3, 4)), y)
    with pytest.raises(ValueError, match="y has shape"):
        cg(A, y[:5])
    with pytest.raises(ValueError, match="lam"):
        lsqr(A, y, -1.0)
    with pytest.raises(TypeError, match="lam"):
        cg(A, y, "0.1")
    with pytest.raises(TypeError, match="y"):
        cg(A, np.ones(40, bool))
    with pytest.raises(ValueError, match="x0 has shape"):
        cg(A, y, x0=np.zeros(3))
    with pytest.raises(ValueError, match="M must map"):
        cg(A, y, M=MatrixOperator(np.eye(3)))
    with pytest.raises(TypeError, match="M must be"):
        cg(A, y, M=3)
    with pytest.raises(ValueError, match="NaN"):
        cg(A, np.full(40, np.nan))
    with pytest.raises(ValueError, match="max_iter"):
        lsqr(A, y, max_iter=-1)


def test_complex_warm_start_on_a_real_problem_is_rejected():
    # the imaginary part of x0 was dropped silently (a NumPy ComplexWarning only) on real problems
    rng = np.random.default_rng(0)
    A = MatrixOperator(rng.standard_normal((8, 12)))
    y = rng.standard_normal(8)
    for solver in (cg, lsqr):
        with pytest.raises(TypeError, match="x0"):
            solver(A, y, x0=np.ones(12, complex))
        assert solver(A, y + 0j, x0=np.ones(12, complex), max_iter=3).x.dtype == np.complex128
