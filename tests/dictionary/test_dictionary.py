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
    H = m.transform(Y[:5], method="hard", alpha=0.5)
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
    with pytest.raises(ValueError, match="exceeds the signal dimension"):
        OnlineOrthogonalDictionary(30).partial_fit(Y)
    bad = Y.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="Y contains NaN"):
        OnlineOrthogonalDictionary(20).partial_fit(bad)
    m = OnlineOrthogonalDictionary(20).partial_fit(Y)
    with pytest.raises(ValueError, match="has 19 features, expected 20"):
        m.partial_fit(Y[:, :19])
    with pytest.raises(ValueError, match="p must be > 2"):
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
    with pytest.raises(ValueError, match="p must be a number > 2"):
        orthogonal_dictionary_learning(Y, p=2)
    with pytest.raises(ValueError, match="p must be"):
        orthogonal_dictionary_learning(Y, p=1.5)


def test_msp_result_tolerance_is_on_the_dictionary():
    from csbox.dictionary import DictionaryResult

    _D0, Y = _data(n=8, T=400)
    res = orthogonal_dictionary_learning(Y, max_iter=200, tol=1e-10, seed=1)
    assert isinstance(res, DictionaryResult)
    assert res.converged and res.stop_reason == "tol" and res.n_iter < 200
    assert res.history["rel_change"][-1] < 1e-10
    assert res.objective == pytest.approx(res.history["objective"][-1])
    assert res.n_samples_seen == 400 and res.gap_history == []
    np.testing.assert_allclose(res.x.T @ res.x, np.eye(8), atol=1e-10)
    # warm start at the answer: done after one step
    warm = orthogonal_dictionary_learning(Y, x0=res.x, max_iter=200, tol=1e-8)
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


# scikit-learn checks that cannot apply to OnlineOrthogonalDictionary, and why.
_N_COMPONENTS = "sklearn's checks set n_components=1; a complete orthogonal dictionary has n_features atoms"
_ARRAY_API = "csbox takes real floating arrays of any array-API namespace as given and never converts them"
_SKLEARN_NOT_APPLICABLE = {
    "check_dont_overwrite_parameters": _N_COMPONENTS,
    "check_methods_sample_order_invariance": _N_COMPONENTS,
    "check_methods_subset_invariance": _N_COMPONENTS,
    "check_fit2d_1sample": _N_COMPONENTS,
    "check_fit2d_predict1d": _N_COMPONENTS,
    "check_estimators_dtypes": _ARRAY_API + " (integer input is refused, not cast)",
    "check_complex_data": _ARRAY_API + " (complex input is refused with a TypeError)",
    "check_dtype_object": _ARRAY_API + " (object arrays are refused)",
    "check_estimator_sparse_tag": _ARRAY_API + " (scipy.sparse is not an array-API array)",
    "check_estimator_sparse_array": _ARRAY_API + " (scipy.sparse is not an array-API array)",
    "check_estimator_sparse_matrix": _ARRAY_API + " (scipy.sparse is not an array-API array)",
    "check_transformer_data_not_an_array": _ARRAY_API + " (list-like wrappers are refused)",
    "check_n_features_in_after_fitting": "csbox's message ('has 3 features, expected 4') is not sklearn's",
    "check_estimators_empty_data_messages": "csbox's message ('Y is empty (shape ...)') is not sklearn's",
}


def test_sklearn_estimator_api():
    """get_params/set_params/clone without importing sklearn in csbox; check_estimator where it applies."""
    import warnings

    from sklearn.base import clone
    from sklearn.utils.estimator_checks import check_estimator

    m = OnlineOrthogonalDictionary(8, p=4.0, batch_size=10)
    assert m.get_params()["p"] == 4.0 and m.get_params()["n_components"] == 8
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "dictionary_")
    assert m.set_params(batch_size=5) is m and m.batch_size == 5
    with pytest.raises(ValueError, match="invalid parameter"):
        m.set_params(alpha=1.0)
    _D0, Y = _data(n=8, T=200)
    X = OnlineOrthogonalDictionary(batch_size=20).fit_transform(Y, n_nonzero=2)
    assert X.shape == (200, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(OnlineOrthogonalDictionary(), expected_failed_checks=_SKLEARN_NOT_APPLICABLE)
