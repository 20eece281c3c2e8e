r"""
SPRIGHT: a sparse Walsh-Hadamard spectrum from a few queries
============================================================

A signal :math:`x` of length :math:`N = 2^n` whose Walsh-Hadamard spectrum
:math:`X = H x` has :math:`K \ll N` non-zeros can be recovered without reading
all of :math:`x`. :func:`csbox.sparse_wht` (Li, Bradley, Ramchandran)
subsamples :math:`x` on cosets of random subspaces, so each small WHT of
:math:`B` points hashes the spectrum into :math:`B` bins; shifted (delayed)
copies reveal the index of a bin holding a single coefficient, and peeling
removes it from the other groups. It reads :math:`O(K \log N)` entries, given
as a callable ``signal(indices)``, and never forms a length-:math:`N` array.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from csbox.operators import fwht
from csbox.sparse_wht import sparse_wht_signal, spright

# %%
# Noiseless: exact recovery while N grows 256-fold
# ------------------------------------------------
# :func:`csbox.sparse_wht.sparse_wht_signal` returns a query function for
# :math:`x = H X` with :math:`K = 32` random non-zeros of magnitude in [1, 2].
# With ``n_nonzero`` given, SPRIGHT uses three groups of
# :math:`B = 32` bins; the number of entries it reads grows with
# :math:`\log N`, not :math:`N`.
K = 32
rows = []
for n in (16, 18, 20, 22, 24):
    fn, support, values = sparse_wht_signal(n, K, seed=n)
    t0 = time.perf_counter()
    res = spright(fn, n, n_nonzero=K, delays="noiseless")
    sec = time.perf_counter() - t0
    exact = bool(np.array_equal(res.support, support))
    err = float(np.max(np.abs(res.values - values))) if exact else float("nan")
    rows.append((n, res.n_samples, exact, sec))
    print(f"N = 2^{n}: read {res.n_samples:6d} entries ({res.n_samples / 2**n:.2%} of N), "
          f"exact support {exact}, max value error {err:.1e}, {1e3 * sec:.0f} ms")

# %%
# A check against the dense transform at the smallest size: the full WHT of
# all :math:`2^{16}` entries (:func:`csbox.operators.fwht`, orthonormal) has
# the same non-zeros.
fn, support, values = sparse_wht_signal(16, K, seed=16)
dense = fwht(fn(np.arange(2**16, dtype=np.int64))) / np.sqrt(2**16)
print("dense WHT support equals the truth:", np.array_equal(np.flatnonzero(np.abs(dense) > 1e-9), support))

# %%
# Noisy data: the robust delays
# -----------------------------
# White Gaussian noise on every sample at 10 dB SNR (per-sample signal power
# :math:`\|X\|^2 / N`). ``delays="robust"`` reads each bin at several random
# offsets (``n_chains`` majority-vote chains) and tests bins against the
# known noise level.
n = 20
fn, support, values = sparse_wht_signal(n, K, seed=7)
noise_var = float(np.sum(values**2)) / 2**n / 10 ** (10 / 10)
rng = np.random.default_rng(0)


def noisy(idx, fn=fn):
    """The signal plus fresh noise at every query."""
    return fn(idx) + np.sqrt(noise_var) * rng.standard_normal(idx.shape)


res = spright(noisy, n, n_nonzero=K, noise_var=noise_var, delays="robust", seed=1)
found = np.isin(res.support, support)
value_err = np.max(np.abs(res.values[found] - values[np.isin(support, res.support)]))
print(f"N = 2^{n}, 10 dB: read {res.n_samples} entries ({res.n_samples / 2**n:.2%} of N), "
      f"found {found.sum()} of {K}, {(~found).sum()} false, exact support "
      f"{np.array_equal(res.support, support)}; max value error {value_err:.3f}")

# %%
# Figures
# -------
fig, ax = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
ns = np.array([r[0] for r in rows])
ax[0].semilogy(ns, [r[1] for r in rows], "o-", label="entries read by SPRIGHT")
ax[0].semilogy(ns, 2.0**ns, "k--", label="N (dense WHT)")
ax[0].semilogy(ns, K * ns, ":", color="gray", label="K log2 N")
ax[0].set(xlabel="log2 N", ylabel="entries of x read", title=f"noiseless, K = {K}: exact support at every N")
ax[0].grid(True, which="both", alpha=0.3)
ax[0].legend()
ax[1].stem(support, values, linefmt="k-", markerfmt="ko", basefmt=" ", label="true X")
ax[1].plot(res.support, res.values, "C1x", ms=9, label="SPRIGHT, 10 dB")
ax[1].set(xlabel="Walsh index k", ylabel="X[k] (a.u.)",
          title=f"N = 2^{n}, 10 dB SNR: {res.n_samples} queries, {found.sum()}/{K} found")
ax[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)

# %%
# See also
# --------
# :doc:`the SPRIGHT page <../spright>` and ``csbox demo spright`` (success
# probability against samples for K up to 256 and SNR down to 10 dB, run time
# against N up to :math:`2^{30}`, the spectrum of a pseudo-Boolean function
# on :math:`\{0, 1\}^{40}`).
