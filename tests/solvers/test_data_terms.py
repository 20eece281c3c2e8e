"""Every inverse solver with a data term: weighted least squares against the whitened dense system,
the constraint ||Ax - y|| <= eps in ADMM and PDHG (and refused where it cannot be used), one problem
check (A as a matrix or an operator, bad y), ADMM's exact x-update against CG."""

import numpy as np
import pytest
import scipy.linalg

import csbox
from csbox.operators import MatrixOperator, PartialFourier, Wavelet
from csbox.penalties import L1, TV, LeastSquares, ResidualBall, Tikhonov, WeightedLeastSquares
from csbox.solvers import ADMM, CG, LSQR, PDHG, ProximalGradient, admm, cg, fista, ista, lsqr, pdhg


def _wls(seed=0, m=40, n=12):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, n)) + 1j * rng.standard_normal((m, n))
    y = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    w = rng.random(m) * 4.0 + 0.1
    return M, y, w


def _whitened_lstsq(M, y, w, lam=0.0):
    """min ||W^1/2 (Mx - y)||^2 + lam ||x||^2 by scipy.linalg.lstsq on [W^1/2 M; sqrt(lam) I]."""
    s = np.sqrt(w)
    n = M.shape[1]
    Mw = np.vstack([s[:, None] * M, np.sqrt(lam) * np.eye(n)])
    yw = np.concatenate([s * y, np.zeros(n)])
    return scipy.linalg.lstsq(Mw, yw)[0]


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_weighted_least_squares_matches_lstsq_on_the_whitened_system(lam):
    M, y, w = _wls()
    ref = _whitened_lstsq(M, y, w, lam)
    data = WeightedLeastSquares(w)
    # cond([W^1/2 M]) ~ 10: CG and LSQR reach the solution to ~1e-10 at these tolerances
    for res in (cg(M, y, lam, data=data, tol=1e-13, max_iter=300),
                lsqr(M, y, lam, data=data, tol=1e-14, max_iter=300)):
        assert res.converged and isinstance(res.data, WeightedLeastSquares)
        np.testing.assert_allclose(res.x, ref, atol=1e-9 * np.abs(ref).max())
        r = np.sqrt(w) * (M @ res.x - y)
        assert res.residual == pytest.approx(np.linalg.norm(r) / np.linalg.norm(np.sqrt(w) * y), rel=1e-9)
        obj = 0.5 * np.linalg.norm(r) ** 2 + 0.5 * lam * np.linalg.norm(res.x) ** 2
        assert res.history["objective"][-1] == pytest.approx(obj, rel=1e-9)
    # the proximal and splitting solvers on the same problem (Tikhonov as their penalty; a
    # strongly convex problem, so the iterates converge to the unique minimiser)
    pen = Tikhonov(max(lam, 1e-12))
    ref = _whitened_lstsq(M, y, w, pen.lam)
    for res in (fista(M, y, penalty=pen, data=data, max_iter=5000, tol=1e-13),
                admm(M, y, pen, data=data, max_iter=5000, tol=1e-13, inner_max_iter=20),
                pdhg(M, y, pen, data=data, max_iter=20000, tol=1e-13)):
        np.testing.assert_allclose(res.x, ref, atol=1e-6 * np.abs(ref).max())


def test_constraint_solves_basis_pursuit_denoising():
    """min ||x||_1 s.t. ||Ax - y|| <= eps with eps = ||A x_lasso - y|| has the lasso's solution
    (the lasso's Lagrange multiplier makes its KKT conditions those of the constrained problem;
    both solutions are unique for A in general position)."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 60)) / np.sqrt(30)
    x = np.zeros(60)
    x[[3, 20, 41]] = [1.0, -1.5, 2.0]
    y = A @ x + 0.05 * rng.standard_normal(30)
    lasso = fista(A, y, 0.05, max_iter=20000, tol=1e-14)
    eps = float(np.linalg.norm(A @ lasso.x - y))
    ball = ResidualBall(eps)
    a = admm(A, y, L1(1.0), data=ball, max_iter=20000, tol=1e-13, inner_max_iter=30)
    p = pdhg(A, y, L1(1.0), data=ball, max_iter=50000, tol=1e-14)
    for res in (a, p):
        assert isinstance(res.data, ResidualBall) and "infeasibility" in res.history
        assert np.linalg.norm(A @ res.x - y) <= eps * (1 + 1e-5)
        np.testing.assert_allclose(res.x, lasso.x, atol=1e-4 * np.abs(lasso.x).max())
    res = csbox.reconstruct(A, y, L1(1.0), data=ball, max_iter=50)
    assert type(res).__name__ == "ADMMResult" and "||Ax - y|| <= eps" in res.message


@pytest.mark.parametrize("solver", [fista, ista, cg, lsqr])
def test_constraint_is_refused_where_it_cannot_be_used(solver):
    A, y, _ = _wls()
    kw = {"lam": 0.1} if solver in (fista, ista) else {}
    with pytest.raises(ValueError, match="data"):
        solver(A, y, data=ResidualBall(1.0), **kw)
    with pytest.raises(ValueError, match="data"):
        csbox.reconstruct(A, y, L1(0.1), "fista", data=ResidualBall(1.0))


def _every_solver():
    return {
        "fista": lambda A, y, **k: fista(A, y, 0.1, **k),
        "ista": lambda A, y, **k: ista(A, y, 0.1, **k),
        "cg": lambda A, y, **k: cg(A, y, 0.1, **k),
        "lsqr": lambda A, y, **k: lsqr(A, y, 0.1, **k),
        "admm": lambda A, y, **k: admm(A, y, L1(0.1), **k),
        "pdhg": lambda A, y, **k: pdhg(A, y, L1(0.1), **k),
        "reconstruct": lambda A, y, **k: csbox.reconstruct(A, y, L1(0.1), **k),
    }


@pytest.mark.parametrize("name", sorted(_every_solver()))
def test_one_problem_check(name):
    """A matrix or an operator as A, the same errors for bad A and y, a result with residual and data."""
    solve = _every_solver()[name]
    M, y, _ = _wls(seed=2)
    res_m = solve(M, y, max_iter=20)
    res_o = solve(MatrixOperator(M), y, max_iter=20)
    np.testing.assert_allclose(res_m.x, res_o.x)
    assert np.isfinite(res_m.residual) and isinstance(res_m.data, LeastSquares)
    assert "objective" in res_m.history and "residual" in res_m.history
    assert res_m.residual == pytest.approx(np.linalg.norm(M @ res_m.x - y) / np.linalg.norm(y), rel=1e-10)
    for bad_A in ("M", [[1.0, 2.0]], np.ones((2, 3, 4))):
        with pytest.raises(TypeError, match="A must be"):
            solve(bad_A, y)
    with pytest.raises(TypeError, match="y"):
        solve(M, np.abs(y) > 1)  # booleans are not data
    with pytest.raises(ValueError, match="y"):
        solve(M, y[:5])
    with pytest.raises(ValueError, match="y"):
        solve(M, np.where(np.arange(40) == 3, np.nan, y))
    with pytest.raises(ValueError, match=r"empty|y"):
        solve(M[:0], y[:0])
    with pytest.raises(TypeError, match="data"):
        solve(M, y, data="l2")
    assert solve(M.real, np.ones(40, int), max_iter=5).x.dtype == np.float64  # integers are cast


def test_public_classes_step():
    M, y, _ = _wls(seed=3)
    for cls, args in ((CG, ()), (LSQR, ()), (ADMM, (L1(0.1),)), (PDHG, (L1(0.1),)),
                      (ProximalGradient, (L1(0.1),))):
        s = cls(M, y, *args, max_iter=5)
        x0 = s.estimate()
        s.step()
        s.step()  # PDHG's first step from x = 0, w = 0 leaves x at 0
        assert s.estimate().shape == x0.shape and not np.allclose(s.estimate(), x0)
        assert s.solve().n_iter == 5


def _mri(n=32, seed=0):
    rng = np.random.default_rng(seed)
    from csbox.phantoms import shepp_logan

    mask = rng.random((n, n)) < 0.4
    mask[:3, :3] = True
    A = PartialFourier((n, n), mask, centered=True)
    y = A @ shepp_logan(n) + 0.01 * (rng.standard_normal(int(mask.sum())) + 0j)
    return A, y


@pytest.mark.parametrize("data", [None, "wls", "ball"])
def test_exact_x_update_matches_cg(data):
    """With A = PartialFourier and a wavelet split, A^H D A + rho I is diagonal in k-space: the exact
    x-update and a CG x-update run to convergence (40 steps, tol 1e-14) give the same ADMM iterates
    (fixed rho, so both follow one sequence; the difference is CG's residual, ~1e-12)."""
    A, y = _mri()
    W = Wavelet((32, 32), "db2", level=2)
    rng = np.random.default_rng(5)
    term = {None: None, "wls": WeightedLeastSquares(rng.random(y.shape) + 0.5),
            "ball": ResidualBall(0.5 * np.linalg.norm(y - A @ (A.H @ y)) + 0.05)}[data]
    kw = dict(data=term, max_iter=30, tol=None, adaptive=False, rho=0.7)
    ex = admm(A, y, L1(0.01).in_basis(W), x_update="exact", **kw)
    it = admm(A, y, L1(0.01).in_basis(W), x_update="cg", inner_max_iter=40, inner_tol=1e-14, **kw)
    auto = admm(A, y, L1(0.01).in_basis(W), **kw)
    assert (ex.x_update, it.x_update, auto.x_update) == ("exact", "cg", "exact")
    assert ex.inner_iterations == 0 and it.inner_iterations > 30
    np.testing.assert_allclose(ex.x, it.x, atol=1e-9 * np.abs(ex.x).max())
    np.testing.assert_allclose(auto.x, ex.x)
    # TV splits through the gradient (not orthonormal): auto falls back to CG, exact is refused
    assert admm(A, y, TV(0.01), max_iter=2).x_update == "cg"
    with pytest.raises(ValueError, match="orthonormal"):
        admm(A, y, TV(0.01), x_update="exact")


def test_exact_x_update_on_the_identity_batched():
    """Denoising (A = I): the exact update is a division; batched problems stay independent."""
    from csbox.operators import Identity

    rng = np.random.default_rng(6)
    Y = rng.standard_normal((2, 16))
    r = admm(Identity(16), Y, L1(0.3), max_iter=50, tol=None)
    assert r.x_update == "exact"
    # the lasso with A = I is soft thresholding of y at 0.3
    np.testing.assert_allclose(r.x, np.sign(Y) * np.maximum(np.abs(Y) - 0.3, 0), atol=1e-8)
