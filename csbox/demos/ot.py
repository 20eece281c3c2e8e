"""Demo ``ot``: Sinkhorn-Newton-Sparse vs Sinkhorn on the paper's Table 1 cases (CPU).

(a) random assignment, ``n = 500``, ``C ~ U[0, 1]``, uniform marginals, ``eta
= 1/reg = 1200``; (b) W2 and (c) W1 between two 28x28 densities cut from the
cameraman photograph (MNIST is not available offline), grid costs normalised
to maximum 1, ``eta = 1200``. For each: iterations and wall time to marginal
error 1e-9 (SNS with ``N1 = 20`` Sinkhorn steps for (a), (b) and 700 for the
W1 case, as in the paper), and the marginal error against iteration and time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..ot import grid_cost, sinkhorn, sinkhorn_newton_sparse
from ..phantoms import camera
from ._plot import plt, save, strip_arrays

NAME = "ot"
DESCRIPTION = "entropic OT: Sinkhorn-Newton-Sparse vs log-domain Sinkhorn (random assignment, W2, W1)"

ETA = 1200.0


def _densities(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two n x n densities: 2x2-averaged crops of the cameraman (his coat and the sky)."""
    img = camera()
    crops = [img[200 : 200 + 2 * n, 180 : 180 + 2 * n], img[40 : 40 + 2 * n, 300 : 300 + 2 * n]]
    out = []
    for c in crops:
        d = c.reshape(n, 2, n, 2).mean(axis=(1, 3)) + 1e-3  # strictly positive, as image intensities
        out.append(d / d.sum())
    return out[0], out[1]


def cases(quick: bool) -> dict[str, tuple]:
    """``name -> (a, b, C, n_sinkhorn)``."""
    rng = np.random.default_rng(0)
    n = 200 if quick else 500
    a = np.full(n, 1.0 / n)
    C = rng.random((n, n))
    side = 14 if quick else 28
    mu, nu = _densities(side)
    out = {f"random assignment n={n}": (a, a.copy(), C, 20)}
    for p, label, n1 in ((2, "W2", 20), (1, "W1", 700)):
        G = grid_cost((side, side), p=p)
        out[f"{label} cameraman {side}x{side}"] = (mu.ravel(), nu.ravel(), G / G.max(), n1)
    return out


def compute(quick: bool = False) -> dict:
    """Run both solvers on each case and print the table; metrics and the convergence curves."""
    reg = 1.0 / ETA
    metrics: dict = {}
    max_sinkhorn = 20_000 if quick else 100_000
    print(f"{'case':<28}{'method':<10}{'iterations':>12}{'time s':>10}{'marg. err':>11}{'cost':>14}")
    for name, (a, b, C, n1) in cases(quick).items():
        t0 = time.perf_counter()
        sns = sinkhorn_newton_sparse(a, b, C, reg, n_sinkhorn=n1, tol=1e-9)
        t_sns = time.perf_counter() - t0
        t0 = time.perf_counter()
        sk = sinkhorn(a, b, C, reg, tol=1e-9, max_iter=max_sinkhorn, check_every=10)
        t_sk = time.perf_counter() - t0
        metrics[name] = {
            "sns": {"iterations": sns.n_iter, "sinkhorn": sns.n_sinkhorn, "newton": sns.n_newton,
                    "time_s": t_sns, "marginal_error": sns.marginal_error, "cost": float(sns.cost),
                    "converged": sns.converged, "max_nnz_per_row": max(sns.nnz, default=0) / len(a)},
            "sinkhorn": {"iterations": sk.n_iter, "time_s": t_sk, "marginal_error": sk.marginal_error,
                         "cost": float(sk.cost), "converged": sk.converged},
        }
        for label, r, t in (("SNS", sns, t_sns), ("Sinkhorn", sk, t_sk)):
            it = f"{r.n_iter}" + (f" ({r.n_sinkhorn}+{r.n_newton})" if label == "SNS" else "")
            flag = "" if r.converged else " (cap)"
            print(f"{name:<28}{label:<10}{it + flag:>12}{t:>10.2f}{r.marginal_error:>11.1e}"
                  f"{float(r.cost):>14.8f}")
            key = "sns" if label == "SNS" else "sinkhorn"
            metrics[name][key]["history"] = {h: np.asarray(r.history[h], dtype=float)
                                             for h in ("iteration", "time", "marginal_error")}
    return metrics


def plot(data: dict, out_dir: Path) -> None:
    """Marginal error against iteration and wall time, per case (``ot_convergence.png``)."""
    fig, axes = plt.subplots(2, len(data), figsize=(5.2 * len(data), 8), layout="constrained")
    for j, (name, m) in enumerate(data.items()):
        for ax_i, key in ((0, "iteration"), (1, "time")):
            ax = axes[ax_i, j]
            for label, k in (("SNS", "sns"), ("Sinkhorn", "sinkhorn")):
                h = m[k]["history"]
                ax.semilogy(h[key], h["marginal_error"], label=label)
            ax.axhline(1e-9, color="gray", ls=":", lw=1)
            ax.set_xlabel("iteration" if key == "iteration" else "wall time (s)")
            ax.set_ylabel("marginal error ||P1 - a||_1 + ||P^T 1 - b||_1")
            if key == "iteration":
                ax.set_xscale("log")
            ax.set_title(f"{name}, eta = {ETA:.0f}", fontsize=10)
            ax.legend()
            ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Sinkhorn-Newton-Sparse vs log-domain Sinkhorn (csbox, NumPy, 2 cores)")
    save(fig, Path(out_dir) / "ot_convergence.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Run both solvers on each case, print the table, plot the convergence curves."""
    data = compute(quick)
    plot(data, out_dir)
    return strip_arrays(data)
