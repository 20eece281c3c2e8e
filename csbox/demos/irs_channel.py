"""Demo ``irs-channel``: IRS-MIMO uplink channel estimation by Kronecker-structured SBL (He and Joseph).

NMSE (dB, of the linear NMSE averaged over trials, as the authors report it)
against SNR {4, 8, 12, 16, 20} dB for SVD-KroSBL, AM-KroSBL, PC-KroSBL (beta =
0.8 on the IRS and BS factors), classic SBL on the formed 288 x 5832 dictionary
(EM, the paper's baseline, and MacKay's fixed-point update) and oracle least
squares on the true support, with run time per method. The linear mean is
dominated by the worst trials, so the table also prints the median and the
number of trials worse than the all-zero estimate (NMSE > 0 dB).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..comms import irs_channel
from ..sbl import kron_sbl, sbl
from ._plot import plt, save

NAME = "irs-channel"
DESCRIPTION = "IRS-MIMO channel estimation: SVD/AM/PC-KroSBL vs classic SBL vs oracle LS, NMSE vs SNR"

SNRS = (4, 8, 12, 16, 20)
PAPER = {  # the authors' published curves (NMSE dB), for the printed comparison
    "SVD-KroSBL": (-2.2, -5.2, -7.1, -9.1, -9.8),
    "AM-KroSBL": (-1.5, -4.9, -7.1, -8.6, -11.6),
    "PC-KroSBL (0.8)": (-5.1, -8.8, -13.1, -20.5, -25.3),
    "cSBL": (-0.2, -1.4, -3.3, -6.4, -8.4),
}


def methods(ch, y, nv):
    """Estimates of every method on one noisy realisation: name -> (x_hat, seconds)."""
    F = ch.factors
    out = {}
    for name, kw in (
        ("SVD-KroSBL", {"method": "svd"}),
        ("AM-KroSBL", {"method": "am"}),
        ("PC-KroSBL (0.8)", {"method": "am", "coupling": (0.8, None, 0.8), "prune": (1e-2, 1e-1, 1e-2)}),
    ):
        t0 = time.perf_counter()
        out[name] = (kron_sbl(F, y, noise_var=nv, **kw).x, time.perf_counter() - t0)
    A = np.kron(np.kron(F[0], F[1]), F[2])
    for name, update in (("cSBL", "em"), ("cSBL (MacKay)", "mackay")):
        t0 = time.perf_counter()
        res = sbl(A, y, noise_var=nv, max_iter=150, prune=1e-3, update=update)
        out[name] = (res.x, time.perf_counter() - t0)
    S = ch.support
    t0 = time.perf_counter()
    xs = np.zeros(A.shape[1], dtype=complex)
    xs[S] = np.linalg.lstsq(A[:, S], y, rcond=None)[0]
    out["oracle LS"] = (xs, time.perf_counter() - t0)
    return out


def compute(quick: bool = False) -> dict:
    """Average each method's channel NMSE and run time over trials; print the table next to the paper's.

    Returns ``{method: {"nmse_db": [per SNR, of the mean linear NMSE], "median_db": [per SNR],
    "n_worse_than_zero": [per SNR], "seconds": mean, "seconds_per_snr": [...], "trials": n}}``.
    """
    trials = 3 if quick else 12
    nmse: dict[str, np.ndarray] = {}
    times: dict[str, np.ndarray] = {}
    with tqdm(total=trials * len(SNRS), desc="irs-channel") as bar:
        for t in range(trials):
            ch = irs_channel(seed=t)
            rng = np.random.default_rng(1000 + t)
            for j, snr in enumerate(SNRS):
                y, nv = ch.noisy(snr, rng)
                for name, (x, sec) in methods(ch, y, nv).items():
                    nmse.setdefault(name, np.zeros((trials, len(SNRS))))[t, j] = ch.nmse(x)
                    times.setdefault(name, np.zeros((trials, len(SNRS))))[t, j] = sec
                bar.update()
    metrics = {}
    print(f"\n{'method':<18}" + "".join(f"{s:>8} dB" for s in SNRS) + "   time/solve   (paper)"
          + "   [median dB; trials > 0 dB]")
    for name in nmse:
        db = 10 * np.log10(nmse[name].mean(axis=0))
        med = 10 * np.log10(np.median(nmse[name], axis=0))
        bad = (nmse[name] > 1.0).sum(axis=0)
        sec = float(times[name].mean())
        metrics[name] = {"nmse_db": db.tolist(), "median_db": med.tolist(), "n_worse_than_zero": bad.tolist(),
                         "seconds": sec, "seconds_per_snr": times[name].mean(axis=0).tolist(),
                         "trials": trials}
        paper = PAPER.get(name)
        print(f"{name:<18}" + "".join(f"{v:>11.1f}" for v in db) + f"   {sec * 1e3:8.1f} ms   "
              + (" / ".join(f"{v:.1f}" for v in paper) if paper else "")
              + "   [" + " ".join(f"{v:.1f}" for v in med) + "; " + " ".join(str(int(b)) for b in bad) + "]")
    return metrics


def plot(metrics: dict, out_dir: Path) -> None:
    """NMSE and run time against SNR, one curve per method (``irs_channel.png``)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    for name, m in metrics.items():
        ax1.plot(SNRS, m["nmse_db"], "o-", label=name)
        ax2.semilogy(SNRS, m["seconds_per_snr"], "o-", label=name)
    trials = next(iter(metrics.values()))["trials"]
    ax1.set_xlabel("SNR (dB)")
    ax1.set_ylabel("channel NMSE (dB)")
    ax1.set_title(f"IRS-MIMO channel estimation, {trials} trials")
    ax1.grid(True, alpha=0.3)
    ax1.legend()
    ax2.set_xlabel("SNR (dB)")
    ax2.set_ylabel("run time per estimate (s)")
    ax2.set_title("run time (NumPy, 2 cores)")
    ax2.grid(True, which="both", alpha=0.3)
    save(fig, Path(out_dir) / "irs_channel.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute the table, plot NMSE and time against SNR, return the metrics."""
    metrics = compute(quick)
    plot(metrics, out_dir)
    return metrics
