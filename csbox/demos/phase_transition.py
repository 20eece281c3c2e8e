"""Demo ``phase-transition``: empirical recovery probability of l1, hard thresholding and CEL0.

For a Gaussian ``A`` (``m x n``, ``n = 200``, entries ``N(0, 1/m)``) and a
``k``-sparse ``x`` with ``N(0, 1)`` non-zeros, ``y = A x`` is solved by FISTA
with a small ``lam`` (l1: ``1e-4``; hard and CEL0: continuation from ``lam
= 0.5`` down to ``1e-4`` in ten warm-started stages) and a tight tolerance, for
each point of a grid over
``(delta = m/n, rho = k/m)``; a trial succeeds when ``||x_hat - x|| / ||x|| <
1e-2``. The Donoho-Tanner curve from the statistical dimension of the l1
descent cone (:func:`csbox.theory.l1_phase_transition`) is drawn on top.

Each grid cell draws one ``A`` and solves all its trials as one batch of
right-hand sides (FISTA solves the leading axis together).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..operators import MatrixOperator
from ..penalties import CEL0, L0
from ..solvers import fista
from ..theory import l1_phase_transition
from ._plot import plt, save

NAME = "phase-transition"
DESCRIPTION = "l1 vs hard-threshold vs CEL0 recovery over (m/n, k/m) with the Donoho-Tanner curve"

METHODS = ("l1 (soft)", "l0 (hard)", "CEL0")


def cell(n: int, m: int, k: int, trials: int, seed: int) -> dict[str, float]:
    """Success rate of each method for one ``(m, k)``."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    X = np.zeros((trials, n))
    for t in range(trials):
        X[t, rng.choice(n, k, replace=False)] = rng.standard_normal(k)
    Y = X @ A.T
    op = MatrixOperator(A)
    g = 0.99 / op.lipschitz()
    common = {"tol": 1e-9, "check_every": 25, "step": g}
    out = {}
    l1 = fista(op, Y, 1e-4, max_iter=4000, **common)

    def continuation(prox: object) -> object:
        # non-convex penalties from x = 0 at a small lam stall in dense local minima:
        # decrease lam geometrically from 0.5 to 1e-4, warm-starting each stage
        x = None
        for lam in np.geomspace(0.5, 1e-4, 10):
            res = fista(op, Y, float(lam), penalty=prox, x0=x, max_iter=400, **common)
            x = res.x
        return res

    hard = continuation(L0())
    cel0 = continuation(CEL0(col_norms=op.column_norms()))
    for name, res in zip(METHODS, (l1, hard, cel0), strict=True):
        err = np.linalg.norm(res.x - X, axis=1) / np.maximum(np.linalg.norm(X, axis=1), 1e-300)
        out[name] = float(np.mean(err < 1e-2))
    return out


def run(out_dir: Path, quick: bool = False) -> dict:
    """Sweep the grid, plot one panel per method with the theoretical curve, return the rates."""
    out_dir = Path(out_dir)
    n = 200
    deltas = np.linspace(0.1, 0.9, 5 if quick else 9)
    rhos = np.linspace(0.05, 0.95, 6 if quick else 13)
    trials = 6 if quick else 12
    rates = {name: np.zeros((rhos.size, deltas.size)) for name in METHODS}
    with tqdm(total=deltas.size * rhos.size, desc="phase transition") as bar:
        for j, d in enumerate(deltas):
            m = round(d * n)
            for i, r in enumerate(rhos):
                k = max(1, round(r * m))
                res = cell(n, m, k, trials, seed=1000 * j + i)
                for name in METHODS:
                    rates[name][i, j] = res[name]
                bar.update()
    dt_delta, dt_rho = l1_phase_transition()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained", sharey=True)
    metrics: dict = {"delta": deltas.tolist(), "rho": rhos.tolist()}
    for ax, name in zip(axes, METHODS, strict=True):
        im = ax.pcolormesh(deltas, rhos, rates[name], shading="nearest", cmap="viridis", vmin=0, vmax=1)
        ax.plot(dt_delta, dt_rho, "r-", lw=2, label="l1 theory (Donoho-Tanner)")
        area = float(rates[name].mean())
        ax.set_title(f"{name}: mean success {area:.2f}")
        ax.set_xlabel("delta = m / n")
        ax.set_xlim(deltas[0] - 0.05, deltas[-1] + 0.05)
        ax.set_ylim(0, 1)
        metrics[name] = {"success": rates[name].tolist(), "mean_success": area}
        print(f"{name:<10} mean success over the grid {area:.3f}")
    axes[0].set_ylabel("rho = k / m")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.colorbar(im, ax=axes, label="success probability (rel. error < 1e-2)")
    fig.suptitle(f"Empirical phase transitions, Gaussian A, n = {n}, {trials} trials per cell")
    save(fig, out_dir / "phase_transition.png")
    # where does each non-convex threshold beat l1?
    for name in METHODS[1:]:
        gain = rates[name] - rates[METHODS[0]]
        metrics[name]["cells_better_than_l1"] = int(np.sum(gain > 0.25))
        metrics[name]["cells_worse_than_l1"] = int(np.sum(gain < -0.25))
        print(f"{name:<10} beats l1 (by > 25 points) in {int(np.sum(gain > 0.25))} cells, "
              f"loses in {int(np.sum(gain < -0.25))}")
    return metrics
