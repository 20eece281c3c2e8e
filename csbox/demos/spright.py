"""Demo ``spright``: sparse Walsh-Hadamard transforms from O(K log N) samples.

(a) Probability of exact support recovery against the number of samples read,
N = 2^16, K in {16, 64, 256}, SNR in {inf, 20, 10} dB (bins B and robust chains R
swept), with ``K log2 N`` marked. (b) Run time against N from 2^12 to 2^30 at
K = 32 (noiseless), against csbox's dense fast WHT where it fits in memory.
(c) Application: the Walsh (Fourier) spectrum of a sparse pseudo-Boolean
function on {0, 1}^40 (20 monomials of degree <= 3) recovered from queries only.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..operators import parity
from ..operators.hadamard import fwht
from ..sparse_wht import sparse_wht_signal as sparse_signal
from ..sparse_wht import spright
from ._plot import plt, save

NAME = "spright"
DESCRIPTION = "SPRIGHT sparse WHT: success vs samples, time vs N up to 2^30, a pseudo-Boolean function"


def success_curves(quick: bool) -> dict:
    n = 16
    Ks = (16, 64) if quick else (16, 64, 256)
    snrs = (None, 20.0) if quick else (None, 20.0, 10.0)
    trials = 4 if quick else 10
    out: dict = {}
    for K in Ks:
        for snr in snrs:
            pts = []
            if snr is None:
                settings = [(B, 1) for B in (K // 2, K, 2 * K, 4 * K)]
            else:
                settings = [(B, R) for B in (K, 2 * K, 4 * K) for R in (1, 3, 5, 9)]
            for B, R in settings:
                if B < 2:
                    continue
                ok, samples = 0, []
                for t in range(trials):
                    fn, supp, vals = sparse_signal(n, K, 100 * t + K)
                    sd = var = None
                    if snr is not None:  # ||x||^2 = ||X||^2 (orthonormal): per-sample power sum(X^2) / N
                        var = np.sum(vals**2) / 2**n / 10 ** (snr / 10)
                        sd = math.sqrt(var)
                        rng = np.random.default_rng(t)
                        clean = fn

                        def fn(idx, clean=clean, sd=sd, rng=rng):
                            return clean(idx) + sd * rng.standard_normal(idx.shape)

                    res = spright(fn, n, bins=B, noise_var=var, n_chains=R,
                                  delays="noiseless" if snr is None else "robust", seed=t)
                    ok += bool(res.converged and np.array_equal(res.support, supp))
                    samples.append(res.n_samples)
                pts.append((float(np.mean(samples)), ok / trials, B, R))
            out[(K, snr)] = sorted(pts)
    return out


def timing(quick: bool) -> dict:
    K = 32
    ns = list(range(12, 23, 2)) if quick else list(range(12, 31, 2))
    out = {"n": ns, "spright": [], "dense": [], "samples": []}
    for n in ns:
        fn, supp, _ = sparse_signal(n, K, n)
        t0 = time.perf_counter()
        res = spright(fn, n, K, delays="noiseless")
        out["spright"].append(time.perf_counter() - t0)
        out["samples"].append(res.n_samples)
        assert res.converged and np.array_equal(res.support, supp)
        if n <= 24:
            x = fn(np.arange(2**n, dtype=np.int64)) if n <= 20 else None
            if x is None:
                x = np.random.default_rng(0).standard_normal(2**n)
            t0 = time.perf_counter()
            fwht(x)
            out["dense"].append(time.perf_counter() - t0)
        else:
            out["dense"].append(float("nan"))
    return out


def boolean_function() -> dict:
    """f(z) = sum_S c_S (-1)^{<S, z>} on {0,1}^40 with 20 monomials of degree <= 3, from queries."""
    rng = np.random.default_rng(7)
    n = 40
    monomials = set()
    while len(monomials) < 20:
        deg = int(rng.integers(1, 4))
        monomials.add(sum(1 << int(v) for v in rng.choice(n, deg, replace=False)))
    supp = np.array(sorted(monomials), dtype=np.int64)
    coef = rng.choice([-1, 1], supp.size) * (0.5 + rng.random(supp.size))

    def f(z: np.ndarray) -> np.ndarray:
        p = parity(np.bitwise_and(z[:, None], supp[None, :]))
        return ((1 - 2 * p) * coef).sum(1)

    # the orthonormal WHT of f is sqrt(N) * coef on the monomials: rescale what spright returns
    t0 = time.perf_counter()
    res = spright(lambda z: f(z) / math.sqrt(2.0**n), n, delays="noiseless")
    dt = time.perf_counter() - t0
    exact = res.converged and np.array_equal(res.support, supp) and np.allclose(res.values, coef, atol=1e-9)
    exact = bool(exact)
    print(f"pseudo-Boolean f on {{0,1}}^40, 20 monomials: recovered exactly = {exact} from "
          f"{res.n_samples} queries ({res.n_samples / 2**40:.2e} of the cube) in {dt * 1e3:.1f} ms")
    return {"exact": exact, "queries": res.n_samples, "seconds": dt}


def compute(quick: bool = False) -> dict:
    """Success curves, run times against N and the pseudo-Boolean function (printed)."""
    curves = success_curves(quick)
    success = {}
    for (K, snr), pts in curves.items():
        label = f"K={K}, SNR {'inf' if snr is None else f'{snr:.0f} dB'}"
        success[label] = {"K": K, "snr_db": snr, "points": pts}
        full = [p for p in pts if p[1] == 1.0]
        print(f"{label:<22} smallest sample count with 100% success: "
              + (f"{full[0][0]:.0f} (B={full[0][2]}, R={full[0][3]}) = "
                 f"{full[0][0] / (K * 16):.1f} K log2 N" if full else "none in the sweep"))
    tm = timing(quick)
    for n, t, s, d in zip(tm["n"], tm["spright"], tm["samples"], tm["dense"], strict=True):
        print(f"N = 2^{n:<3} SPRIGHT {t * 1e3:8.2f} ms, {s:6d} samples ({s / 2**n:.2e} of N); dense "
              + ("--" if math.isnan(d) else f"{d * 1e3:9.2f} ms"))
    return {"success": success, "timing": tm, "boolean": boolean_function()}


def plot(metrics: dict, out_dir: Path) -> None:
    """Success against samples read and run time against N (``spright.png``)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    colors = {16: "C0", 64: "C1", 256: "C2"}
    styles = {None: "-", 20.0: "--", 10.0: ":"}
    for label, c in metrics["success"].items():
        pts = c["points"]
        # upper envelope: the best (B, R) setting that reads at most this many samples
        xs = [p[0] for p in pts]
        ys = list(np.maximum.accumulate([p[1] for p in pts]))
        axes[0].semilogx(xs, ys, styles[c["snr_db"]], color=colors[c["K"]], marker="o", ms=3, label=label)
    for K in sorted({c["K"] for c in metrics["success"].values()}):
        axes[0].axvline(K * 16, color=colors[K], lw=0.8, alpha=0.5)
    axes[0].set_xlabel("samples read, best (B, R) within the budget (vertical lines: K log2 N)")
    axes[0].set_ylabel("P(exact support recovery)")
    axes[0].set_title("N = 2^16")
    axes[0].legend(fontsize=7, ncol=2)
    axes[0].grid(True, which="both", alpha=0.3)
    tm = metrics["timing"]
    Ns = [2**n for n in tm["n"]]
    axes[1].loglog(Ns, tm["spright"], "o-", label="SPRIGHT (K = 32, noiseless)")
    axes[1].loglog(Ns, tm["dense"], "s-", label="dense fast WHT (csbox fwht)")
    axes[1].set_xlabel("N")
    axes[1].set_ylabel("time (s)")
    axes[1].set_title("run time vs N")
    axes[1].legend()
    axes[1].grid(True, which="both", alpha=0.3)
    save(fig, Path(out_dir) / "spright.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute the three studies, plot (a) and (b), return the metrics."""
    metrics = compute(quick)
    plot(metrics, out_dir)
    return metrics
