"""SBL and Kronecker SBL: recovery, the E-step against brute force, the AM cost property, ARD, backends."""

import importlib
import warnings

import numpy as np
import pytest
from sklearn.linear_model import ARDRegression

from csbox.backend import to_numpy
from csbox.comms import irs_channel
from csbox.sbl import kron_omp, kron_sbl, sbl
from csbox.sbl.bayesian import _kron_estep


def _sparse_problem(m, n, k, snr_db, seed, cplx=False):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n, complex if cplx else float)
    S = rng.choice(n, k, replace=False)
    x[S] = (1 + rng.random(k)) * rng.choice([-1, 1], k)
    if cplx:
        A = A + 1j * rng.standard_normal((m, n)) / np.sqrt(m)
        x[S] = x[S] * np.exp(2j * np.pi * rng.random(k))
    y0 = A @ x
    nv = 0.0 if snr_db is None else float(np.mean(np.abs(y0) ** 2)) / 10 ** (snr_db / 10)
    noise = rng.standard_normal(m) + (1j * rng.standard_normal(m) if cplx else 0)
    return A, x, y0 + np.sqrt(nv / (2 if cplx else 1)) * noise, max(nv, 1e-10), S


@pytest.mark.parametrize("snr", [None, 30])
@pytest.mark.parametrize("cplx", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sbl_recovers_support(snr, cplx, seed):
    A, x, y, nv, S = _sparse_problem(60, 120, 8, snr, seed, cplx)
    res = sbl(A, y, noise_var=nv)
    xh = to_numpy(res.x)
    # non-zeros have |x| in [1, 2] (>= half the largest); at 30 dB SBL leaves noise-fitting
    # coefficients of a few percent of the largest: a threshold at a tenth separates the two
    S_hat = np.flatnonzero(np.abs(xh) > 0.1 * np.abs(xh).max())
    assert set(S_hat) == set(S)
    assert np.linalg.norm(xh - x) / np.linalg.norm(x) < (1e-3 if snr is None else 0.05)
    assert res.converged and res.variance.shape == x.shape


def test_sbl_learns_noise_and_matches_ard():
    """Same model as scikit-learn's ARDRegression (MacKay updates, vague Gamma hyperpriors, learned noise).

    On an overdetermined problem both converge to the same fixed point up to the
    O(1/m) difference of their noise updates: coefficients agree to 2e-3 of their scale.
    """
    rng = np.random.default_rng(2)
    m, n, k = 200, 30, 6
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, k, replace=False)] = rng.standard_normal(k) + np.sign(rng.standard_normal(k))
    y0 = A @ x
    y = y0 + np.sqrt(np.mean(y0**2) / 100) * rng.standard_normal(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ard = ARDRegression(fit_intercept=False, max_iter=1000, tol=1e-10, threshold_lambda=1e10).fit(A, y)
    for update in ("em", "mackay"):
        res = sbl(A, y, update=update, tol=1e-10, max_iter=20_000, prune=1e-12)
        np.testing.assert_allclose(res.x, ard.coef_, atol=2e-3 * np.abs(ard.coef_).max())
        assert res.noise_var == pytest.approx(1 / ard.alpha_, rel=2e-3)


@pytest.mark.parametrize("n_factors", [2, 3])
def test_kron_estep_equals_brute_force(n_factors):
    rng = np.random.default_rng(n_factors)
    shapes = [(3, 4), (2, 5), (4, 3)][:n_factors]
    mats = [rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in shapes]
    gam = [rng.random(s[1]) + 0.1 for s in shapes]
    A, g = mats[0], gam[0]
    for M, gg in zip(mats[1:], gam[1:], strict=True):
        A, g = np.kron(A, M), np.kron(g, gg)
    y = rng.standard_normal(A.shape[0]) + 1j * rng.standard_normal(A.shape[0])
    s2 = 0.3
    Sigma = np.linalg.inv(A.conj().T @ A / s2 + np.diag(1 / g))
    mu = Sigma @ A.conj().T @ y / s2
    import array_api_compat.numpy as xp

    Y = np.reshape(y, [s[0] for s in shapes])
    mu2, var2, cost, _, _ = _kron_estep(xp, mats, gam, Y, s2, np.complex128)
    np.testing.assert_allclose(mu2, mu, atol=1e-8)
    np.testing.assert_allclose(var2, np.diag(Sigma).real, atol=1e-8)
    B = s2 * np.eye(A.shape[0]) + A @ np.diag(g) @ A.conj().T
    ref_cost = np.linalg.slogdet(B)[1] + (y.conj() @ np.linalg.solve(B, y)).real
    assert float(cost) == pytest.approx(ref_cost, rel=1e-10)


def _kron_problem(seed, snr=20, Ms=(8, 12, 15), N=15):
    rng = np.random.default_rng(seed)
    F = [rng.standard_normal((m, N)) / np.sqrt(m) for m in Ms]
    X = np.zeros((N, N, N))
    X[np.ix_(*[rng.choice(N, 3, replace=False) for _ in range(3)])] = 1 + rng.random((3, 3, 3))
    y0 = np.einsum("ai,bj,ck,ijk->abc", *F, X).ravel()
    nv = float(np.mean(y0**2)) / 10 ** (snr / 10)
    return F, X.ravel(), y0 + np.sqrt(nv) * rng.standard_normal(y0.shape), nv


@pytest.mark.parametrize("method", ["svd", "am"])
def test_kron_sbl_recovers(method):
    for seed in range(3):
        F, x, y, nv = _kron_problem(seed)
        res = kron_sbl(F, y, method=method, noise_var=nv)
        assert 10 * np.log10(np.sum((res.x - x) ** 2) / np.sum(x**2)) < -25
        xh = res.x
        assert set(np.flatnonzero(np.abs(xh) > 0.1 * np.abs(xh).max())) == set(np.flatnonzero(x))


def test_am_cost_non_increasing():
    F, _, y, nv = _kron_problem(5, snr=15)
    res = kron_sbl(F, y, method="am", noise_var=nv, prune=0.0, max_iter=60, tol=0.0,
                   inner_max_iter=200, inner_tol=1e-12)
    cost = np.array(res.history["objective"])
    assert np.all(np.diff(cost) <= 1e-9 * np.abs(cost[:-1])), np.diff(cost).max()


def test_kron_sbl_learns_noise_and_pc_variant():
    F, x, y, nv = _kron_problem(7)
    res = kron_sbl(F, y, method="am", noise_var=None)
    assert res.noise_var == pytest.approx(nv, rel=0.5)
    assert np.sum((res.x - x) ** 2) / np.sum(x**2) < 10 ** (-2.0)
    ch = irs_channel(0)
    yc, nvc = ch.noisy(20, np.random.default_rng(0))
    pc = kron_sbl(ch.factors, yc, method="am", noise_var=nvc, coupling=(0.8, None, 0.8),
                  prune=(1e-2, 1e-1, 1e-2))
    assert ch.nmse(pc.x) < 10 ** (-1.5)


def test_backends_agree(backend):
    F, _x, y, nv = _kron_problem(3)
    ref = kron_sbl(F, y, method="svd", noise_var=nv)
    res = kron_sbl([backend.asarray(f) for f in F], backend.asarray(y), method="svd", noise_var=nv)
    tol = 1e-3 if backend.single else 1e-8
    np.testing.assert_allclose(to_numpy(res.x), ref.x, atol=tol * np.abs(ref.x).max())
    A, _xs, ys, nvs, _ = _sparse_problem(40, 80, 5, 30, 0)
    r1 = sbl(A, ys, noise_var=nvs)
    r2 = sbl(backend.asarray(A), backend.asarray(ys), noise_var=nvs)
    np.testing.assert_allclose(to_numpy(r2.x), r1.x, atol=tol * np.abs(r1.x).max())


def test_irs_model_is_exact():
    ch = irs_channel(3)
    y_direct = np.stack([ch.channels[k] @ ch.pilots for k in range(6)]).transpose(0, 2, 1).ravel()
    np.testing.assert_allclose(ch.y_clean, y_direct, atol=1e-10)
    assert ch.nmse(ch.x) < 1e-20 and len(ch.support) == 9
    assert [f.shape for f in ch.factors] == [(6, 18), (3, 18), (16, 18)]


def test_kron_omp():
    F, _x, y, _ = _kron_problem(1, snr=40)
    res = kron_omp(F, y, 27)
    assert len(res.support) == 27


def test_bad_input():
    F, _, y, nv = _kron_problem(0)
    with pytest.raises(ValueError, match="multiply out to 1440 rows"):
        kron_sbl(F, y[:-1], noise_var=nv)
    with pytest.raises(ValueError, match="noise_var must be a finite number > 0"):
        kron_sbl(F, y, noise_var=-1.0)
    with pytest.raises(ValueError, match="noise_var must be a finite number > 0"):
        sbl(np.ones((3, 4)), np.ones(3), noise_var=float("nan"))
    with pytest.raises(TypeError, match="factors are complex but y is real"):
        kron_sbl([F[0] + 0j, F[1], F[2]], y, noise_var=nv)
    with pytest.raises(ValueError, match="method must be"):
        kron_sbl(F, y, method="cg")
    with pytest.raises(ValueError, match="y has length 3"):
        sbl(np.ones((4, 5)), np.ones(3))
    bad = y.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        kron_sbl(F, bad, noise_var=nv)
    with pytest.raises(ValueError, match="coupling"):
        kron_sbl(F, y, method="svd", coupling=0.5, noise_var=nv)


def test_kron_inputs_validated_and_kronecker_operator_accepted():
    from csbox.operators import Kronecker

    rng = np.random.default_rng(11)
    F = [rng.standard_normal((6, 8)), rng.standard_normal((5, 7))]
    x = np.zeros(56)
    x[[3, 40]] = [1.0, -2.0]
    y = np.kron(F[0], F[1]) @ x
    a = kron_omp(F, y, 2)
    b = kron_omp(Kronecker(*F), y, 2)  # the operator's factors, same atoms
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_allclose(a.x, x, atol=1e-10)
    bad = [F[0].copy(), F[1]]
    bad[0][2, 3] = np.nan
    with pytest.raises(ValueError, match=r"factors\[0\] contains NaN"):
        kron_omp(bad, y, 2)
    with pytest.raises(ValueError, match=r"factors\[1\] has a zero column"):
        kron_omp([F[0], np.zeros((5, 7))], y, 2)
    Fi = [np.round(3 * f).astype(np.int64) for f in F]  # integers run in float64
    yi = np.kron(Fi[0], Fi[1]) @ np.round(x).astype(np.int64)
    res = kron_omp(Fi, yi, 2)
    assert res.x.dtype == np.float64 and res.converged


def test_sbl_residual_flags_an_estimate_that_leaves_signal_unexplained():
    # y = A x + n with the true noise variance: the residual of the true support is chi^2 with
    # m - k degrees of freedom, fit = 1 - k/m +- sqrt(2/m) = 0.975 +- 0.1 (m = 200, k = 5); SBL may
    # also absorb some noise (fit below that), but never leaves more than the noise: fit < 1.3.
    # Pruning at half the largest gamma (~16) keeps only the strong atom: the four dropped ones
    # (|x_j| = 1, ||a_j|| ~ 1) leave ~4 units of energy, i.e. fit ~ 1 + 4 / (m s2) = 3 (> 1.5).
    # fit is the noise-normalised residual, residual^2 ||y||^2 / (m s2).
    rng = np.random.default_rng(3)
    m, n, k, s2 = 200, 400, 5, 0.01
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, k, replace=False)] = rng.choice([-1.0, 1.0], k) * np.array([4.0, 1, 1, 1, 1])
    y = A @ x + np.sqrt(s2) * rng.standard_normal(m)
    res = sbl(A, y, noise_var=s2, max_iter=300)
    assert res.converged
    r = y - A @ res.x
    assert res.residual == pytest.approx(np.linalg.norm(r) / np.linalg.norm(y), rel=1e-12)
    def fit(res):
        return res.residual**2 * np.sum(y**2) / (m * s2)
    assert 0.0 < fit(res) < 1.3
    under = sbl(A, y, noise_var=s2, max_iter=300, prune=0.5)
    assert np.count_nonzero(to_numpy(under.x)) < k
    assert fit(under) > 1.5


def test_sbl_em_cost_rise_stops_as_diverged(monkeypatch):
    # EM never raises its cost; a rise (here injected into the posterior solve) is a breakdown
    sbl_module = importlib.import_module("csbox.sbl.bayesian")

    original = sbl_module._SBL._posterior
    calls = {"n": 0}

    def broken(self):
        mu, var, cost = original(self)
        calls["n"] += 1
        return mu, var, cost + (1e6 if calls["n"] > 3 else 0.0)

    monkeypatch.setattr(sbl_module._SBL, "_posterior", broken)
    rng = np.random.default_rng(4)
    A = rng.standard_normal((30, 60))
    y = A[:, :3] @ np.ones(3) + 0.01 * rng.standard_normal(30)
    res = sbl(A, y, noise_var=1e-4, max_iter=50, tol=None)
    assert res.stop_reason == "diverged" and not res.converged
    assert res.n_iter == 4 and "EM objective rose" in res.message
    assert res.history["objective_rose"][-1] == 1.0


# ----------------------------------------------------------------------------- one vocabulary
def test_history_and_result_share_the_contract_names():
    """objective in the history, residual = ||y - A x|| / ||y|| in the result, inner_iterations for AM."""
    A, _x, y, nv, _ = _sparse_problem(40, 80, 5, 30, 0)
    res = sbl(A, y, noise_var=nv)
    assert {"objective", "rel_change"} <= set(res.history) and "cost" not in res.history
    assert res.residual == pytest.approx(np.linalg.norm(y - A @ res.x) / np.linalg.norm(y), rel=1e-10)
    F, _, yk, nvk = _kron_problem(2)
    for method in ("svd", "am"):
        rk = kron_sbl(F, yk, method=method, noise_var=nvk, max_iter=20)
        Ak = np.kron(np.kron(F[0], F[1]), F[2])
        ref = np.linalg.norm(yk - Ak @ rk.x) / np.linalg.norm(yk)
        assert rk.residual == pytest.approx(ref, rel=1e-8) and "objective" in rk.history
        assert (len(rk.inner_iterations) == rk.n_iter) if method == "am" else rk.inner_iterations == []
    om = kron_omp(F, yk, 27)
    ref = np.linalg.norm(yk - np.kron(np.kron(F[0], F[1]), F[2]) @ om.x) / np.linalg.norm(yk)
    assert om.residual == pytest.approx(ref, rel=1e-8) and om.history["residual"][-1] == pytest.approx(ref)
    # tol bounds the relative residual: a loose one stops OMP early, by the tolerance
    early = kron_omp(F, yk, 27, tol=0.5)
    assert early.stop_reason == "tol" and early.converged and early.residual < 0.5 and early.n_iter < 27


# ----------------------------------------------------------------------------- silent inputs (issue 28)
def test_pattern_coupling_weight_has_its_range():
    """kron_sbl(method="am", coupling=-5.0) ran and reported converged; beta must lie in [0, 1]."""
    F, _, y, nv = _kron_problem(0)
    for bad in (-5.0, -1e-3, 1.5, float("nan"), (0.5, -1.0, None)):
        with pytest.raises(ValueError, match=r"coupling(\[\d\])? must be"):
            kron_sbl(F, y, method="am", coupling=bad, noise_var=nv)
    with pytest.raises(TypeError, match="coupling must be a number or a sequence"):
        kron_sbl(F, y, method="am", coupling="strong", noise_var=nv)
    with pytest.raises(ValueError, match="one entry per factor"):
        kron_sbl(F, y, method="am", coupling=(0.5, 0.5), noise_var=nv)
    # a NumPy scalar is a number like a Python float
    a = kron_sbl(F, y, method="am", coupling=np.float32(0.5), noise_var=nv, max_iter=5)
    b = kron_sbl(F, y, method="am", coupling=0.5, noise_var=nv, max_iter=5)
    np.testing.assert_array_equal(a.x, b.x)


def test_numpy_scalars_are_accepted_where_numbers_are():
    F, _, y, nv = _kron_problem(0)
    a = kron_sbl(F, y, noise_var=np.float32(nv), prune=np.float64(1e-3), max_iter=np.int64(5),
                 check_every=np.int32(1))
    b = kron_sbl(F, y, noise_var=float(np.float32(nv)), prune=1e-3, max_iter=5)
    np.testing.assert_array_equal(a.x, b.x)
    assert kron_omp(F, y, np.int64(3), max_iter=np.int64(3)).support.size == 3
    A, _x, ys, nvs, _ = _sparse_problem(40, 80, 5, 30, 0)
    assert sbl(A, ys, noise_var=np.float32(nvs), max_iter=np.int64(3)).n_iter == 3


def test_degenerate_data_fail_at_the_start():
    """All-zero y (answer x = 0: EM degenerates, kron_sbl ran to max_iter, OMP 'stalled') and zero columns."""
    F, _, y, _nv = _kron_problem(0)
    A, _x, ys, _nvs, _ = _sparse_problem(20, 40, 3, None, 0)
    for run in (lambda: sbl(A, np.zeros(20)), lambda: kron_sbl(F, np.zeros_like(y)),
                lambda: kron_omp(F, np.zeros_like(y), 2)):
        with pytest.raises(ValueError, match="y is all zero"):
            run()
    A0 = A.copy()
    A0[:, 7] = 0.0
    with pytest.raises(ValueError, match=r"A has a zero column \(7\)"):
        sbl(A0, ys)
    with pytest.raises(ValueError, match="A is empty"):
        sbl(A[:0], ys[:0])
    with pytest.raises(ValueError, match="y is empty"):
        kron_omp([np.ones((0, 3)), np.ones((2, 2))], np.ones(0), 1)
    with pytest.raises(ValueError, match="prune must be"):
        sbl(A, ys, prune=1.0)
    with pytest.raises(ValueError, match=r"prune(\[\d\])? must be"):
        kron_sbl(F, y, prune=(1e-2, -1.0, 1e-2))
    with pytest.raises(TypeError, match="noise_var must be a real number"):
        sbl(A, ys, noise_var="0.1")


def test_other_operators_are_refused_not_guessed():
    from csbox.operators import FFT, MatrixOperator

    A, _x, ys, _nvs, _ = _sparse_problem(20, 40, 3, None, 0)
    ref = sbl(A, ys, noise_var=1e-6, max_iter=30)
    np.testing.assert_array_equal(sbl(MatrixOperator(A), ys, noise_var=1e-6, max_iter=30).x, ref.x)
    with pytest.raises(TypeError, match="A must be a 2-D array or a MatrixOperator"):
        sbl(FFT((20,)), ys)
    with pytest.raises(TypeError, match="factors must be a Kronecker operator or a sequence"):
        kron_sbl(np.ones((4, 4)), np.ones(4))


# ----------------------------------------------------------------------------- determinism
def test_same_call_gives_bit_identical_results():
    """No random initialisation here, but the runs must still repeat exactly on NumPy."""
    F, _, y, _nv = _kron_problem(4)
    for method, kw in (("svd", {}), ("am", {"coupling": 0.5})):
        a, b = (kron_sbl(F, y, method=method, noise_var=None, max_iter=30, **kw) for _ in range(2))
        assert a.x.tobytes() == b.x.tobytes() and a.history["objective"] == b.history["objective"]
    A, _x, ys, _nvs, _ = _sparse_problem(40, 80, 5, 30, 0)
    a, b = sbl(A, ys), sbl(A, ys)
    assert a.x.tobytes() == b.x.tobytes() and a.noise_var == b.noise_var
    a, b = kron_omp(F, y, 10), kron_omp(F, y, 10)
    assert a.x.tobytes() == b.x.tobytes()
