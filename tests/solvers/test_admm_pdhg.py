"""ADMM and PDHG: the lasso of scikit-learn and FISTA, wavelet + TV agreement, backends, bad input."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso

from csbox.backend import array_namespace, to_numpy
from csbox.operators import MatrixOperator, PartialFourier, Wavelet
from csbox.penalties import L1, TV, Indicator, NuclearNorm, Tikhonov
from csbox.solvers import admm, cg, fista, pdhg


def _lasso(seed=0, m=40, n=80, k=6):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, k, replace=False)] = 2 * rng.standard_normal(k)
    return A, A @ x + 0.01 * rng.standard_normal(m)


def _obj(A, y, lam, x):
    return 0.5 * np.sum((A @ x - y) ** 2) + lam * np.abs(x).sum()


@pytest.mark.parametrize("solver", [admm, pdhg])
def test_lasso_matches_sklearn_and_fista(solver):
    """Same minimiser as coordinate descent (sklearn, alpha = lam / m) and FISTA; the lasso solution
    is unique here (A in general position), so the iterates agree, not only the objectives."""
    A, y = _lasso()
    lam = 0.05
    ref = Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=1e-14, max_iter=200_000).fit(A, y).coef_
    f = fista(MatrixOperator(A), y, lam, max_iter=20_000, tol=1e-13)
    kw = {"inner_max_iter": 20} if solver is admm else {}
    res = solver(MatrixOperator(A), y, L1(lam), max_iter=20_000, tol=1e-12, **kw)
    assert res.converged
    f_ref = _obj(A, y, lam, ref)
    assert res.history["objective"][-1] == pytest.approx(_obj(A, y, lam, res.x), rel=1e-12)
    assert _obj(A, y, lam, res.x) - f_ref < 1e-9 * f_ref
    assert abs(_obj(A, y, lam, f.x) - _obj(A, y, lam, res.x)) < 1e-9 * f_ref
    np.testing.assert_allclose(res.x, ref, atol=1e-6 * np.abs(ref).max())


def _mri(n=32, seed=0):
    from csbox.phantoms import shepp_logan

    rng = np.random.default_rng(seed)
    img = shepp_logan(n)
    mask = rng.random((n, n)) < 0.4
    mask[:4, :4] = True
    A = PartialFourier((n, n), mask)
    y = A @ img + 0.01 * (rng.standard_normal(mask.sum()) + 1j * rng.standard_normal(mask.sum()))
    return A, y, img


def test_admm_and_pdhg_agree_on_wavelet_plus_tv():
    """min 0.5||PFx - y||^2 + l1 ||Wx||_1 + l2 TV(x): two different algorithms, one minimiser.

    Both are first-order methods stopped after a fixed budget (ADMM 300, PDHG 1200 iterations,
    measured to be within 1e-6 of each other's objective and 1e-4 of each other's image at this
    size), so the tolerances are those budgets' accuracy with a 10x margin."""
    A, y, _ = _mri(16)
    W = Wavelet((16, 16), "db2", level=2)
    pens = [L1(0.005).in_basis(W), TV(0.005)]
    ra = admm(A, y, pens, max_iter=300, tol=None, check_every=100, inner_max_iter=5)
    rp = pdhg(A, y, pens, max_iter=1200, tol=None, check_every=400)
    fa, fp = ra.history["objective"][-1], rp.history["objective"][-1]
    assert abs(fa - fp) < 2e-5 * fa
    np.testing.assert_allclose(ra.x, rp.x, atol=1e-3 * np.abs(ra.x).max())
    # both decrease the objective far below the zero-filled start
    r0 = A @ (A.H @ y) - y
    assert fa < 0.5 * np.vdot(r0, r0).real + pens[0].value(A.H @ y) + pens[1].value(A.H @ y)


@pytest.mark.parametrize("solver", [admm, pdhg])
def test_every_backend(backend, solver):
    A, y, _ = _mri(16, seed=1)
    pens = [TV(0.01)]
    ref = solver(A, y, pens, max_iter=30, tol=None, check_every=10)
    yb = backend.asarray(y)
    res = solver(A, yb, pens, max_iter=30, tol=None, check_every=10)
    assert array_namespace(res.x) is array_namespace(yb)
    assert res.x.dtype == backend.complex
    tol = 2e-3 if backend.single else 1e-8
    np.testing.assert_allclose(to_numpy(res.x), ref.x, atol=tol * np.abs(ref.x).max())
    np.testing.assert_allclose(res.history["objective"], ref.history["objective"], rtol=tol)


def test_tikhonov_only_matches_cg_and_nonnegativity():
    A, y = _lasso(seed=2)
    c = cg(MatrixOperator(A), y, 0.3, tol=1e-12)
    for solver in (admm, pdhg):
        r = solver(MatrixOperator(A), y, Tikhonov(0.3), max_iter=5000, tol=1e-12)
        np.testing.assert_allclose(r.x, c.x, atol=1e-7)
    # non-negative least squares: KKT (x >= 0, gradient >= 0, complementary) at the PDHG solution
    r = pdhg(MatrixOperator(A), y, Indicator(low=0.0), max_iter=20000, tol=1e-13)
    g = A.T @ (A @ r.x - y)
    assert np.all(r.x >= 0)
    assert np.all(g > -1e-6) and np.all(np.abs(g[r.x > 1e-6]) < 1e-6)


def test_nuclear_norm_matrix_completion():
    """min 0.5||P(X) - y||^2 + lam ||X||_*: ADMM's solution is the SVT fixed point X = SVT(X - grad)."""
    from csbox.operators import Restriction

    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 2)) @ rng.standard_normal((2, 10))
    mask = rng.random((12, 10)) < 0.6
    A = Restriction((12, 10), mask)
    y = A @ X
    lam = 0.1
    r = admm(A, y, NuclearNorm(lam), max_iter=3000, tol=1e-12)
    grad = A.H @ (A @ r.x - y)
    fixed = NuclearNorm(lam).prox(r.x - grad, 1.0)
    np.testing.assert_allclose(r.x, fixed, atol=1e-6)


def test_batched_problems_are_independent():
    A, y, _ = _mri(16, seed=4)
    Y = np.stack([y, 3 * y])
    for solver in (admm, pdhg):
        kw = {"adaptive": False}
        r = solver(A, Y, [TV(0.01)], max_iter=50, tol=None, **kw)
        one = solver(A, Y[1], [TV(0.01)], max_iter=50, tol=None, **kw)
        np.testing.assert_allclose(r.x[1], one.x, atol=1e-10)


def test_bad_input():
    A, y = _lasso()
    Aop = MatrixOperator(A)
    with pytest.raises(TypeError, match="penalties"):
        admm(Aop, y, "l1")
    with pytest.raises(ValueError, match="empty"):
        pdhg(Aop, y, [])
    with pytest.raises(ValueError, match="not convex"):
        from csbox.penalties import L0

        admm(Aop, y, L0(0.1))
    with pytest.raises(ValueError, match="rho"):
        admm(Aop, y, L1(0.1), rho=-1.0)
    with pytest.raises(ValueError, match="relax"):
        admm(Aop, y, L1(0.1), relax=2.5)
    with pytest.raises(ValueError, match="theta"):
        pdhg(Aop, y, L1(0.1), theta=1.5)
    with pytest.raises(ValueError, match="sigma"):
        pdhg(Aop, y, [L1(0.1), TV(0.1)], sigma=[1.0])
    with pytest.raises(ValueError, match="y has shape"):
        pdhg(Aop, y[:3], L1(0.1))
    with pytest.raises(TypeError, match="A must be"):
        admm([[1.0]], y, L1(0.1))
    with pytest.raises(TypeError, match="y"):
        pdhg(Aop, y > 0, L1(0.1))
    with pytest.raises(ValueError, match="x_update"):
        admm(Aop, y, L1(0.1), x_update="exact")  # a dense matrix has no diagonal normal form
    with pytest.raises(ValueError, match="inner_max_iter"):
        admm(Aop, y, L1(0.1), inner_max_iter=0)
