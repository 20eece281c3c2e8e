"""Demo ``kron-sbl``: the synthetic study of He and Joseph, Kronecker-structured sparse recovery.

Three Gaussian factors ``A_i`` (``M_i x 15``, columns of unit expected norm),
3375 unknowns, 3 non-zeros per factor (27 in all, Gaussian amplitudes), noise
at a given SNR. NMSE and support recovery rate ``|S_hat ∩ S| / |S_hat ∪ S|``
(``S_hat = {|x_hat| > 1e-3 max |x_hat|}``) against SNR (M = (8, 12, 15)) and
against M_1 (SNR 20 dB), for SVD-KroSBL, AM-KroSBL, classic SBL (MacKay
updates, on the formed 1440 x 3375 matrix) and Kronecker OMP.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..metrics import support_recovery
from ..sbl import kron_omp, kron_sbl, sbl
from ._plot import plt, save

NAME = "kron-sbl"
DESCRIPTION = "synthetic Kronecker SBL: NMSE and support recovery vs SNR and M1 (KroSBL, cSBL, KOMP)"

N = 15
METHODS = ("SVD-KroSBL", "AM-KroSBL", "cSBL", "KOMP")


def problem(Ms, snr_db, seed):
    """Factors, true x, noisy y and noise variance for one trial."""
    rng = np.random.default_rng(seed)
    F = [rng.standard_normal((m, N)) / np.sqrt(m) for m in Ms]
    X = np.zeros((N, N, N))
    X[np.ix_(*[rng.choice(N, 3, replace=False) for _ in range(3)])] = rng.standard_normal((3, 3, 3))
    x = X.ravel()
    y0 = np.einsum("ai,bj,ck,ijk->abc", F[0], F[1], F[2], X).ravel()
    nv = float(np.mean(y0**2)) / 10 ** (snr_db / 10)
    return F, x, y0 + np.sqrt(nv) * rng.standard_normal(y0.shape), nv


def solve_all(F, y, nv, with_csbl=True):
    out = {}
    for name, meth in (("SVD-KroSBL", "svd"), ("AM-KroSBL", "am")):
        t0 = time.perf_counter()
        out[name] = (kron_sbl(F, y, method=meth, noise_var=nv).x, time.perf_counter() - t0)
    if with_csbl:
        A = np.kron(np.kron(F[0], F[1]), F[2])
        t0 = time.perf_counter()
        out["cSBL"] = (sbl(A, y, noise_var=nv, update="mackay", max_iter=150).x, time.perf_counter() - t0)
    t0 = time.perf_counter()
    out["KOMP"] = (kron_omp(F, y, 27).x, time.perf_counter() - t0)
    return out


def compute(quick: bool = False) -> dict:
    """NMSE, support recovery and time of every method over the SNR and M_1 sweeps (printed as a table)."""
    trials = 2 if quick else 4
    snrs = (5, 15, 25) if quick else (5, 10, 15, 20, 25, 30)
    m1s = (6, 10, 14) if quick else (6, 8, 10, 12, 14)
    res = {"snr": {}, "m1": {}}
    with tqdm(total=trials * (len(snrs) + len(m1s)), desc="kron-sbl") as bar:
        for sweep, values in (("snr", snrs), ("m1", m1s)):
            for v in values:
                for t in range(trials):
                    Ms, snr = ((8, 12, 15), v) if sweep == "snr" else ((v, 12, 15), 20)
                    F, x, y, nv = problem(Ms, snr, seed=1000 * t + v)
                    for name, (xh, sec) in solve_all(F, y, nv).items():
                        cell = res[sweep].setdefault(name, {})
                        d = cell.setdefault(v, {"nmse": [], "supp": [], "time": []})
                        d["nmse"].append(np.sum((xh - x) ** 2) / np.sum(x**2))
                        d["supp"].append(support_recovery(xh, x))
                        d["time"].append(sec)
                    bar.update()
    metrics: dict = {"values": {"snr": list(snrs), "m1": list(m1s)}}
    for sweep, values in (("snr", snrs), ("m1", m1s)):
        for name in METHODS:
            d = res[sweep][name]
            nm = [10 * np.log10(np.mean(d[v]["nmse"])) for v in values]
            sp = [float(np.mean(d[v]["supp"])) for v in values]
            tm = float(np.mean([np.mean(d[v]["time"]) for v in values]))
            metrics.setdefault(sweep, {})[name] = {"nmse_db": nm, "support": sp, "seconds": tm}
    print(f"\n{'method':<12}" + "".join(f"{s:>8}dB" for s in snrs) + "   support@max SNR   time/solve")
    for name in METHODS:
        m = metrics["snr"][name]
        print(f"{name:<12}" + "".join(f"{v:>10.1f}" for v in m["nmse_db"])
              + f"   {m['support'][-1]:>14.2f}   {m['seconds'] * 1e3:8.1f} ms")
    return metrics


def plot(metrics: dict, out_dir: Path) -> None:
    """NMSE vs SNR, support recovery vs SNR and NMSE vs M_1 (``kron_sbl.png``)."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    for sweep, ax_n, label in (("snr", 0, "SNR (dB)"), ("m1", 2, "M_1")):
        values = metrics["values"][sweep]
        for name in METHODS:
            m = metrics[sweep][name]
            axes[ax_n].plot(values, m["nmse_db"], "o-", label=name)
            if sweep == "snr":
                axes[1].plot(values, m["support"], "o-", label=name)
        axes[ax_n].set_xlabel(label)
        axes[ax_n].set_ylabel("NMSE (dB)")
        axes[ax_n].grid(True, alpha=0.3)
        axes[ax_n].legend()
    axes[0].set_title("NMSE vs SNR, M = (8, 12, 15)")
    axes[1].set_title("support recovery vs SNR")
    axes[1].set_xlabel("SNR (dB)")
    axes[1].set_ylabel("|S_hat ∩ S| / |S_hat ∪ S|")
    axes[1].grid(True, alpha=0.3)
    axes[2].set_title("NMSE vs M_1, SNR 20 dB")
    save(fig, Path(out_dir) / "kron_sbl.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Run both sweeps, plot them, return the metrics."""
    metrics = compute(quick)
    plot(metrics, out_dir)
    return metrics
