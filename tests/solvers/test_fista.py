"""ISTA/FISTA against independent references, on every backend, and on bad input."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso

from csbox.backend import to_numpy
from csbox.iterative import ResidualTol
from csbox.operators import FFT, MatrixOperator, PartialFourier, Wavelet
from csbox.penalties import CEL0, L0, L1
from csbox.sampling import cartesian, variable_density
from csbox.solvers import Backtracking, ProxGradResult, fista, ista


def _lasso_problem(seed=0, m=40, n=80, k=6):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, k, replace=False)] = rng.standard_normal(k) * 2
    y = A @ x + 0.01 * rng.standard_normal(m)
    return A, x, y


@pytest.mark.parametrize("solver", [fista, ista])
def test_matches_sklearn_lasso(solver):
    A, _, y = _lasso_problem()
    lam = 0.05
    ref = Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=1e-14, max_iter=200_000).fit(A, y).coef_
    res = solver(MatrixOperator(A), y, lam, max_iter=100_000, tol=1e-13)
    assert res.converged and res.stop_reason == "tol"
    np.testing.assert_allclose(res.x, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_orthonormal_closed_form_complex():
    """With a unitary A the l1 solution is soft(A^H y)."""
    rng = np.random.default_rng(1)
    y = rng.standard_normal(64) + 1j * rng.standard_normal(64)
    A = FFT((64,))
    res = fista(A, y, 0.8, max_iter=500, tol=1e-14)
    z = A.H @ y
    ref = z * np.maximum(1 - 0.8 / np.abs(z), 0)
    np.testing.assert_allclose(res.x, ref, atol=1e-10)


def test_complex_kkt_conditions():
    """Complex lasso (magnitude l1, a group lasso of the real embedding): KKT holds at the solution."""
    rng = np.random.default_rng(2)
    M = (rng.standard_normal((30, 60)) + 1j * rng.standard_normal((30, 60))) / np.sqrt(60)
    x0 = np.zeros(60, complex)
    x0[[3, 17, 40]] = [2, -1j, 1 + 1j]
    y = M @ x0 + 0.01 * rng.standard_normal(30)
    lam = 0.05
    res = fista(MatrixOperator(M), y, lam, max_iter=50_000, tol=1e-14)
    x = res.x
    c = M.conj().T @ (y - M @ x)
    nz = np.abs(x) > 1e-9
    np.testing.assert_allclose(c[nz], lam * x[nz] / np.abs(x[nz]), atol=1e-7)
    assert np.all(np.abs(c[~nz]) <= lam * (1 + 1e-7))
    # real-embedded problem: [Re; Im] stacking gives the same objective value
    Ar = np.block([[M.real, -M.imag], [M.imag, M.real]])
    xr = np.concatenate([x.real, x.imag])
    yr = np.concatenate([y.real, y.imag])
    obj_real = 0.5 * np.sum((Ar @ xr - yr) ** 2) + lam * np.sum(np.hypot(xr[:60], xr[60:]))
    assert obj_real == pytest.approx(res.history["objective"][-1], rel=1e-9)


def test_restart_and_backtracking_reach_same_minimiser():
    A, _, y = _lasso_problem(seed=3)
    Aop = MatrixOperator(A)
    ref = fista(Aop, y, 0.05, max_iter=50_000, tol=1e-13).x
    for kw in ({"restart": False}, {"step": Backtracking()}):
        res = fista(Aop, y, 0.05, max_iter=50_000, tol=1e-13, **kw)
        np.testing.assert_allclose(res.x, ref, atol=1e-7)
    fast = fista(Aop, y, 0.05, max_iter=50_000, tol=1e-10, restart=True)
    slow = fista(Aop, y, 0.05, max_iter=50_000, tol=1e-10, restart=False)
    assert fast.n_iter <= slow.n_iter


def test_ista_objective_monotone_and_fista_faster():
    A, _, y = _lasso_problem(seed=4)
    r_i = ista(MatrixOperator(A), y, 0.05, max_iter=300, tol=None, check_every=1)
    obj = np.array(r_i.history["objective"])
    assert np.all(np.diff(obj) <= 1e-12 * obj[0])
    r_f = fista(MatrixOperator(A), y, 0.05, max_iter=300, tol=None, check_every=1)
    assert r_f.history["objective"][-1] <= obj[-1]


def test_batched_rhs_equal_loop():
    A, _, y = _lasso_problem(seed=5)
    Y = np.stack([y, 2 * y, -y])
    res = fista(MatrixOperator(A), Y, 0.05, max_iter=3000, tol=1e-12)
    for i in range(3):
        single = fista(MatrixOperator(A), Y[i], 0.05, max_iter=3000, tol=1e-12)
        np.testing.assert_allclose(res.x[i], single.x, atol=1e-8)


def test_warm_start_and_lam_rel():
    A, _, y = _lasso_problem(seed=6)
    Aop = MatrixOperator(A)
    cold = fista(Aop, y, 0.05, max_iter=5000, tol=1e-10)
    warm = fista(Aop, y, 0.05, x0=cold.x, max_iter=5000, tol=1e-10)
    assert warm.n_iter < cold.n_iter
    zero = fista(Aop, y, lam_rel=1.0, max_iter=100)
    assert np.abs(zero.x).max() == 0.0
    assert zero.lam == pytest.approx(np.abs(A.T @ y).max())


def test_nonconvex_thresholds_recover_sparse_vector():
    rng = np.random.default_rng(7)
    m, n, k = 50, 100, 12
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, k, replace=False)] = rng.choice([-1, 1], k) * (1 + rng.random(k))
    y = A @ x
    Aop = MatrixOperator(A)
    g = 0.99 / Aop.lipschitz()
    for pen in (L0(), CEL0(col_norms=Aop.column_norms())):
        res = fista(Aop, y, 0.01, penalty=pen, max_iter=5000, tol=1e-12, step=g)
        assert np.linalg.norm(res.x - x) / np.linalg.norm(x) < 1e-8
    # l1 at the same lam is biased: its error is of order lam
    soft = fista(Aop, y, 0.01, max_iter=5000, tol=1e-12, step=g)
    assert np.linalg.norm(soft.x - x) / np.linalg.norm(x) > 1e-3
    # CEL0 stays exact at a lam where hard thresholding from zero is trapped in a local minimum
    cel0 = fista(Aop, y, 0.1, penalty=CEL0(col_norms=Aop.column_norms()), max_iter=5000, tol=1e-12, step=g)
    hard = fista(Aop, y, 0.1, penalty=L0(), max_iter=5000, tol=1e-12, step=g)
    assert np.linalg.norm(cel0.x - x) / np.linalg.norm(x) < 1e-8
    assert np.linalg.norm(hard.x - x) / np.linalg.norm(x) > 0.1


def _mri(n=32):
    rng = np.random.default_rng(8)
    img = np.zeros((n, n))
    img[n // 4 : 3 * n // 4, n // 4 : 3 * n // 4] = 1.0
    img[n // 3 : n // 2, n // 3 : 2 * n // 3] = 0.5
    img += 0.05 * rng.standard_normal((n, n))
    mask = cartesian(variable_density(n, acceleration=3, calib=4, seed=0), (n, n), axis=0)
    return PartialFourier((n, n), mask, centered=True), Wavelet((n, n), "db4", level=2), img


def test_backends_agree_on_mri_problem(backend):
    A, W, img = _mri()
    y = A @ img
    ref = fista(A, y, 0.01, penalty=L1().in_basis(W), max_iter=60, tol=None)
    res = fista(A, backend.asarray(y), 0.01, penalty=L1().in_basis(W), max_iter=60, tol=None)
    from csbox.backend import array_namespace, device

    assert array_namespace(res.x).__name__ == backend.xp.__name__
    assert str(device(res.x)) == str(device(backend.asarray(y)))
    assert res.x.dtype == backend.complex
    np.testing.assert_allclose(to_numpy(res.x), ref.x, atol=1e-4 if backend.single else 1e-10)


def test_cycle_spinning_runs_and_is_seeded():
    A, W, img = _mri()
    y = A @ img
    spun = L1().in_basis(W, cycle_spin=True, seed=3)
    a = fista(A, y, 0.01, penalty=spun, max_iter=30)
    b = fista(A, y, 0.01, penalty=spun, max_iter=30)  # same penalty object: same shifts again
    np.testing.assert_array_equal(a.x, b.x)
    plain = fista(A, y, 0.01, penalty=L1().in_basis(W), max_iter=30)
    assert not np.allclose(a.x, plain.x)


def test_01_keywords_are_gone():
    """fista's 0.1 keywords were removed with no shim (nothing was released): a clear TypeError."""
    A, W, img = _mri()
    y = A @ img
    for kw in ({"transform": W}, {"prox": "hard"}, {"cycle_spin": True}, {"backtracking": True}):
        with pytest.raises(TypeError, match="unexpected keyword"):
            fista(A, y, 0.01, max_iter=2, **kw)


def test_typed_result_and_step_strategies():
    A, _, y = _lasso_problem()
    res = fista(A, y, 0.05, step=Backtracking(L0=0.5, factor=3.0), max_iter=200, tol=None)
    assert isinstance(res, ProxGradResult) and res.x is not None
    # backtracking stops growing L once the quadratic model majorises: L <= factor * ||A||^2
    assert res.lipschitz <= 3.0 * np.linalg.norm(A, 2) ** 2 * (1 + 1e-9)
    assert res.step == pytest.approx(1.0 / res.lipschitz)
    assert res.n_restarts >= 0 and res.lam == 0.05 and isinstance(res.penalty, L1)
    assert not hasattr(res, "extra")  # typed fields only
    ist = ista(A, y, 0.05, max_iter=20)
    assert ist.n_restarts == 0
    with pytest.raises(TypeError, match="restart"):
        ista(A, y, 0.05, restart=True)


def test_divergence_is_reported_not_returned_as_converged():
    A, _, y = _lasso_problem()
    Aop = MatrixOperator(A)
    res = ista(Aop, y, 0.01, step=10.0 / Aop.lipschitz(), max_iter=2000, tol=1e-8)
    assert not res.converged
    assert res.stop_reason in ("diverged", "nan")
    assert np.all(np.isfinite(res.x))


def test_callback_stops_cleanly_and_sees_state():
    A, _, y = _lasso_problem()
    seen = []

    def cb(state):
        seen.append((state.iteration, state.objective))
        if state.iteration >= 30:
            raise StopIteration

    res = fista(MatrixOperator(A), y, 0.05, callback=cb, max_iter=1000, tol=None)
    assert res.stop_reason == "callback" and not res.converged and res.n_iter == 30
    assert [s[0] for s in seen] == [10, 20, 30]


def test_residual_rule_and_progress(capsys):
    A, _, y = _lasso_problem()
    res = fista(MatrixOperator(A), y, 0.0, max_iter=10_000, tol=None, stop=ResidualTol(1e-3), progress=True)
    assert res.stop_reason == "residual" and res.converged
    assert res.history["residual"][-1] < 1e-3 <= res.history["residual"][-2]
    r = np.linalg.norm(A @ res.x - y) / np.linalg.norm(y)
    assert r == pytest.approx(res.history["residual"][-1], rel=1e-9)
    assert "fista" in capsys.readouterr().err


def test_bad_input():
    A, _, y = _lasso_problem()
    Aop = MatrixOperator(A)
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        fista(Aop, y, -1.0)
    with pytest.raises(ValueError, match="give lam, lam_rel or a penalty"):
        fista(Aop, y)
    with pytest.raises(ValueError, match="at most one of lam and lam_rel"):
        fista(Aop, y, 0.1, lam_rel=0.1)
    with pytest.raises(TypeError, match="penalty must be"):
        fista(Aop, y, 0.1, penalty="l1")
    with pytest.raises(ValueError, match=r"y has shape \(39,\)"):
        fista(Aop, y[:-1], 0.1)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN or Inf"):
        fista(Aop, bad, 0.1)
    with pytest.raises(ValueError, match="Lipschitz estimate 0"):
        fista(MatrixOperator(np.zeros((40, 5))), y, 0.1)
    with pytest.raises(ValueError, match="step must be a finite number > 0"):
        fista(Aop, y, 0.1, step=-1.0)
    with pytest.raises(TypeError, match="A must be a csbox LinearOperator"):
        fista([[1.0]], y, 0.1)
    np.testing.assert_array_equal(fista(A, y, 0.1, max_iter=5).x, fista(Aop, y, 0.1, max_iter=5).x)
    yi = np.round(10 * y).astype(np.int64)  # integer data are cast to float64
    assert fista(Aop, yi, 0.1, max_iter=5).x.dtype == np.float64
    with pytest.raises(ValueError, match="max_iter must be >= 0"):
        fista(Aop, y, 0.1, max_iter=-5)
    with pytest.raises(ValueError, match="basis acts on"):
        fista(Aop, y, 0.1, penalty=L1().in_basis(Wavelet((16,), "haar")))


def test_fista_rejects_nonfinite_or_complex_warm_start():
    # a NaN x0 ran to a 'nan' stop (cg and lsqr reject it); a complex x0 for a real problem
    # was cast to real, dropping its imaginary part with only a NumPy warning
    rng = np.random.default_rng(0)
    A = MatrixOperator(rng.standard_normal((8, 12)))
    y = rng.standard_normal(8)
    with pytest.raises(ValueError, match="x0"):
        fista(A, y, 0.1, x0=np.full(12, np.nan))
    with pytest.raises(TypeError, match="x0"):
        fista(A, y, 0.1, x0=np.ones(12, complex))
    r = fista(A, y + 0j, 0.1, x0=np.ones(12, complex), max_iter=3)  # complex problem: fine
    assert r.x.dtype == np.complex128
