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


# ----------------------------------------------------------------------------- one vocabulary
def test_residual_is_relative_and_tol_bounds_it():
    x, _, _, var = _signal(14, 10, 0, snr_db=30)
    res = spright(x, 14, 10, noise_var=var, seed=0)
    # what is left of the observations is the noise: ||U - U(x)||^2 / ||U||^2 = 1 / (1 + SNR), so the
    # residual is 10^(-30/20) = 0.032 up to the fluctuation of ~2000 noise samples (a few percent)
    assert res.converged and res.residual == pytest.approx(10 ** (-30 / 20), rel=0.2)
    assert res.history["residual"][-1] >= 0.0 and "residual_energy" in res.history
    clean, *_ = _signal(14, 10, 0)
    exact = spright(clean, 14, 10, delays="noiseless")
    assert exact.converged and exact.residual < 1e-12  # the spectrum explains every observation
    # a failed peeling (8 coefficients in 3 x 8 bins, seed 3) leaves most of the observations unexplained
    failed = spright(_signal(12, 8, 3)[0], 12, 8, delays="noiseless")
    assert failed.stop_reason == "peeling_failed" and failed.residual > 0.3
    loose = spright(x, 14, 10, noise_var=var, seed=0, tol=0.99)
    assert loose.stop_reason == "tol" and loose.converged and loose.history["residual"][-1] < 0.99
    f0 = spright(np.zeros(2**10), 10, 4)  # a zero signal: nothing to explain, residual 0
    assert f0.residual == 0.0 and f0.support.size == 0


# ----------------------------------------------------------------------------- silent inputs (issue 28)
def test_budget_below_the_first_size_is_refused_before_reading():
    """spright(max_samples=10) read 187 samples and reported converged; now it refuses at the start."""
    calls = []
    def f(idx):
        calls.append(idx.size)
        return np.zeros(idx.shape)
    with pytest.raises(ValueError, match=r"max_samples = 10 is below the C P B = 3 x 13 x 8 = 312"):
        spright(f, 12, 8, max_samples=10)
    assert calls == []
    # the default budget never refuses the size asked for (bins fixes it)
    big = spright(np.zeros(2**14), 14, bins=2**14, delays="noiseless")
    assert big.n_samples == 2**14 and big.converged


def test_arguments_checked_before_the_first_sample():
    x, *_ = _signal(10, 4, 0)
    with pytest.raises(ValueError, match="n_chains = 3: delays='noiseless' reads one chain"):
        spright(x, 10, 4, delays="noiseless", n_chains=3)
    assert spright(x, 10, bins=16, delays="noiseless", n_chains=1).converged
    assert spright(x, 10, 4, delays="noiseless", noise_var=1e-12).n_delays == 11  # one chain by default
    with pytest.raises(ValueError, match="bch_t = 40 is too large for log2_n = 10"):
        spright(x, 10, 4, delays="bch", bch_t=40)
    with pytest.raises(ValueError, match="bch_t = 40 is too large"):
        spright(x, 10, delays="bch", bch_t=40)  # also when B grows (no n_nonzero)
    ref = spright(x, 10, 4, seed=1)
    res = spright(x, np.int64(10), np.int64(4), seed=np.int64(1), bins=None, max_iter=np.int64(1000))
    np.testing.assert_array_equal(res.support, ref.support)
    np.testing.assert_array_equal(res.values, ref.values)


def test_sparse_spectrum_checks_what_it_holds():
    s = SparseSpectrum(np.array([5, 1]), np.array([2.0, -1.0]), 8)  # sorted with the values
    np.testing.assert_array_equal(s.support, [1, 5])
    np.testing.assert_array_equal(np.asarray(s), [-1.0, 2.0])
    np.testing.assert_array_equal(s.todense(), [0, -1, 0, 0, 0, 2, 0, 0])
    cases = [
        ((np.array([8]), np.array([1.0]), 8), ValueError, r"support indices must lie in \[0, length = 8\)"),
        ((np.array([-1]), np.array([1.0]), 8), ValueError, "support indices must lie"),
        ((np.array([1, 1]), np.array([1.0, 2.0]), 8), ValueError, "repeated indices"),
        ((np.array([1, 2]), np.array([1.0]), 8), ValueError, "one value per index"),
        ((np.array([1.5]), np.array([1.0]), 8), TypeError, "integer indices"),
        ((np.array([1]), np.array([np.nan]), 8), ValueError, "finite real"),
        ((np.array([1]), np.array([1.0]), 0), ValueError, "length must be >= 1"),
        ((np.array([1]), np.array([1.0]), 8.0), TypeError, "length must be an int"),
    ]
    for args, exc, match in cases:
        with pytest.raises(exc, match=match):
            SparseSpectrum(*args)


def test_sparse_wht_signal_queries_checked():
    from csbox.sparse_wht import sparse_wht_signal

    f, supp, vals = sparse_wht_signal(np.int64(10), np.int64(3), seed=np.int64(2))
    X = Hadamard(2**10) @ f(np.arange(2**10))
    np.testing.assert_allclose(X[supp], vals, atol=1e-12)
    with pytest.raises(ValueError, match=r"idx must lie in \[0, 2\*\*10\)"):
        f(np.array([2**10]))
    with pytest.raises(TypeError, match="integer indices"):
        f(np.array([0.5]))
    np.testing.assert_array_equal(f([1, 2]), f(np.array([1, 2])))


# ----------------------------------------------------------------------------- determinism
_DIGESTS = r"""
import hashlib, numpy as np
from csbox.sparse_wht import spright, sparse_wht_signal
out = []
for delays, nv in (("robust", 1e-4), ("bch", 1e-4), ("noiseless", None)):
    f, supp, vals = sparse_wht_signal(14, 12, seed=5)
    g = (lambda idx: f(idx) + 1e-2 * np.sin(idx.astype(float))) if nv else f
    r = spright(g, 14, noise_var=nv, delays=delays, seed=7)
    out.append(hashlib.sha256(r.support.tobytes() + r.values.tobytes()).hexdigest())
f, supp, vals = sparse_wht_signal(45, 30, seed=9)
out.append(hashlib.sha256(supp.tobytes() + vals.tobytes() + f(np.arange(64)).tobytes()).hexdigest())
print(" ".join(out))
"""


def test_same_seed_gives_bit_identical_results_run_to_run():
    """The same call with the same seed: bit-identical on NumPy, in this process and in fresh ones
    with other hash seeds (the peeling keeps a dict; its order must not matter)."""
    import os
    import subprocess
    import sys

    ns: dict = {}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as buf:
        exec(_DIGESTS, ns)
    here = buf.getvalue().split()
    assert len(here) == 4
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _DIGESTS], env=env, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.split() == here
