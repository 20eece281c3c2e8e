"""SPRIGHT vs the dense fast Walsh-Hadamard transform.

N = 2^20, K = 50, noiseless and 20 dB: time and samples of csbox ``spright``
against csbox's dense ``Hadamard`` (fast WHT, all N samples) and, where it fits
in memory, ``scipy.linalg.hadamard(N) @ x``. Then SPRIGHT's time from 2^12 to
2^30 (K = 50, noiseless) to show its ~log^2 N growth. Run:
``python benchmarks/bench_spright.py``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from _timing import best_time, versions
from csbox.operators import Hadamard
from csbox.sparse_wht import sparse_wht_signal as sparse_signal
from csbox.sparse_wht import spright


def main() -> None:
    print(versions("numpy", "scipy", "csbox"))
    n, K = 20, 50
    N = 2**n
    fn, supp, vals = sparse_signal(n, K, 0)
    x = fn(np.arange(N, dtype=np.int64))
    H = Hadamard(N)
    t_dense = best_time(lambda: H @ x, repeat=5)
    var = np.sum(vals**2) / N / 100
    xn = x + math.sqrt(var) * np.random.default_rng(1).standard_normal(N)
    print(f"N = 2^{n}, K = {K}")
    print(f"  dense csbox Hadamard (all {N} samples)      {t_dense * 1e3:9.2f} ms")
    m = 2**12
    Hs = scipy.linalg.hadamard(m) / math.sqrt(m)
    xs = np.random.default_rng(2).standard_normal(m)
    t_sc = best_time(lambda: Hs @ xs, repeat=5)
    t_cs = best_time(lambda: Hadamard(m) @ xs)
    print(f"  scipy.linalg.hadamard(N) @ x fits only to N ~ 2^15 here (2^{n}: 8 TiB); "
          f"at 2^12: {t_sc * 1e3:.2f} ms vs csbox Hadamard {t_cs * 1e3:.2f} ms")
    goals = {"noiseless": 50, "20 dB": 20, "20 dB BCH": 20}  # issue 21
    for label, data, kw in (("noiseless", x, {"delays": "noiseless"}),
                            ("20 dB", xn, {"delays": "robust", "noise_var": var}),
                            ("20 dB BCH", xn, {"delays": "bch", "n_chains": 1, "noise_var": var})):
        t = best_time(lambda data=data, kw=kw: spright(data, n, K, **kw), repeat=5)
        res = spright(data, n, K, **kw)
        ok = res.converged and np.array_equal(res.support, supp)
        err = float(np.max(np.abs(res.values - vals))) if ok else float("nan")
        frac = 100 * res.n_samples / N
        speed = t_dense / t
        print(f"  spright {label:<10} {t * 1e3:9.2f} ms  {res.n_samples:7d} samples ({frac:.2f} %)"
              f"  exact support {ok}, max value error {err:.1e}  -> {speed:.0f}x faster than dense "
              f"(goal >= {goals[label]}x: {speed / goals[label]:.2f} of it)")
    print("\nSPRIGHT time vs N (K = 50, noiseless, callable signal):")
    base = None
    for n in range(12, 31, 3):
        fn, supp, _ = sparse_signal(n, K, n)
        t = best_time(lambda fn=fn, n=n: spright(fn, n, K, delays="noiseless"), repeat=3)
        res = spright(fn, n, K, delays="noiseless")
        base = base or (t, n)
        print(f"  N = 2^{n:<3} {t * 1e3:8.2f} ms  {res.n_samples:6d} samples  success {res.converged}  "
              f"time / (log2 N)^2 = {t / n**2 * 1e6:.1f} us")


if __name__ == "__main__":
    main()
