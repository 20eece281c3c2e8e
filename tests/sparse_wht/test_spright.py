"""SPRIGHT: exact noiseless recovery, robustness to noise, dense-WHT agreement, query counts, errors."""

import math

import numpy as np
import pytest

from csbox.operators import Hadamard, parity
from csbox.sparse_wht import SparseSpectrum, SpectrumResult, spright


def _signal(n, K, seed, snr_db=None):
    rng = np.random.default_rng(seed)
    N = 2**n
    supp = np.sort(rng.choice(N, K, replace=False))
    vals = rng.choice([-1, 1], K) * (1 + rng.random(K))
    X = np.zeros(N)
    X[supp] = vals
    x = Hadamard(N) @ X
    var = None
    if snr_db is not None:
        var = float(np.mean(x**2) / 10 ** (snr_db / 10))
        x = x + np.sqrt(var) * rng.standard_normal(N)
    return x, supp, vals, var


def test_noiseless_exact_n18_k20_30_seeds():
    for seed in range(30):
        x, supp, vals, _ = _signal(18, 20, seed)
        res = spright(x, 18, 20, delays="noiseless", seed=seed)
        assert res.converged and res.stop_reason == "peeled"
        np.testing.assert_array_equal(res.support, supp)
        np.testing.assert_allclose(res.values, vals, atol=1e-9)


def test_bch_code_corrects_t_errors():
    from csbox.sparse_wht._bch import BCH

    rng = np.random.default_rng(0)
    for n, t in ((14, 2), (18, 3), (40, 3)):
        code = BCH(n, t)
        for _ in range(50):
            info = rng.integers(0, 2, n)
            word = np.concatenate([info, (code.parity_matrix @ info) % 2])
            err = rng.choice(word.size, int(rng.integers(0, t + 1)), replace=False)
            word[err] ^= 1
            np.testing.assert_array_equal(code.decode(word), info)


def test_bch_delays_robust_with_fewer_samples():
    hits, samples, robust_samples = 0, [], []
    for seed in range(30):
        x, supp, _, sd = _signal(14, 10, seed, snr_db=30)
        res = spright(x, 14, 10, noise_var=sd, delays="bch", n_chains=1, bch_t=2, seed=seed)
        hits += np.array_equal(res.support, supp)
        samples.append(res.n_samples)
        robust_samples.append(spright(x, 14, 10, noise_var=sd, delays="robust", seed=seed).n_samples)
    assert hits >= 29
    assert np.mean(samples) < 0.6 * np.mean(robust_samples)


def test_robust_n14_k10_snr30():
    hits = 0
    for seed in range(30):
        x, supp, _, sd = _signal(14, 10, seed, snr_db=30)
        res = spright(x, 14, 10, noise_var=sd, delays="robust", seed=seed)
        hits += np.array_equal(res.support, supp)
    assert hits >= 29  # >= 95 % of 30 seeds


@pytest.mark.parametrize("n", [12, 14, 16])
def test_agrees_with_dense_hadamard(n):
    x, _supp, _vals, _ = _signal(n, 12, n)
    dense = Hadamard(2**n) @ x
    res = spright(x, n, 12, delays="noiseless")
    assert isinstance(res, SpectrumResult) and isinstance(res.x, SparseSpectrum)
    np.testing.assert_array_equal(res.x.support, res.support)
    np.testing.assert_allclose(res.x.todense(), dense, atol=1e-9)


def test_queries_counted_exactly_and_bounded():
    n, K = 20, 16
    rng = np.random.default_rng(1)
    supp = rng.choice(2**n, K, replace=False)
    vals = rng.standard_normal(K) + 2 * np.sign(rng.standard_normal(K))
    asked: set[int] = set()

    def sig(idx):
        asked.update(int(i) for i in idx)
        p = parity(np.bitwise_and(idx[:, None], supp[None, :]))
        return ((1 - 2 * p) * vals).sum(1) / math.sqrt(2.0**n)

    for delays, c in (("noiseless", 6), ("robust", 30)):
        asked.clear()
        res = spright(sig, n, K, delays=delays, noise_var=1e-18 if delays == "robust" else None)
        assert res.converged
        assert res.n_samples == len(asked)
        assert res.n_samples <= c * K * n  # c = 2 C R, see the docstring


def test_unknown_k_grows_bins_and_huge_n():
    n, K = 40, 25
    rng = np.random.default_rng(2)
    supp = np.sort(rng.choice(2**n, K, replace=False))
    vals = 1 + rng.random(K)

    def sig(idx):
        p = parity(np.bitwise_and(idx[:, None], supp[None, :]))
        return ((1 - 2 * p) * vals).sum(1) / math.sqrt(2.0**n)

    res = spright(sig, n, delays="noiseless")
    assert res.converged and np.array_equal(res.support, supp)
    np.testing.assert_allclose(res.values, vals, atol=1e-9)


def test_failed_peeling_is_reported():
    x, _supp, _, _ = _signal(12, 200, 0)
    res = spright(x, 12, bins=16, delays="noiseless")
    assert not res.converged and res.stop_reason == "peeling_failed"


def test_bad_input():
    with pytest.raises(ValueError, match="length 2\\*\\*log2_n"):
        spright(np.ones(1000), 10)
    with pytest.raises(ValueError, match="n_nonzero must be <= 16"):
        spright(np.ones(16), 4, 17)
    with pytest.raises(TypeError, match="log2_n must be an int"):
        spright(np.ones(16), 4.0)
    with pytest.raises(ValueError, match="one value per index"):
        spright(lambda idx: np.ones(3), 10, 4)
    with pytest.raises(ValueError, match="NaN"):
        spright(lambda idx: np.full(idx.shape, np.nan), 10, 4)
    with pytest.raises(ValueError, match="bins must be a power of two"):
        spright(np.ones(64), 6, bins=12)
    with pytest.raises(ValueError, match="delays must be one of"):
        spright(np.ones(64), 6, 2, delays="reed-solomon")
    with pytest.raises(ValueError, match="noise_var must be >= 0"):
        spright(np.ones(64), 6, 2, noise_var=-1.0)
    with pytest.raises(ValueError, match=r"spright observations .* needs"):
        spright(lambda idx: np.zeros(idx.shape), 40, bins=2**40)


def test_bch_decoding_vectorised_equals_per_word():
    from csbox.sparse_wht._bch import BCH

    rng = np.random.default_rng(5)
    code = BCH(20, 3)
    info = rng.integers(0, 2, (20, 200))
    words = np.concatenate([info, (code.parity_matrix @ info) % 2])
    n_err = rng.integers(0, 6, 200)
    for j, e in enumerate(n_err):
        words[rng.choice(words.shape[0], e, replace=False), j] ^= 1
    got, ok = code.decode_many(words)
    for j in range(200):
        ref = code.decode(words[:, j])
        assert (ref is None) == (not ok[j])
        if ref is not None:
            np.testing.assert_array_equal(got[:, j], ref)
    assert ok[n_err <= 3].all() and np.array_equal(got[:, n_err <= 3], info[:, n_err <= 3])


def test_non_sparse_huge_n_stops_on_budget():
    """Issue 14: a dense spectrum at N = 2^40 without n_nonzero stops on the sample budget, not a hang."""
    rng = np.random.default_rng(0)
    table = rng.standard_normal(2**16)

    def dense(idx):  # pseudo-random values: every Walsh coefficient is non-zero
        return table[(idx ^ (idx >> 16) ^ (idx >> 32)) & 0xFFFF]

    res = spright(dense, 40, delays="noiseless", max_samples=2**17)
    assert res.stop_reason == "budget" and not res.converged
    assert res.n_samples <= 2**17 and "max_samples" in res.message


def test_contract_callback_sees_the_spectrum():
    x, supp, _vals, _ = _signal(14, 12, 3)
    seen = []
    res = spright(x, 14, 12, delays="noiseless", callback=lambda s: seen.append(s.x))
    assert res.converged and len(seen) == res.n_iter
    assert all(isinstance(v, SparseSpectrum) and v.support.size == v.size for v in seen)
    np.testing.assert_array_equal(seen[-1].support, supp)
    one = spright(x, 14, bins=2, delays="noiseless", max_iter=1)
    assert one.n_iter == 1 and not one.converged
