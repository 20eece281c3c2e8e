"""csbox.reconstruct: the solver it picks, and that its answer is the chosen solver's."""

import numpy as np
import pytest

import csbox
from csbox.operators import MatrixOperator, PartialFourier, Wavelet
from csbox.penalties import L1, TV, Indicator, Tikhonov
from csbox.solvers import CGResult, PDHGResult, admm, cg, fista
from csbox.solvers.admm import ADMMResult


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((30, 50)) / np.sqrt(30)
    x = np.zeros(50)
    x[:4] = 1.0
    return MatrixOperator(A), A @ x + 0.01 * rng.standard_normal(30)


def test_quadratic_only_is_cg():
    A, y = _problem()
    res = csbox.reconstruct(A, y, [Tikhonov(0.2), Tikhonov(0.1)], tol=1e-12)
    assert isinstance(res, CGResult) and res.lam == pytest.approx(0.3)
    np.testing.assert_allclose(res.x, cg(A, y, 0.3, tol=1e-12).x)
    ls = csbox.reconstruct(A, y, [], max_iter=200, tol=1e-12)
    M = A.matrix
    np.testing.assert_allclose(ls.x, np.linalg.lstsq(M, y, rcond=None)[0], atol=1e-8)


def test_single_l1_is_fista():
    A, y = _problem()
    res = csbox.reconstruct(A, y, L1(0.05), max_iter=3000, tol=1e-12)
    ref = fista(A, y, 0.05, max_iter=3000, tol=1e-12)
    assert not isinstance(res, (CGResult, ADMMResult, PDHGResult))
    np.testing.assert_allclose(res.x, ref.x)


def test_wavelet_l1_is_fista_and_tv_is_admm():
    rng = np.random.default_rng(1)
    A = PartialFourier((16, 16), rng.random((16, 16)) < 0.5)
    y = A @ rng.standard_normal((16, 16))
    W = Wavelet((16, 16), "haar", level=2)
    res = csbox.reconstruct(A, y, L1(0.01).in_basis(W), max_iter=50)
    ref = fista(A, y, 0.01, penalty=L1().in_basis(W), max_iter=50)
    np.testing.assert_allclose(res.x, ref.x)
    res = csbox.reconstruct(A, y, [TV(0.01)], max_iter=20, tol=None)
    assert isinstance(res, ADMMResult)
    np.testing.assert_allclose(res.x, admm(A, y, [TV(0.01)], max_iter=20, tol=None).x)
    both = csbox.reconstruct(A, y, [L1(0.01).in_basis(W), TV(0.01)], max_iter=20)
    assert isinstance(both, ADMMResult)
    pd = csbox.reconstruct(A, y, [L1(0.01).in_basis(W), TV(0.01)], solver="pdhg", max_iter=20, balance=2.0)
    assert isinstance(pd, PDHGResult) and pd.n_iter == 20


def test_nonnegative_lasso_through_admm_matches_pdhg():
    A, y = _problem(2)
    a = csbox.reconstruct(A, y, [L1(0.05), Indicator(low=0.0)], max_iter=3000, tol=1e-11, inner_max_iter=10)
    p = csbox.reconstruct(A, y, [L1(0.05), Indicator(low=0.0)], solver="pdhg", max_iter=20000, tol=1e-12)
    assert np.all(a.x >= -1e-8)
    np.testing.assert_allclose(a.x, p.x, atol=1e-5)


def test_bad_input():
    A, y = _problem()
    with pytest.raises(ValueError, match="solver"):
        csbox.reconstruct(A, y, L1(0.1), solver="sgd")
    with pytest.raises(ValueError, match="quadratic"):
        csbox.reconstruct(A, y, L1(0.1), solver="cg")
    with pytest.raises(ValueError, match="one penalty"):
        csbox.reconstruct(A, y, [L1(0.1), TV(0.1)], solver="fista")
    with pytest.raises(ValueError, match="at least one"):
        csbox.reconstruct(A, y, [], solver="admm")
    with pytest.raises(TypeError, match="A must be"):
        csbox.reconstruct("A", y, L1(0.1))
    with pytest.raises(TypeError, match="penalties"):
        csbox.reconstruct(A, y, ["l1"])
