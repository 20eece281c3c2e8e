r"""SPRIGHT: robust sparse Walsh-Hadamard transform from O(K log N) samples.

For ``x`` of length ``N = 2^n`` whose orthonormal Walsh-Hadamard spectrum
``X = H_N x / sqrt(N)`` has ``K`` non-zeros, SPRIGHT reads ``x`` only at
``C * P * B`` indices (``B = 2^b`` bins per group, ``P`` delays) and recovers
``X`` by peeling, in ``O(K log^2 N)`` time.

Front end (aliasing). Group ``c`` has a subsampling matrix ``M_c`` (``n x b``
over GF(2)) and delays ``d_p``; the sub-sampled signal ``u[l] = x[M_c l ⊕ d_p]``
(``l ∈ F_2^b``) has the ``B``-point transform

.. math:: U_{c,p}[j] = \frac{\sqrt N}{B}\,\mathrm{WHT}_B(u)[j]
          = \sum_{k:\ M_c^T k = j} X[k]\,(-1)^{\langle k, d_p\rangle} + \text{noise},

i.e. bin ``j`` of group ``c`` sums the coefficients that ``M_c^T`` hashes to ``j``,
each signed by its inner product with the delay.

Bins are classified as zero-tons (energy at the noise floor), single-tons (one
coefficient: its index is read from the delay signs, its value is the signed
mean, and the residual must sit at the noise floor) and multi-tons. Index
recovery: ``delays="noiseless"`` uses ``{0, e_1, ..., e_n}`` (bit ``i`` from the sign
of ``U_{e_i} / U_0``); ``"robust"`` uses ``R`` random-offset chains ``{d_r, d_r ⊕ e_1,
..., d_r ⊕ e_n}`` with a majority vote per bit; ``"bch"`` appends to one chain the
parity rows of a binary BCH code, so the ``n + n_parity`` sign bits form a codeword
and up to ``t`` wrong signs are corrected by syndrome decoding (all bins of a
group at once, by a syndrome table). The peeling decoder subtracts each found
single-ton from the bins it hashes to in every group and repeats; a final
least-squares fit refines all values on the recovered support.

:func:`spright` is an :class:`~csbox.iterative.IterativeSolver`: one
iteration is one peeling pass over all groups. Without ``n_nonzero`` the bins
double (fresh samples) whenever peeling stalls, within a sample budget; the run
stops by rules on reported metrics: ``"peeled"`` (every bin at the noise
floor: converged), ``"peeling_failed"`` (stalled at the last allowed size) or
``"budget"`` (the next size would read more than ``max_samples`` indices or not
fit in memory).

References
----------
X. Li, J. K. Bradley, S. Pawar, K. Ramchandran, "SPRIGHT: a fast and robust
framework for sparse Walsh-Hadamard transform", arXiv 1508.06336. R.
Scheibler, S. Haghighatshoar, M. Vetterli, "A fast Hadamard transform for
signals with sublinear sparsity in the transform domain", IEEE TIT 2015.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_memory, check_scalar
from ..backend import array_namespace, to_numpy
from ..iterative import Flag, IterativeSolver, IterState, Result, StoppingRule
from ..operators.hadamard import fwht, parity
from ._bch import bch_code

__all__ = ["SparseSpectrum", "SpectrumResult", "spright"]



class SparseSpectrum(np.ndarray):
    """A sparse spectrum of length ``length``: the non-zero values, with their ``support``.

    A 1-D float NumPy array of the values (so it is what a callback or a
    monitor can test for finiteness) carrying ``support`` (int64 indices,
    sorted) and ``length`` (``N``); :meth:`todense` gives the length-``N`` array
    where it fits in memory. ``N`` may be ``2^62``: the full spectrum is never formed.

    Parameters
    ----------
    support : array of int
        Distinct indices of the non-zeros in ``[0, length)`` (stored as int64, sorted with their values).
    values : array
        One finite real value per index (stored as float64: the array data).
    length : int
        ``N >= 1``.

    Attributes
    ----------
    support : numpy.ndarray of int64
        Sorted indices of the non-zero coefficients, one per value.
    length : int
        ``N``, the length of the full spectrum.
    """

    support: np.ndarray
    length: int

    def __new__(cls, support: np.ndarray, values: np.ndarray, length: int) -> SparseSpectrum:
        length = check_int("length", length, low=1)
        sup = np.asarray(support)
        vals = np.asarray(values)
        if sup.ndim != 1 or (sup.size and sup.dtype.kind not in "iu"):
            raise TypeError(f"support must be a 1-D array of integer indices, got {sup.dtype} {sup.shape}")
        if vals.ndim != 1 or vals.shape != sup.shape:
            raise ValueError(f"values must be 1-D with one value per index of support ({sup.size}), "
                             f"got shape {vals.shape}")
        if vals.dtype.kind not in "biuf" or not np.all(np.isfinite(vals)):
            raise ValueError("values must be finite real numbers")
        sup = sup.astype(np.int64)
        if sup.size and (sup.min() < 0 or sup.max() >= length):
            lo, hi = int(sup.min()), int(sup.max())
            raise ValueError(f"support indices must lie in [0, length = {length}), got [{lo}, {hi}]")
        if np.unique(sup).size != sup.size:
            raise ValueError("support has repeated indices")
        order = np.argsort(sup, kind="stable")
        obj = vals[order].astype(float).view(cls)
        obj.support = sup[order]
        obj.length = length
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.support = getattr(obj, "support", np.zeros(0, dtype=np.int64))
        self.length = getattr(obj, "length", 0)

    def todense(self) -> np.ndarray:
        """The full length-``N`` spectrum (``check_memory`` first)."""
        check_memory("SparseSpectrum.todense", self.length, 8)
        out = np.zeros(self.length)
        out[self.support] = np.asarray(self)
        return out


@dataclass(repr=False)
class SpectrumResult(Result):
    """Result of :func:`spright`; ``x`` is the recovered :class:`SparseSpectrum`.

    Attributes
    ----------
    support : ndarray of int64
        Indices of the non-zero coefficients, sorted.
    values : ndarray
        ``X[support]``.
    n_samples : int
        Distinct indices of the signal read.
    bins : int
        Bins per group ``B`` of the last size tried.
    n_groups, n_delays : int
        ``C`` and ``P``.
    peeling : list of int
        Single-tons found at each pass.
    residual : float
        Relative residual of the bin observations of the last size, ``||U - U(x)|| / ||U||``
        (``U(x)``: the observations the returned spectrum explains; 0 for a zero signal).
    residual_energy : float
        Largest remaining bin energy, ``max_{c,j} mean_p U_{c,p}[j]^2`` after peeling (at most
        the noise floor when peeled).
    """

    support: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_samples: int = 0
    bins: int = 0
    n_groups: int = 0
    n_delays: int = 0
    peeling: list[int] = field(default_factory=list)
    residual: float = math.nan
    residual_energy: float = math.nan


class _Queries:
    """Reads the signal at integer indices, counting the distinct ones (callable or array)."""

    def __init__(self, signal: Any, N: int):
        self.N = N
        self.count = 0
        if callable(signal):
            self.fn = signal
            self.array = None
        else:
            if not hasattr(signal, "shape") or signal.ndim != 1 or signal.shape[0] != N:
                raise ValueError(f"signal must be a callable or a 1-D array of length 2**log2_n = {N}, "
                                 f"got shape {getattr(signal, 'shape', None)}")
            self.array = signal
            self.fn = None

    def __call__(self, idx: np.ndarray) -> np.ndarray:
        flat = idx.ravel()
        uniq, inv = np.unique(flat, return_inverse=True)
        self.count += uniq.size
        if self.array is not None:
            xp = array_namespace(self.array)
            vals = to_numpy(xp.take(self.array, xp.asarray(uniq.astype(np.int64))))
        else:
            vals = np.asarray(to_numpy(self.fn(uniq.astype(np.int64))))
            if vals.shape != uniq.shape:
                raise ValueError(f"signal(indices) returned shape {vals.shape} for {uniq.size} indices; "
                                 f"expected one value per index")
        if not np.all(np.isfinite(vals)):
            raise ValueError("signal returned NaN or Inf values")
        if np.iscomplexobj(vals):
            raise TypeError("signal values must be real (the Walsh-Hadamard spectrum of a real signal)")
        return vals.astype(float)[inv].reshape(idx.shape)


def _gf2_apply(M_cols: np.ndarray, l: np.ndarray) -> np.ndarray:
    """``M l`` over GF(2): ``M_cols[i]`` is the integer holding column ``i`` of ``M``; ``l`` integers."""
    out = np.zeros(l.shape, dtype=np.int64)
    for i, col in enumerate(M_cols):
        out ^= np.where((l >> i) & 1, col, 0)
    return out


def _gf2_transpose_apply(M_cols: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``M^T k`` over GF(2): bit ``i`` of the result is the parity of ``col_i & k``."""
    k = np.asarray(k, dtype=np.int64)
    par = parity(np.bitwise_and(k[..., None], M_cols))  # (..., b)
    return np.sum(par << np.arange(M_cols.size, dtype=np.int64), axis=-1)


def _random_full_rank(n: int, b: int, rng: np.random.Generator) -> np.ndarray:
    """``b`` random linearly independent GF(2) columns of length ``n`` (as integers)."""
    while True:
        cols = rng.integers(1, 2**n, size=b, dtype=np.int64) if n < 63 else rng.integers(1, 2**62, size=b)
        # Gaussian elimination on integers to check the rank
        basis: list[int] = []
        for c in cols.tolist():
            for v in basis:
                c = min(c, c ^ v)
            if c:
                basis.append(c)
        if len(basis) == b:
            return cols.astype(np.int64)


class _Size:
    """Observations and peeling state of one bin size ``B = 2^b`` (the front end read once)."""

    def __init__(self, queries: _Queries, n: int, b: int, C: int, R: int, delays: str, var: float,
                 thr: float, rng: np.random.Generator, bch_t: int):
        N, B = 2**n, 2**b
        self.n, self.b, self.B, self.C, self.delays = n, b, B, C, delays
        # noiseless delays on noiseless data: a singleton's bin holds X[k] exactly (ratios +-1 to 1e-6),
        # so the final least-squares fit over all observations would only repeat the peeled values
        self.exact = delays == "noiseless" and var == 0
        self.hashes = [np.array([1 << (c * b + i) for i in range(b)], dtype=np.int64) if (c + 1) * b <= n
                       else _random_full_rank(n, b, rng) for c in range(C)]
        # delays: chains {d_r, d_r ⊕ e_1, ..., d_r ⊕ e_n}; for "bch", {d_r, d_r ⊕ e_i, d_r ⊕ parity rows}
        unit = np.array([0] + [1 << i for i in range(n)], dtype=np.int64)
        self.code = None
        if delays == "bch":
            self.code = bch_code(n, bch_t)
            prow = np.sum(self.code.parity_matrix.astype(np.int64) << np.arange(n, dtype=np.int64), axis=1)
            unit = np.concatenate([unit, prow])
        if delays == "noiseless":
            offs = np.zeros(1, dtype=np.int64)
        else:
            offs = rng.integers(0, N, size=R, dtype=np.int64) if n < 63 else rng.integers(0, 2**62, size=R)
            if R == 1 and var == 0:
                offs[:] = 0
        self.n_offs, self.n_unit = offs.size, unit.size
        self.D = (offs[:, None] ^ unit[None, :]).ravel()  # (P,)
        ls = np.arange(B, dtype=np.int64)
        idx = np.stack([_gf2_apply(Mc, ls)[None, :] ^ self.D[:, None] for Mc in self.hashes])  # (C, P, B)
        self.U0 = fwht(queries(idx), normalize=False) * (math.sqrt(N) / B)
        self.U = self.U0.copy()  # peeled in place; U0 keeps the observations for the final fit
        nu2 = N * var / B  # noise power per bin
        self.floor = thr * thr * nu2 + 1e-20 * max(1.0, float(np.max(np.abs(self.U)))) ** 2
        self.found: dict[int, float] = {}
        self.peeling: list[int] = []

    def residual(self) -> float:
        """Largest remaining bin energy (what the noise floor bounds)."""
        return float(np.max(np.mean(self.U**2, axis=1)))

    def relative_residual(self, values: np.ndarray | None = None) -> float:
        """``||U0 - U(x)|| / ||U0||`` for the peeled spectrum, or for ``values`` on its support."""
        norm0 = float(np.linalg.norm(self.U0))
        if norm0 == 0:
            return 0.0
        if values is None:
            return float(np.linalg.norm(self.U)) / norm0
        support, _ = self.spectrum()
        S = 1.0 - 2.0 * parity(np.bitwise_and(self.D[:, None], support[None, :])).astype(float)  # (P, K)
        R = self.U0.copy()
        for c, Mc in enumerate(self.hashes):
            np.subtract.at(R[c].T, _gf2_transpose_apply(Mc, support), (values * S).T)
        return float(np.linalg.norm(R)) / norm0

    def peel(self) -> int:
        """One pass over the groups: find single-tons, subtract them everywhere; returns how many."""
        new = 0
        for c in range(self.C):
            ks, alpha, S = self._singletons(c)
            if ks.size == 0:
                continue
            for c2 in range(self.C):
                np.subtract.at(self.U[c2].T, _gf2_transpose_apply(self.hashes[c2], ks), (alpha * S).T)
            for k, a in zip(ks.tolist(), alpha.tolist(), strict=True):
                self.found[k] = self.found.get(k, 0.0) + a
            new += int(ks.size)
        self.peeling.append(new)
        return new

    def _singletons(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices, values and delay signs ``(P, m)`` of the single-ton bins of group ``c``."""
        Uc, floor = self.U[c], self.floor
        cand = np.flatnonzero(np.mean(Uc**2, axis=0) > floor)
        if cand.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((self.D.size, 0))
        Vb = Uc[:, cand]
        bits, consistent = self._index_bits(Vb.reshape(self.n_offs, self.n_unit, cand.size))
        ks = np.sum(bits << np.arange(self.n, dtype=np.int64)[:, None], axis=0)
        consistent &= _gf2_transpose_apply(self.hashes[c], ks) == cand
        S = 1.0 - 2.0 * parity(np.bitwise_and(self.D[:, None], ks[None, :])).astype(float)  # (P, m)
        alpha = np.mean(Vb * S, axis=0)
        resid = np.mean((Vb - alpha * S) ** 2, axis=0)
        single = consistent & (resid <= floor) & (alpha * alpha > floor)
        return ks[single], alpha[single], S[:, single]

    def _index_bits(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index bits ``(n, m)`` of candidate bins from their delay signs, and which are consistent."""
        ref = V[:, :1, :]
        if self.delays == "noiseless":
            ratio = V[0, 1:, :] / np.where(ref[0] == 0, np.inf, ref[0])
            return (ratio < 0).astype(np.int64), np.all(np.abs(np.abs(ratio) - 1.0) <= 1e-6, axis=0)
        votes = np.sum(np.sign(V[:, 1:, :] * ref), axis=0)  # majority vote per bit over the chains
        words = (votes < 0).astype(np.int64)
        if self.code is None:
            return words, np.ones(V.shape[2], dtype=bool)
        # sign bits relative to the reference delay form a noisy BCH codeword: decode all at once
        return self.code.decode_many(words)

    def spectrum(self) -> tuple[np.ndarray, np.ndarray]:
        support = np.array(sorted(k for k, v in self.found.items() if v != 0.0), dtype=np.int64)
        return support, np.array([self.found[k] for k in support], dtype=float)

    def samples(self) -> int:
        """Indices one size reads (before de-duplication)."""
        return self.C * self.D.size * self.B


class _Spright(IterativeSolver):
    """Peeling passes; a stalled size hands over to the next bin size while the budget allows."""

    name = "spright"
    tol_metric = "residual"
    divergence = False

    def __init__(self, queries: _Queries, b_list: list[int], max_samples: int, make: Callable[[int], _Size],
                 **contract: Any):
        super().__init__(**contract)
        self.queries, self.b_list, self.max_samples, self.make = queries, b_list, max_samples, make
        self.i = 0
        self.size = make(b_list[0])
        self.new = -1

    def _next_fits(self) -> bool:
        """True when the next bin size exists and fits in the sample budget and in memory."""
        if self.i + 1 >= len(self.b_list):
            return False
        need = self.size.samples() * 2 ** (self.b_list[self.i + 1] - self.size.b)
        try:
            check_memory("spright observations", 5.0 * need, 8)
        except ValueError:
            return False
        return self.queries.count + need <= self.max_samples

    def step(self) -> None:
        if self.new == 0 and self._next_fits():  # this size stalled: fresh samples, twice the bins
            self.i += 1
            self.size = self.make(self.b_list[self.i])
        self.new = self.size.peel()

    def estimate(self) -> SparseSpectrum:
        return SparseSpectrum(*self.size.spectrum(), 2**self.size.n)

    def metrics(self) -> dict[str, Any]:
        res = self.size.residual()
        peeled = res <= self.size.floor
        stalled = not peeled and self.new == 0
        more = stalled and self._next_fits()
        last = self.i + 1 >= len(self.b_list)
        return {"residual": self.size.relative_residual(), "residual_energy": res,
                "peeled": float(peeled), "bins": self.size.B,
                "n_samples": self.queries.count, "stalled": float(stalled and not more and last),
                "budget_spent": float(stalled and not more and not last)}

    def rules(self) -> list[StoppingRule]:
        return [Flag("peeled", "peeled"), Flag("stalled", "peeling_failed", converges=False),
                Flag("budget_spent", "budget", converges=False)]

    def result(self, base: Result) -> SpectrumResult:
        sz = self.size
        support, values = sz.spectrum()
        if support.size and base.stop_reason == "peeled" and not sz.exact:
            values = _refine(sz.U0, sz.hashes, sz.D, support, sz.B)
        x = SparseSpectrum(support, values, 2**sz.n)
        message = base.message
        if base.stop_reason == "budget":
            message = (f"peeling stalled at B = {sz.B} bins; the next size would exceed max_samples = "
                       f"{self.max_samples} or the memory: the spectrum is not sparse enough for this budget")
        return SpectrumResult(**{**base._base(), "x": x, "message": message}, support=support, values=values,
                              n_samples=self.queries.count, bins=sz.B, n_groups=sz.C, n_delays=sz.D.size,
                              peeling=sz.peeling, residual=sz.relative_residual(values),
                              residual_energy=sz.residual())


def spright(
    signal: np.ndarray | Callable[[np.ndarray], np.ndarray], log2_n: int, n_nonzero: int | None = None, *,
    noise_var: float | None = None, delays: str = "robust", n_chains: int | None = None,
    n_groups: int | None = None, bins: int | None = None, max_samples: int | None = None,
    threshold: float = 2.0, bch_t: int = 3, seed: int = 0, max_iter: int = 1000, tol: float | None = None,
    check_every: int = 1, callback: Callable[[IterState], Any] | None = None, progress: bool = False,
    stop: StoppingRule | None = None,
) -> SpectrumResult:
    """Sparse Walsh-Hadamard transform of a length-``2^log2_n`` signal read at O(K log N) indices.

    Parameters
    ----------
    signal : 1-D array of length ``2^log2_n`` or callable ``signal(indices) -> values``
        The callable is called with int64 index arrays; only those entries are ever read, so ``N`` may be far
        larger than memory (e.g. ``2^40``).
    log2_n : int
        ``log2 N`` (1 to 62).
    n_nonzero : int, optional
        Expected sparsity ``K``; sets ``B = 2^ceil(log2 K)`` bins per group (``3B >= 3K`` bins in all, above
        the peeling threshold ``1.22 K`` of three groups). Without it, ``B`` starts at 16 and doubles (fresh
        samples) whenever peeling stalls, while ``max_samples`` allows.
    noise_var : float, optional
        Variance of the noise on each sample of ``x``; the bin threshold is ``threshold^2 N noise_var / B``
        (the per-bin noise power times ``threshold^2``). ``None`` or 0 for noiseless data.
    delays : {"robust", "noiseless", "bch"}
        Index-recovery scheme (see the module docstring). ``"bch"``: delays ``d``, ``d ⊕ e_i`` and ``d ⊕
        (parity rows)`` of a shortened binary BCH code correcting ``bch_t`` sign errors (``P = 1 + n +
        n_parity`` delays, ``n_parity ≈ t log2 n``, instead of ``R (n + 1)``).
    n_chains : int, optional
        Random-offset chains ``R`` (default 1 when noiseless, else 5, the authors' setting at 30 dB);
        ``delays="noiseless"`` reads one chain, so it takes only ``n_chains`` None or 1.
    n_groups : int, optional
        Number of groups ``C`` (default 3: disjoint bit blocks if ``3b <= n``, else random full-rank hashes).
    bins : int, optional
        ``B`` (a power of two), overriding ``n_nonzero``; its observations must fit in memory.
    max_samples : int, optional
        Budget of indices read when ``B`` grows (default ``min(max(N, 2^20), 2^24)``, or what the
        first size reads when that is more); a budget below the first size's ``C P B`` is refused.
        At most ``C P B <= 2 C R K (log2 N + 1)`` samples are read for ``B < 2K`` (``P = n + 1``
        per chain: ``samples <= c K log2 N`` with ``c = 6`` noiseless, ``30`` with 5 chains; tested).
    threshold : float
        Multiple of the per-bin noise standard deviation used in the tests.
    bch_t : int
        Errors corrected by the BCH delays.
    seed : int
        Seeds hashes and delays.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract: ``max_iter`` caps the peeling passes (all sizes); ``tol`` bounds the relative
        residual of the bin observations ``||U - U(x)|| / ||U||`` (history key ``residual``); the callback's
        ``state.x`` is the current :class:`SparseSpectrum`. ``check_every`` defaults to 1: the loop runs on
        the host (NumPy), so a checkpoint costs no device sync.

    Returns
    -------
    SpectrumResult
        ``x``: the spectrum as a :class:`SparseSpectrum` (values with ``.support``; ``x.todense()`` where
        ``N`` fits); ``support``, ``values``, ``n_samples`` (distinct indices read), ``bins``, ``n_groups``,
        ``n_delays``, ``peeling``. ``stop_reason``: ``"peeled"`` (converged), ``"peeling_failed"``,
        ``"budget"`` or ``"max_iter"``; a failed run never returns a wrong spectrum as converged.

    References
    ----------
    X. Li, J. K. Bradley, S. Pawar, K. Ramchandran, "SPRIGHT: a fast and robust
    framework for sparse Walsh-Hadamard transform", arXiv 1508.06336.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.sparse_wht import sparse_wht_signal, spright
    >>> f, support, values = sparse_wht_signal(12, 8, seed=0)
    >>> res = spright(f, 12, 8, seed=0)
    >>> bool(np.array_equal(res.support, support)), bool(np.allclose(res.values, values))
    (True, True)
    >>> res.converged, res.n_samples < 2**12 // 10
    (True, True)
    """
    setup = _setup(signal, log2_n, n_nonzero, noise_var, delays, n_chains, n_groups, bins, max_samples,
                   threshold, bch_t, seed)
    return _Spright(*setup, max_iter=max_iter, tol=tol, check_every=check_every, callback=callback,
                    progress=progress, stop=stop).solve()


def _setup(signal: Any, log2_n: Any, n_nonzero: Any, noise_var: Any, delays: Any, n_chains: Any,
           n_groups: Any, bins: Any, max_samples: Any, threshold: Any, bch_t: Any,
           seed: Any) -> tuple[_Queries, list, int, Callable[[int], _Size]]:
    """spright's checked arguments: the queries, the bin sizes, the sample budget and a ``_Size`` maker.

    Everything is refused here, before the first sample is read: in particular a budget
    ``max_samples`` below what the first bin size reads (it would be overrun, not honoured).
    """
    n = check_int("log2_n", log2_n, low=1, high=62)
    N = 2**n
    queries = _Queries(signal, N)
    delays = check_choice("delays", delays, ["robust", "noiseless", "bch"])
    var = 0.0 if noise_var is None else check_scalar("noise_var", noise_var, low=0)
    default_chains = 5 if var and delays != "noiseless" else 1
    R = check_int("n_chains", n_chains if n_chains is not None else default_chains, low=1)
    if delays == "noiseless" and R != 1:
        raise ValueError(f"n_chains = {R}: delays='noiseless' reads one chain (more: 'robust' or 'bch')")
    C = check_int("n_groups", n_groups if n_groups is not None else 3, low=1)
    P = _n_delays(n, R, delays, bch_t)
    b_list = _bin_sizes(n, n_nonzero, bins, C, P)
    first = C * P * 2 ** b_list[0]  # indices the first size reads (before de-duplication)
    if max_samples is None:  # the default budget bounds the growth, never the size asked for
        budget = max(first, min(max(N, 2**20), 2**24))
    else:
        budget = check_int("max_samples", max_samples, low=1)
        if first > budget:
            raise ValueError(f"max_samples = {budget} is below the C P B = {C} x {P} x {2 ** b_list[0]} = "
                             f"{first} indices the first bin size reads; raise it, or lower bins / n_nonzero")
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    thr = check_scalar("threshold", threshold, low=0, low_open=True)

    def make(b: int) -> _Size:
        return _Size(queries, n, b, C, R, delays, var, thr, rng, bch_t)

    return queries, b_list, budget, make


def _n_delays(n: int, R: int, delays: str, bch_t: Any) -> int:
    """Delays per group ``P``: ``n + 1`` per chain, plus the BCH parity rows for ``"bch"``."""
    bch_t = check_int("bch_t", bch_t, low=1)
    if delays == "noiseless":
        return n + 1
    if delays == "robust":
        return R * (n + 1)
    try:
        n_parity = bch_code(n, bch_t).n_parity
    except ValueError as err:
        raise ValueError(f"bch_t = {bch_t} is too large for log2_n = {n}: {err}") from None
    return R * (n + 1 + n_parity)


def _bin_sizes(n: int, n_nonzero: int | None, bins: int | None, C: int, P: int) -> list[int]:
    """The ``log2 B`` to try: one size from ``bins`` or ``n_nonzero`` (its observations must fit
    in memory), else 4 (or ``n``) up to ``n``."""
    if bins is not None:
        bins = check_int("bins", bins, low=2, high=2**n)
        if bins & (bins - 1):
            raise ValueError(f"bins must be a power of two in [2, N = 2^{n}], got {bins!r}")
        sizes = [int(math.log2(bins))]
    elif n_nonzero is not None:
        K = check_int("n_nonzero", n_nonzero, low=1, high=2**n)
        sizes = [min(n, max(1, math.ceil(math.log2(K))))]
    else:
        return list(range(min(4, n), n + 1))
    check_memory(f"spright observations (C P B = {C} x {P} x 2^{sizes[0]})", 5.0 * C * P * 2 ** sizes[0], 8)
    return sizes


def _refine(U: np.ndarray, hashes: list[np.ndarray], D: np.ndarray, support: np.ndarray,
            B: int) -> np.ndarray:
    """Least-squares values on the support from all bin observations, by the normal equations.

    Observation ``U_{c,p}[j] = sum_{k in S, M_c^T k = j} X[k] s_p(k)`` with ``s_p(k) = (-1)^{<k, d_p>}``:
    ``A^T A = sum_c (S^T S) ⊙ [j_c(k) = j_c(k')]`` and ``A^T U = sum_c sum_p s_p(k) U_{c,p}[j_c(k)]``,
    ``O(P K^2)`` instead of a ``(C P B) x K`` least-squares problem.
    """
    S = 1.0 - 2.0 * parity(np.bitwise_and(D[:, None], support[None, :])).astype(float)  # (P, K)
    StS = S.T @ S
    G = np.zeros_like(StS)
    rhs = np.zeros(support.size)
    for c, Mc in enumerate(hashes):
        j = _gf2_transpose_apply(Mc, support)
        G += StS * (j[:, None] == j[None, :])
        rhs += np.sum(S * U[c][:, j], axis=0)
    return np.linalg.solve(G, rhs)
