"""Online Frank-Wolfe orthogonal dictionary learning: recovery, streaming equivalence, FW step, errors."""

import numpy as np
import pytest

from csbox.backend import to_numpy
from csbox.dictionary import (
    OnlineOrthogonalDictionary,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    polar,
    sparse_code,
)


def _data(n=20, T=6000, theta=0.3, seed=0):
    rng = np.random.default_rng(seed)
    D0, _ = np.linalg.qr(rng.standard_normal((n, n)))
    X = rng.standard_normal((T, n)) * (rng.random((T, n)) < theta)
    return D0, X @ D0.T


def test_synthetic_recovery():
    """n = 20, theta = 0.3: recovery >= 0.95 after 6000 samples streamed in batches of 20."""
    D0, Y = _data()
    m = OnlineOrthogonalDictionary(20, p=3, batch_size=20, seed=1)
    for i in range(0, len(Y), 20):
        m.partial_fit(Y[i : i + 20])
    assert m.n_samples_seen_ == 6000 and m.n_steps_ == 300
    assert dictionary_recovery(D0, m.dictionary_) >= 0.95
    batch = orthogonal_dictionary_learning(Y, max_iter=100, seed=1)
    assert dictionary_recovery(D0, batch.x) >= 0.98


def test_partial_fit_in_chunks_equals_fit_and_state_is_constant():
    _D0, Y = _data(T=1000)
    a = OnlineOrthogonalDictionary(20, batch_size=25, seed=3)
    for i in range(0, 1000, 25):
        a.partial_fit(Y[i : i + 25])
        state = sum(v.nbytes for v in (a.dictionary_, a._G))
        assert state == 2 * 20 * 20 * 8  # O(n^2) whatever the samples seen
    b = OnlineOrthogonalDictionary(20, batch_size=25, seed=3)
    b._init(Y)
    for i in range(0, 1000, 25):
        b.partial_fit(Y[i : i + 25])
    np.testing.assert_allclose(a.dictionary_, b.dictionary_, atol=1e-14)
    np.testing.assert_allclose(a.gap_history_, b.gap_history_, atol=1e-12)


def test_iterate_in_ball_and_linear_step_is_exact():
    _D0, Y = _data(T=2000)
    m = OnlineOrthogonalDictionary(20, batch_size=50)
    rng = np.random.default_rng(4)
    for i in range(0, 2000, 50):
        m.partial_fit(Y[i : i + 50])
        assert np.linalg.norm(m.dictionary_, 2) <= 1 + 1e-12
    G = rng.standard_normal((20, 20))
    S = polar(G)
    # <G, S> equals the nuclear norm of G, the maximum over the spectral-norm ball
    assert np.sum(G * S) == pytest.approx(np.linalg.svd(G, compute_uv=False).sum(), rel=1e-12)
    for _ in range(200):
        Z = rng.standard_normal((20, 20))
        Z /= np.linalg.norm(Z, 2)
        assert np.sum(G * Z) <= np.sum(G * S) + 1e-12
    assert all(g >= -1e-12 for g in m.gap_history_)  # FW gap of a maximisation is non-negative


def test_transform_and_inverse():
    _D0, Y = _data(T=500)
    m = OnlineOrthogonalDictionary(20, batch_size=50, project=True).fit(Y)
    X = m.transform(Y[:10], n_nonzero=3)
    assert X.shape == (10, 20) and np.all((X != 0).sum(1) <= 3)
    # OMP with an orthogonal dictionary keeps the 3 largest |D^T y|
    C = Y[:10] @ m.dictionary_
    top = np.argsort(-np.abs(C), axis=1)[:, :3]
    np.testing.assert_array_equal(np.sort(np.nonzero(X)[1].reshape(10, 3), 1), np.sort(top, 1))
    np.testing.assert_allclose(m.inverse_transform(m.transform(Y[:5], n_nonzero=20)), Y[:5], atol=1e-10)
    H = m.transform(Y[:5], method="hard", lam=0.5)
    assert np.all((np.abs(H) > 0.5) | (H == 0))


def test_general_omp_matches_reference():
    rng = np.random.default_rng(5)
    D = rng.standard_normal((16, 24))
    D /= np.linalg.norm(D, axis=0)
    Y = rng.standard_normal((6, 16))
    X = sparse_code(D, Y, n_nonzero=4)
    from sklearn.linear_model import orthogonal_mp

    ref = orthogonal_mp(D, Y.T, n_nonzero_coefs=4).T
    np.testing.assert_allclose(X, ref, atol=1e-10)


def test_backends(backend):
    _D0, Y = _data(n=12, T=600)
    ref = OnlineOrthogonalDictionary(12, batch_size=30, seed=2)
    res = OnlineOrthogonalDictionary(12, batch_size=30, seed=2)
    Yb = backend.asarray(Y)
    for i in range(0, 600, 30):
        ref.partial_fit(Y[i : i + 30])
        res.partial_fit(Yb[i : i + 30, ...])
    tol = 1e-3 if backend.single else 1e-9
    np.testing.assert_allclose(to_numpy(res.dictionary_), ref.dictionary_, atol=tol)


def test_bad_input():
    _D0, Y = _data(T=100)
    with pytest.raises(ValueError, match="exceeds the number of features 20"):
        OnlineOrthogonalDictionary(30).partial_fit(Y)
    bad = Y.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        OnlineOrthogonalDictionary(20).partial_fit(bad)
    m = OnlineOrthogonalDictionary(20).partial_fit(Y)
    with pytest.raises(ValueError, match="X has 19 features, but OnlineOrthogonalDictionary is expecting 20"):
        m.partial_fit(Y[:, :19])
    with pytest.raises(ValueError, match="p must be a finite number > 2"):
        OnlineOrthogonalDictionary(20, p=2).partial_fit(Y)
    with pytest.raises(ValueError, match="not fitted"):
        OnlineOrthogonalDictionary(20).transform(Y)


def test_online_rejects_zero_epochs():
    Y = np.random.default_rng(0).standard_normal((50, 4))
    with pytest.raises(ValueError, match="n_epochs"):
        OnlineOrthogonalDictionary(4, n_epochs=0).fit(Y)


def test_msp_rejects_p_two_instead_of_a_flat_converged_run():
    """For p = 2, ||Y D||_F^2 = ||Y||_F^2 for every orthogonal D: the run would 'converge' at once."""
    _D0, Y = _data(n=8, T=200)
    with pytest.raises(ValueError, match="p must be a finite number > 2"):
        orthogonal_dictionary_learning(Y, p=2)
    with pytest.raises(ValueError, match="p must be"):
        orthogonal_dictionary_learning(Y, p=1.5)


def test_msp_result_tolerance_is_on_the_dictionary():
    from csbox.dictionary import DictionaryResult

    _D0, Y = _data(n=8, T=400)
    res = orthogonal_dictionary_learning(Y, max_iter=200, tol=1e-10, seed=1)
    assert isinstance(res, DictionaryResult)
    # check_every defaults to 10 (a step stays on the device): the stop lands on a checkpoint
    assert res.converged and res.stop_reason == "tol" and res.n_iter < 200 and res.n_iter % 10 == 0
    assert res.history["rel_change"][-1] < 1e-10
    assert res.objective == pytest.approx(res.history["objective"][-1])
    assert res.n_samples_seen == 400 and res.gap_history == []
    np.testing.assert_allclose(res.x.T @ res.x, np.eye(8), atol=1e-10)
    # warm start at the answer: done after one step
    warm = orthogonal_dictionary_learning(Y, x0=res.x, max_iter=200, tol=1e-8, check_every=1)
    assert warm.converged and warm.n_iter <= 2
    with pytest.raises(ValueError, match="x0 must be an"):
        orthogonal_dictionary_learning(Y, x0=np.eye(7))


def test_online_fit_runs_on_the_solver_loop():
    from csbox.dictionary import DictionaryResult

    _D0, Y = _data(n=8, T=400)
    seen = []
    m = OnlineOrthogonalDictionary(8, batch_size=20, n_epochs=2, check_every=5, callback=seen.append)
    m.fit(Y)
    res = m.result_
    assert isinstance(res, DictionaryResult)
    assert (res.n_iter, res.stop_reason, res.converged) == (40, "max_iter", False)
    assert m.n_steps_ == 40 and len(res.gap_history) == 40 and res.n_samples_seen == 800
    assert [s.iteration for s in seen] == list(range(5, 41, 5))
    assert all(s.x.shape == (8, 8) for s in seen) and res.x is m.dictionary_
    # the same steps as partial_fit on the same batches
    ref = OnlineOrthogonalDictionary(8, batch_size=20, n_epochs=2)
    ref._init(Y)
    for batch in ref._batches(Y):
        ref._step(batch)
    np.testing.assert_allclose(m.dictionary_, ref.dictionary_, atol=1e-14)
    # max_iter caps the steps; tol stops on the dictionary's relative change
    short = OnlineOrthogonalDictionary(8, batch_size=20, max_iter=7).fit(Y)
    assert short.n_steps_ == 7 and short.result_.stop_reason == "max_iter"
    loose = OnlineOrthogonalDictionary(8, batch_size=20, tol=0.5, check_every=1).fit(Y)
    assert loose.result_.converged and loose.result_.stop_reason == "tol"
    assert loose.result_.history["rel_change"][-1] < 0.5


# ----------------------------------------------------------------------------- scikit-learn's protocol
def _check_estimator(est):
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_estimator(est, on_fail=None)


@pytest.mark.parametrize("n_components", [None, 1])
def test_sklearn_check_estimator_passes(n_components):
    """Every check of sklearn.utils.estimator_checks passes (none expected to fail, none xfailed).

    check_array_api_input is skipped by scikit-learn unless SCIPY_ARRAY_API=1 is set before SciPy is
    imported; test_sklearn_check_estimator_array_api runs it in a subprocess.
    """
    results = _check_estimator(OnlineOrthogonalDictionary(n_components))
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not bad
    assert len(results) >= 45
    assert {r["check_name"] for r in results if r["status"] == "skipped"} <= {"check_array_api_input"}


def test_sklearn_check_estimator_array_api():
    import os
    import subprocess
    import sys

    code = (
        "import warnings\n"
        "from sklearn.utils.estimator_checks import check_estimator\n"
        "from csbox.dictionary import OnlineOrthogonalDictionary\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    res = check_estimator(OnlineOrthogonalDictionary(), on_fail=None)\n"
        "r = [r for r in res if r['check_name'] == 'check_array_api_input']\n"
        "print(r[0]['status'], len([x for x in res if x['status'] != 'passed']))\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["passed", "0"]


def test_sklearn_more_atoms_than_features_is_the_only_failure():
    """OnlineOrthogonalDictionary(8) on the checks' 2- to 5-feature data: 8 orthonormal atoms need at
    least 8 features, so fitting them is refused; every failing check fails by that refusal only."""
    results = _check_estimator(OnlineOrthogonalDictionary(8))
    failed = [r for r in results if r["status"] == "failed"]
    assert failed  # the checks use fewer than 8 features
    for r in failed:
        msgs = [str(r["exception"]), str(getattr(r["exception"], "__cause__", ""))]
        assert any("n_components = 8 exceeds the number of features" in m for m in msgs), r["check_name"]


def test_sklearn_clone_pipeline_and_grid_search():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    m = OnlineOrthogonalDictionary(8, p=4.0, batch_size=10, coding={"n_nonzero": 2})
    assert m.get_params()["p"] == 4.0 and m.get_params()["n_components"] == 8
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "dictionary_")
    assert m.set_params(batch_size=5) is m and m.batch_size == 5
    with pytest.raises(ValueError, match="invalid parameter"):
        m.set_params(alpha=1.0)
    fitted = clone(m).fit(_data(n=8, T=200)[1])
    assert clone(fitted).get_params() == fitted.get_params() and not hasattr(clone(fitted), "dictionary_")
    # signals sparse in an orthogonal basis D0, labelled by whether atom 0 is active: |codes| in the
    # learnt basis (D0 up to a signed permutation) show it, the raw |signals| only partly
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.default_rng(1)
    D0, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    S = rng.standard_normal((900, 8)) * (rng.random((900, 8)) < 0.3)
    X, y = S @ D0.T, (S[:, 0] != 0).astype(int)
    pipe = Pipeline([("dict", OnlineOrthogonalDictionary(batch_size=20, n_epochs=3, coding={"n_nonzero": 8})),
                     ("abs", FunctionTransformer(np.abs)), ("clf", LogisticRegression(max_iter=1000))])
    grid = GridSearchCV(pipe, {"dict__p": [3.0, 4.0], "dict__batch_size": [20, 50]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"dict__p", "dict__batch_size"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    # measured: 0.93 (best of the grid) against 0.82 for LogisticRegression on |X| itself
    raw = LogisticRegression(max_iter=1000).fit(np.abs(X), y).score(np.abs(X), y)
    assert grid.best_score_ > 0.88 and grid.best_score_ > raw + 0.05
    learnt = grid.best_estimator_.named_steps["dict"]
    assert learnt.dictionary_.shape == (8, 8) and learnt.n_features_in_ == 8
    assert grid.predict(X[:5]).shape == (5,)


def test_csbox_does_not_import_sklearn():
    import subprocess
    import sys

    code = "import sys, csbox.dictionary, csbox.sbl, csbox.sparse_wht; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_fewer_atoms_than_features():
    """n_components = k < n: orthonormal columns (the Stiefel extreme points of the ball)."""
    _D0, Y = _data(n=12, T=600)
    m = OnlineOrthogonalDictionary(5, batch_size=30, n_epochs=2, project=True).fit(Y)
    assert m.dictionary_.shape == (12, 5) and m.components_.shape == (5, 12) and m.n_components_ == 5
    np.testing.assert_allclose(m.dictionary_.T @ m.dictionary_, np.eye(5), atol=1e-10)
    X = m.transform(Y[:7], n_nonzero=2)
    assert X.shape == (7, 5) and np.all((X != 0).sum(1) <= 2)
    assert m.inverse_transform(X).shape == (7, 12)
    with pytest.raises(ValueError, match=r"X has 4 features, but .* is expecting 5"):
        m.inverse_transform(np.ones((2, 4)))
    r = OnlineOrthogonalDictionary(np.int64(5), batch_size=np.int64(30)).fit(Y)  # NumPy integers are sizes
    ref = OnlineOrthogonalDictionary(5, batch_size=30).fit(Y)
    np.testing.assert_array_equal(r.dictionary_, ref.dictionary_)


def test_array_likes_are_accepted_like_sklearn():
    _D0, Y = _data(n=6, T=120)
    a = OnlineOrthogonalDictionary(batch_size=20).fit(Y)
    b = OnlineOrthogonalDictionary(batch_size=20).fit(Y.tolist())
    np.testing.assert_array_equal(a.dictionary_, b.dictionary_)
    np.testing.assert_array_equal(a.transform(Y[:3]), b.transform(Y[:3].tolist()))
    ints = OnlineOrthogonalDictionary(batch_size=20).fit(np.round(10 * Y).astype(np.int32))
    assert ints.dictionary_.dtype == np.float64
    with pytest.raises(ValueError, match="Complex data not supported"):
        OnlineOrthogonalDictionary().fit(Y + 1j)
    with pytest.raises(TypeError, match="sparse input is not supported"):
        import scipy.sparse

        OnlineOrthogonalDictionary().fit(scipy.sparse.csr_array(Y))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        OnlineOrthogonalDictionary().fit(np.ones((5, 0)))


# ----------------------------------------------------------------------------- silent inputs (issue 28)
def test_hyper_parameters_are_checked_when_fit_starts():
    _D0, Y = _data(n=6, T=60)
    cases = [
        ({"p": float("inf")}, ValueError, "p must be a finite number > 2"),
        ({"p": float("nan")}, ValueError, "p must be"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"n_epochs": 1.0}, TypeError, "n_epochs must be an int"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"max_iter": -1}, ValueError, "max_iter must be >= 0"),
        ({"tol": -1.0}, ValueError, "tol must be"),
        ({"check_every": 0}, ValueError, "check_every must be >= 1"),
        ({"project": "yes"}, TypeError, "project must be a bool"),
        ({"coding": {"alpha": 0.1}}, ValueError, "coding must be a dict with keys among"),
        ({"step_schedule": lambda t: 1.0}, TypeError, "step_schedule must be a pair of callables"),
        ({"step_schedule": (lambda t: 1.0, lambda t: 2.0)}, ValueError, r"gamma\(t\) must be <= 1"),
        ({"step_schedule": (lambda t: 0.0, lambda t: 1.0)}, ValueError, r"rho\(t\) must be > 0"),
        ({"x0": 2.0 * np.eye(6)}, ValueError, "spectral norm 2 > 1"),
        ({"x0": np.eye(5)}, ValueError, r"x0 must be an \(6, 6\)"),
        ({"n_components": 2.0}, TypeError, "n_components must be an int"),
        ({"n_components": 0}, ValueError, "n_components must be >= 1"),
    ]
    for kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            OnlineOrthogonalDictionary(**kw).fit(Y)
    # nothing was read or written before the refusal: the estimator stays unfitted
    m = OnlineOrthogonalDictionary(batch_size=0)
    with pytest.raises(ValueError):
        m.fit(Y)
    assert not hasattr(m, "dictionary_")


def test_sparse_code_rules_and_inputs():
    rng = np.random.default_rng(7)
    D = np.linalg.qr(rng.standard_normal((8, 8)))[0]
    Y = rng.standard_normal((4, 8))
    with pytest.raises(ValueError, match="lam applies to method='hard' or 'soft'"):
        sparse_code(D, Y, n_nonzero=2, lam=0.1)
    with pytest.raises(ValueError, match="n_nonzero applies to method='omp'"):
        sparse_code(D, Y, method="soft", lam=0.1, n_nonzero=2)
    with pytest.raises(ValueError, match="lam must be given for method='hard'"):
        sparse_code(D, Y, method="hard")
    with pytest.raises(ValueError, match="lam must be >= 0"):
        sparse_code(D, Y, method="soft", lam=-1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'alpha'"):
        sparse_code(D, Y, method="soft", alpha=0.1)
    D0 = D.copy()
    D0[:, 3] = 0.0
    with pytest.raises(ValueError, match=r"D has a zero atom \(column 3\)"):
        sparse_code(D0, Y, n_nonzero=1)
    with pytest.raises(ValueError, match="Y is empty"):
        sparse_code(D, Y[:0], n_nonzero=1)
    with pytest.raises(TypeError, match="Y must be real"):
        sparse_code(D, Y + 1j, n_nonzero=1)
    np.testing.assert_array_equal(sparse_code(D, Y, n_nonzero=np.int64(2)), sparse_code(D, Y, n_nonzero=2))
    # soft thresholding at lam is the exact minimiser of 0.5||y - D x||^2 + lam ||x||_1 for orthogonal D
    X = sparse_code(D, Y, method="soft", lam=0.3)
    C = Y @ D
    np.testing.assert_allclose(X, np.sign(C) * np.maximum(np.abs(C) - 0.3, 0), atol=1e-14)


def test_omp_normalises_the_atoms():
    """OMP picks by |d_j^T r| / ||d_j||: scaling an atom must not change the support or the fit."""
    rng = np.random.default_rng(9)
    D = rng.standard_normal((16, 24))
    D /= np.linalg.norm(D, axis=0)
    Y = rng.standard_normal((6, 16))
    X = sparse_code(D, Y, n_nonzero=4)
    scale = rng.uniform(0.1, 10.0, 24)
    Xs = sparse_code(D * scale, Y, n_nonzero=4)
    np.testing.assert_array_equal(Xs != 0, X != 0)
    np.testing.assert_allclose(Xs * scale, X, atol=1e-10)


def test_helpers_reject_what_they_cannot_use():
    from csbox.dictionary import assemble_patches, dct_dictionary, extract_patches

    with pytest.raises(ValueError, match="G contains NaN"):
        polar(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="G must have at least 2 axes"):
        polar(np.ones(3))
    with pytest.raises(TypeError, match="ndim must be an int"):
        dct_dictionary(4, ndim=2.0)
    with pytest.raises(TypeError, match="ndim must be an int"):
        dct_dictionary(4, ndim=True)
    np.testing.assert_array_equal(dct_dictionary(np.int64(4), np.int64(1)), dct_dictionary(4, 1))
    with pytest.raises(ValueError, match="img is empty"):
        extract_patches(np.ones((0, 5)), 2)
    with pytest.raises(TypeError, match="img must be a numeric image"):
        extract_patches(np.array([["a", "b"], ["c", "d"]]), 1)
    P, pos = extract_patches(np.arange(16.0).reshape(4, 4), 2, stride=np.int64(2))
    with pytest.raises(TypeError, match="P must hold real patches"):
        assemble_patches(P + 1j, pos, (4, 4), 2)
    with pytest.raises(ValueError, match="P is empty"):
        assemble_patches(P[:0], [], (4, 4), 2)
    with pytest.raises(TypeError, match="positions row must be an int"):
        assemble_patches(P, [(0.5, 0), *pos[1:]], (4, 4), 2)
    np.testing.assert_array_equal(assemble_patches(P, pos, (4, 4), 2), np.arange(16.0).reshape(4, 4))
    with pytest.raises(ValueError, match="x0 contains NaN"):
        orthogonal_dictionary_learning(_data(n=4, T=20)[1], x0=np.full((4, 4), np.nan))
    with pytest.raises(TypeError, match="seed must be an int"):
        orthogonal_dictionary_learning(_data(n=4, T=20)[1], seed=1.5)


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_bit_identical_dictionaries():
    _D0, Y = _data(n=10, T=500)
    fits = [OnlineOrthogonalDictionary(batch_size=25, n_epochs=2, seed=4).fit(Y) for _ in range(2)]
    assert fits[0].dictionary_.tobytes() == fits[1].dictionary_.tobytes()
    assert fits[0].gap_history_ == fits[1].gap_history_
    other = OnlineOrthogonalDictionary(batch_size=25, n_epochs=2, seed=5).fit(Y)
    assert other.dictionary_.tobytes() != fits[0].dictionary_.tobytes()
    # fit twice on one estimator starts afresh: the same dictionary again
    assert fits[0].fit(Y).dictionary_.tobytes() == fits[1].dictionary_.tobytes()
    streams = []
    for _ in range(2):
        m = OnlineOrthogonalDictionary(seed=3)
        for i in range(0, 500, 50):
            m.partial_fit(Y[i : i + 50])
        streams.append(m.dictionary_.tobytes())
    assert streams[0] == streams[1]
    a, b = (orthogonal_dictionary_learning(Y, seed=2, max_iter=30) for _ in range(2))
    assert a.x.tobytes() == b.x.tobytes() and a.history["objective"] == b.history["objective"]
