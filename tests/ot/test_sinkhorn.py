"""Sinkhorn and Sinkhorn-Newton-Sparse against POT (test-only oracle), exact OT, invariants, bad input."""

import numpy as np
import ot
import pytest

from csbox.backend import to_numpy
from csbox.ot import (
    OTResult,
    SNSResult,
    WassersteinResult,
    cost_matrix,
    grid_cost,
    sinkhorn,
    sinkhorn_newton_sparse,
    wasserstein_grid,
)


def _problem(n, m=None, seed=0):
    m = m or n
    rng = np.random.default_rng(seed)
    a = rng.random(n) + 0.1
    b = rng.random(m) + 0.1
    return a / a.sum(), b / b.sum(), rng.random((n, m))


@pytest.mark.parametrize("n,m", [(50, 50), (120, 80), (300, 300)])
@pytest.mark.parametrize("reg", [0.5, 0.05, 0.01])
def test_sinkhorn_and_sns_match_pot(n, m, reg):
    a, b, C = _problem(n, m, seed=n + m)
    ref = ot.sinkhorn(a, b, C, reg, method="sinkhorn_log", stopThr=1e-14, numItermax=200_000)
    for res in (sinkhorn(a, b, C, reg, tol=1e-12, max_iter=200_000),
                sinkhorn_newton_sparse(a, b, C, reg, tol=1e-12)):
        assert res.converged
        # marginal error 1e-12 bounds the plan difference at the scale of the entries
        np.testing.assert_allclose(res.plan, ref, atol=1e-11, rtol=0)
        assert float(res.cost) == pytest.approx(np.sum(ref * C), rel=1e-9)


def test_converges_to_exact_ot_as_reg_vanishes():
    a, b, C = _problem(60, seed=1)
    exact = ot.emd2(a, b, C)
    gaps = []
    for reg in (0.1, 0.01, 0.001):
        res = sinkhorn_newton_sparse(a, b, C, reg, tol=1e-11)
        gaps.append(float(res.cost) - exact)
    assert all(g >= -1e-12 for g in gaps)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 2e-3 * exact


def test_sns_random_assignment_eta_1200():
    rng = np.random.default_rng(0)
    n = 200
    a = b = np.full(n, 1.0 / n)
    C = rng.random((n, n))
    res = sinkhorn_newton_sparse(a, b, C, 1.0 / 1200, tol=1e-9)
    assert res.converged and res.marginal_error < 1e-9
    assert res.n_iter < 100 and res.n_sinkhorn == 20 and res.n_newton == res.n_iter - 20
    err = np.array(res.history["marginal_error"])[np.array(res.history["stage"]) == 2]
    assert np.all(np.diff(err) < 0), err
    assert np.all(np.isfinite(res.plan)) and np.isfinite(float(res.cost))
    # plain Sinkhorn needs far more iterations on the same problem
    slow = sinkhorn(a, b, C, 1.0 / 1200, tol=1e-9, max_iter=2000)
    assert not slow.converged and slow.marginal_error > 1e-8


def test_sparsified_hessian_entries_and_symmetry():
    from csbox._sparse import SparseMatrix, topk_indices

    rng = np.random.default_rng(3)
    P = rng.random((30, 40))
    k = 77
    idx = topk_indices(P, k)
    assert idx.shape == (k,) and np.unique(idx).size == k
    assert P.ravel()[idx].min() >= np.sort(P.ravel())[-k]
    rows, cols = idx // 40, idx % 40
    S = SparseMatrix(rows, cols, P.ravel()[idx], (30, 40))
    assert S.nnz == k
    dense = np.zeros_like(P)
    dense.ravel()[idx] = P.ravel()[idx]
    x, y = rng.random(40), rng.random(30)
    np.testing.assert_allclose(S.matvec(x), dense @ x)
    np.testing.assert_allclose(S.rmatvec(y), dense.T @ y)
    # the Newton matrix [[diag(r), S], [S^T, diag(c)]] is symmetric: <u, M v> = <M u, v>
    r, c = P.sum(1), P.sum(0)

    def M(z):
        return np.concatenate([r * z[:30] + S.matvec(z[30:]), S.rmatvec(z[:30]) + c * z[30:]])

    u, v = rng.random(70), rng.random(70)
    assert u @ M(v) == pytest.approx(M(u) @ v, rel=1e-12)


def test_cg_solves_newton_system():
    from csbox.ot.sinkhorn import _pcg

    rng = np.random.default_rng(4)
    B = rng.random((50, 50))
    A = B @ B.T + 50 * np.eye(50)
    rhs = rng.random(50)
    x, _its = _pcg(lambda z: A @ z, rhs, np.diag(A).copy(), 1e-10, 500)
    assert np.linalg.norm(A @ x - rhs) <= 1e-10 * np.linalg.norm(rhs) * 1.0001


def test_batched_sinkhorn_equals_loop():
    a, _b, C = _problem(40, 30, seed=5)
    rng = np.random.default_rng(6)
    B = rng.random((3, 30)) + 0.1
    B = B / B.sum(1, keepdims=True)
    res = sinkhorn(a, B, C, 0.05, tol=1e-12)
    assert res.plan.shape == (3, 40, 30)
    for i in range(3):
        single = sinkhorn(a, B[i], C, 0.05, tol=1e-12)
        np.testing.assert_allclose(res.plan[i], single.plan, atol=1e-13)


def test_zero_mass_entries_solved_on_support():
    a, b, C = _problem(30, 20, seed=7)
    a[[3, 8]] = 0
    b[5] = 0
    a, b = a / a.sum(), b / b.sum()
    res = sinkhorn_newton_sparse(a, b, C, 0.05, tol=1e-12)
    ref = ot.sinkhorn(a, b, C, 0.05, method="sinkhorn_log", stopThr=1e-14, numItermax=100_000)
    np.testing.assert_allclose(res.plan, ref, atol=1e-11)
    assert np.all(res.plan[[3, 8]] == 0) and np.all(res.plan[:, 5] == 0)
    assert np.isneginf(res.f[3]) and np.isneginf(res.g[5])


def test_backends(backend):
    a, b, C = _problem(40, 30, seed=8)
    ref = sinkhorn(a, b, C, 0.05, tol=1e-12)
    tol = 1e-5 if backend.single else 1e-9
    res = sinkhorn(backend.asarray(a), backend.asarray(b), backend.asarray(C), 0.05,
                   tol=1e-5 if backend.single else 1e-12)
    np.testing.assert_allclose(to_numpy(res.plan), ref.plan, atol=tol)
    if not backend.single:
        sns = sinkhorn_newton_sparse(backend.asarray(a), backend.asarray(b), backend.asarray(C), 0.05,
                                     tol=1e-11)
        np.testing.assert_allclose(to_numpy(sns.plan), ref.plan, atol=1e-10)


def test_cost_helpers():
    rng = np.random.default_rng(9)
    X, Y = rng.random((5, 3)), rng.random((4, 3))
    from scipy.spatial.distance import cdist

    np.testing.assert_allclose(cost_matrix(X, Y), cdist(X, Y, "sqeuclidean"), atol=1e-12)
    np.testing.assert_allclose(cost_matrix(X, Y, "euclidean"), cdist(X, Y), atol=1e-7)
    np.testing.assert_allclose(cost_matrix(X, Y, "cityblock"), cdist(X, Y, "cityblock"), atol=1e-12)
    np.testing.assert_allclose(cost_matrix(X, Y, 3), cdist(X, Y, "minkowski", p=3) ** 3, atol=1e-12)
    G = grid_cost((3, 4), p=1)
    assert G.shape == (12, 12) and G[0, 11] == pytest.approx(np.hypot(2, 3))


def test_wasserstein_grid_translation():
    """W_p between a density and its translate by (dy, dx) on a grid is the shift length."""
    mu = np.zeros((12, 12))
    mu[2:5, 3:6] = 1.0
    nu = np.roll(mu, (3, 4), axis=(0, 1))
    for method in ("auto", "sns"):
        res = wasserstein_grid(mu, nu, p=2, reg=2e-4, method=method)
        assert isinstance(res, WassersteinResult) and res.converged, method
        assert res.distance == pytest.approx(5.0, rel=1e-2), method
    # Sinkhorn at a larger reg: the same distance from its own cost, in grid units
    res = wasserstein_grid(mu, nu, p=2, reg=1e-2, method="sinkhorn")
    cmax = float(grid_cost((12, 12)).max())
    assert res.converged and res.distance == pytest.approx((float(res.cost) * cmax) ** 0.5, rel=1e-12)


def test_bad_input():
    a, b, C = _problem(10, seed=10)
    with pytest.raises(ValueError, match="a has negative entries"):
        sinkhorn(-a, b, C, 0.1)
    with pytest.raises(ValueError, match="equal mass"):
        sinkhorn(a, 2 * b, C, 0.1)
    with pytest.raises(ValueError, match=r"C has shape \(10, 9\)"):
        sinkhorn(a, b, C[:, :9], 0.1)
    with pytest.raises(ValueError, match="reg must be > 0"):
        sinkhorn(a, b, C, 0.0)
    with pytest.raises(ValueError, match="mass_rtol must be >= 0"):
        sinkhorn(a, b, C, 0.1, mass_rtol=-1e-3)
    with pytest.raises(ValueError, match="tau must be > 0"):
        sinkhorn(a, b, C, 0.1, tau=0)
    with pytest.raises(TypeError, match="C must be real"):
        sinkhorn(a, b, C + 0j, 0.1)
    with pytest.raises(TypeError, match="n_sinkhorn must be an int"):
        sinkhorn_newton_sparse(a, b, C, 0.1, n_sinkhorn=2.5)
    with pytest.raises(ValueError, match="keep_mass must be <= 1"):
        sinkhorn_newton_sparse(a, b, C, 0.1, keep_mass=1.5)
    with pytest.raises(ValueError, match="p must be > 0"):
        grid_cost((3, 3), p=0)
    with pytest.raises(TypeError, match="shape must contain ints"):
        grid_cost((3.5, 3))
    with pytest.raises(TypeError, match="X must be real"):
        cost_matrix(np.ones((3, 2)) + 1j, np.ones((4, 2)))
    with pytest.raises(ValueError, match="metric must be >= 1"):
        cost_matrix(np.ones((3, 2)), np.ones((4, 2)), 0.5)
    with pytest.raises(ValueError, match="metric must be 'sqeuclidean'"):
        cost_matrix(np.ones((3, 2)), np.ones((4, 2)), "cosine")
    with pytest.raises(ValueError, match="method must be one of"):
        wasserstein_grid(np.ones((3, 3)), np.ones((3, 3)), method="foo")
    with pytest.raises(ValueError, match="mu must have positive total mass"):
        wasserstein_grid(np.zeros((3, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="grid_cost needs"):
        grid_cost((2**12, 2**12))  # (2^24)^2 entries
    Cn = C.copy()
    Cn[1, 1] = np.nan
    with pytest.raises(ValueError, match="C contains NaN"):
        sinkhorn_newton_sparse(a, b, Cn, 0.1)
    with pytest.raises(ValueError, match="density must be <= 1"):
        sinkhorn_newton_sparse(a, b, C, 0.1, density=2.0)
    with pytest.raises(ValueError, match="b must be 1-D"):
        sinkhorn_newton_sparse(a, np.stack([b, b]), C, 0.1)
    # masses within mass_rtol are rescaled, not rejected
    res = sinkhorn(a, b * (1 + 1e-8), C, 0.1, tol=1e-12)
    assert res.converged


def test_contract_typed_results_and_callback():
    """Typed results; the callback sees the full-length potentials (n + m) with continuous iterations."""
    a, b, C = _problem(30, 20, seed=11)
    seen = []

    def cb(state):
        seen.append((state.iteration, tuple(state.x.shape), state.metrics["stage"]))

    res = sinkhorn(a, b, C, 0.05, tol=1e-12, callback=cb)
    assert isinstance(res, OTResult) and res.x is res.plan and res.plan.shape == (30, 20)
    assert all(shape == (50,) for _, shape, _ in seen)
    seen.clear()
    sns = sinkhorn_newton_sparse(a, b, C, 0.01, tol=1e-11, callback=cb)
    assert isinstance(sns, SNSResult) and sns.converged and sns.n_newton > 0
    assert [k for k, _, _ in seen] == sns.history["iteration"]
    assert all(shape == (50,) for _, shape, _ in seen)
    assert seen[-1][0] == sns.n_iter == sns.n_sinkhorn + sns.n_newton and seen[-1][2] == 2
    one = sinkhorn(a, b, C, 0.05, max_iter=1)
    assert one.n_iter == 1 and one.stop_reason == "max_iter" and not one.converged
    # the objective from the duals equals the primal definition <C, P> + reg sum P (log P - 1)
    P = res.plan
    assert float(res.objective) == pytest.approx(float(np.sum(P * C) + 0.05 * np.sum(P * (np.log(P) - 1))),
                                                 rel=1e-10)


def _clouds(n, seed):
    rng = np.random.default_rng(seed)
    C = cost_matrix(rng.random((n, 2)), rng.random((n, 2)))
    return np.full(n, 1.0 / n), C / C.max()


def test_sns_auto_stays_sinkhorn_where_newton_does_not_pay():
    """Clouds at eta = 100: Sinkhorn's steady rate (~0.1 per iteration) reaches 1e-9 in ~200 iterations,
    far below the 8 x (8 kernel builds + 50 iterations) predicted for Newton: the rule never switches."""
    a, C = _clouds(300, seed=1)
    plain = sinkhorn(a, a, C, 1.0 / 100, tol=1e-9)
    auto = sinkhorn_newton_sparse(a, a, C, 1.0 / 100, tol=1e-9, n_sinkhorn="auto")
    assert isinstance(auto, SNSResult) and auto.converged and plain.converged
    assert not auto.switched and not auto.fell_back and auto.n_newton == 0
    assert auto.stages == [("sinkhorn", auto.n_iter)] and abs(auto.n_iter - plain.n_iter) <= 10
    # the same iterations (checked every 5 instead of 10): the plans agree to the marginal tolerance
    np.testing.assert_allclose(auto.plan, plain.plan, atol=1e-9)


def test_sns_auto_switches_where_sinkhorn_slows_down():
    """Random costs at eta = 1200: Sinkhorn's rate shrinks ~13 % per 5 iterations (no tolerance in
    sight in the rule's model), so auto switches at iteration 20 and reaches 1e-9 in a few dozen
    iterations where Sinkhorn has not reached 1e-8 after 2,000."""
    rng = np.random.default_rng(0)
    n = 200
    a = np.full(n, 1.0 / n)
    C = rng.random((n, n))
    auto = sinkhorn_newton_sparse(a, a, C, 1.0 / 1200, tol=1e-9, n_sinkhorn="auto")
    assert auto.converged and auto.marginal_error < 1e-9 and auto.switched
    assert auto.stages[0] == ("sinkhorn", 20) and auto.stages[1][0] == "newton"
    assert auto.n_iter < 100 and auto.n_iter == auto.n_sinkhorn + auto.n_newton
    assert auto.n_iter == sum(k for _, k in auto.stages) == auto.history["iteration"][-1]
    slow = sinkhorn(a, a, C, 1.0 / 1200, tol=1e-9, max_iter=2000)
    assert not slow.converged and slow.marginal_error > 1e-8


def test_sns_auto_hands_back_on_w1():
    """W1 on a grid: Sinkhorn's rate is erratic (no switch until it steadies); where Newton is tried and
    does not pay, Sinkhorn takes over, and either way the plan is Sinkhorn's to the tolerance."""
    side = 10
    g = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)
    mu, nu = np.exp(-((g - 2.0) ** 2).sum(1) / 8) + 0.01, np.exp(-((g - 7.0) ** 2).sum(1) / 4) + 0.01
    G = grid_cost((side, side), p=1)
    mu, nu, G = mu / mu.sum(), nu / nu.sum(), G / G.max()
    plain = sinkhorn(mu, nu, G, 1.0 / 1200, tol=1e-9, max_iter=50_000)
    auto = sinkhorn_newton_sparse(mu, nu, G, 1.0 / 1200, tol=1e-9, n_sinkhorn="auto", max_iter=50_000)
    assert plain.converged and auto.converged
    assert auto.stages[0][0] == "sinkhorn" and auto.stages[0][1] >= 40  # erratic rate: no early switch
    # after a hand-back Sinkhorn restarts from the potentials at the switch: its count is plain's plus the
    # Newton steps tried and up to one checkpoint period (10) of overshoot per Sinkhorn stage
    assert auto.n_iter <= plain.n_iter + auto.n_newton + 10 * sum(s == "sinkhorn" for s, _ in auto.stages)
    assert auto.fell_back == ("Sinkhorn took over" in auto.message)
    # both plans are within the marginal tolerance 1e-9 of the same optimum (strongly concave dual)
    np.testing.assert_allclose(auto.plan, plain.plan, atol=1e-9)


def test_sns_auto_rule_predictions():
    """The rule's arithmetic: a steady rate predicts log(e / tol) / lam iterations, a rate shrinking by q
    per window either a finite count from the geometric sum or never; hand-back on a NaN or a blow-up."""
    from csbox.ot.sinkhorn import _Switch

    sw = _Switch(1e-9)
    sw.w = 5
    sw.model = (0.1, 1.0, 1e-3)  # lam, q, seconds per iteration
    assert sw.sinkhorn_seconds(1e-9 * np.exp(10.0)) == pytest.approx(100 * 1e-3)
    assert sw.sinkhorn_seconds(1e-10) == 0.0
    sw.model = (0.1, 0.8, 1e-3)  # at most 0.5 * 0.8 / 0.2 = 2 in log: never reaches exp(10) tol
    assert sw.sinkhorn_seconds(1e-9 * np.exp(10.0)) == np.inf
    # log(e/tol) = 1 < 2: j windows with 0.5 (0.8 + ... + 0.8^j) = 1, 1 - 0.8^j = 0.5
    assert sw.sinkhorn_seconds(1e-9 * np.e) == pytest.approx(np.log(0.5) / np.log(0.8) * 5e-3)
    sw.budget, sw.t_newton = 1.0, 0.01
    assert not sw.newton_pays(1, [1e-3, np.nan], 0.01, [False])
    assert not sw.newton_pays(2, [1e-3, 1e-2, 0.2], 0.02, [False, False])  # 200x the error at the switch
    assert sw.newton_pays(2, [1e-3, 1e-2, 1e-4], 0.02, [False, False])  # superlinear phase
    # the error above its value at the switch and CG cut by its time limit twice: hand back
    assert not sw.newton_pays(2, [1e-3, 2e-3, 2e-3], 0.02, [True, True])
    assert sw.newton_pays(2, [1e-3, 2e-3, 2e-3], 0.02, [False, True])


def test_sns_auto_plan_matches_pot():
    """Both auto paths (stays Sinkhorn; switches to Newton) return the entropic optimum.

    Stays Sinkhorn (clouds, eta = 100): against POT's log-domain Sinkhorn. With marginal error e
    the plan is the exact entropic plan of marginals within e (l1), and P = exp((f + g - C)/reg)
    moves by at most ~e in each entry: atol 1e-10 at tol 1e-11.
    Switches (clouds, eta = 1200, n = 150): POT's log-domain reference needs ~10 s here, so the
    oracle is Sinkhorn's theorem instead: the entropic plan is the unique diagonal scaling
    diag(e^{f/reg}) K diag(e^{g/reg}) of K = exp(-C/reg) with marginals a and b. P is rebuilt from
    the returned potentials and its marginals are summed here, independently of the solver.
    """
    n, reg = 300, 1.0 / 100
    a = np.full(n, 1.0 / n)
    C = _clouds(n, seed=n)[1]
    ref = ot.sinkhorn(a, a, C, reg, method="sinkhorn_log", stopThr=1e-13, numItermax=500_000)
    res = sinkhorn_newton_sparse(a, a, C, reg, tol=1e-11, n_sinkhorn="auto", max_iter=500_000)
    assert res.converged and not res.switched
    np.testing.assert_allclose(res.plan, ref, atol=1e-10, rtol=0)

    n, reg = 150, 1.0 / 1200
    a = np.full(n, 1.0 / n)
    C = _clouds(n, seed=n)[1]
    res = sinkhorn_newton_sparse(a, a, C, reg, tol=1e-11, n_sinkhorn="auto", max_iter=500_000)
    assert res.converged and res.switched
    P = np.exp((res.f[:, None] + res.g[None, :] - C) / reg)
    np.testing.assert_allclose(res.plan, P, rtol=1e-12, atol=1e-300)
    assert np.abs(P.sum(axis=1) - a).sum() + np.abs(P.sum(axis=0) - a).sum() < 1e-11


def test_sns_auto_nan_and_overflow():
    """NaN in the problem is refused; at eta = 20000 auto neither overflows nor returns NaN as converged."""
    a, b, C = _problem(60, seed=13)
    Cn = C.copy()
    Cn[0, 0] = np.inf
    with pytest.raises(ValueError, match="C contains"):
        sinkhorn_newton_sparse(a, b, Cn, 0.01, n_sinkhorn="auto")
    res = sinkhorn_newton_sparse(a, b, C, 5e-5, tol=1e-9, n_sinkhorn="auto", max_iter=400)
    assert np.all(np.isfinite(res.plan)) and np.isfinite(res.marginal_error)
    assert res.converged == (res.marginal_error < 1e-9)
    assert res.n_iter == res.n_sinkhorn + res.n_newton <= 400


def test_sinkhorn_never_overflows_at_tiny_reg():
    """eta = 20000 on costs in [0, 1]: exp(-C / reg) underflows, the stabilised iterations do not."""
    a, b, C = _problem(80, seed=12)
    res = sinkhorn(a, b, C, 5e-5, tol=0.0, max_iter=300)
    assert res.stop_reason == "max_iter" and np.all(np.isfinite(res.plan)) and np.isfinite(res.marginal_error)
    assert np.all(np.isfinite(res.f)) and res.marginal_error < 1.0
