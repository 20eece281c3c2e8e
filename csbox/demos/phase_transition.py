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
right-hand sides (FISTA solves the leading axis together). The cells run
through :func:`csbox.distributed.sweep`: in this process by default, or on a
Dask cluster with ``csbox demo phase-transition --scheduler local:N`` (or a
scheduler address).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from ..operators import MatrixOperator
from ..penalties import CEL0, L0
from ..solvers import fista
from ..theory import l1_phase_transition
from ._plot import plt, save

NAME = "phase-transition"
DESCRIPTION = "l1 vs hard-threshold vs CEL0 recovery over (m/n, k/m) with the Donoho-Tanner curve"

METHODS = ("l1 (soft)", "l0 (hard)", "CEL0")


def cell(
    n: int, m: int, k: int, trials: int, seed: int, max_iter: int = 4000, stage_iter: int = 400
) -> dict[str, float]:
    """Success rate of each method for one ``(m, k)`` (``max_iter`` for l1, ``stage_iter`` per stage)."""
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
    l1 = fista(op, Y, 1e-4, max_iter=max_iter, **common)

    def continuation(prox: object) -> object:
        # non-convex penalties from x = 0 at a small lam stall in dense local minima:
        # decrease lam geometrically from 0.5 to 1e-4, warm-starting each stage
        x = None
        for lam in np.geomspace(0.5, 1e-4, 10):
            res = fista(op, Y, float(lam), penalty=prox, x0=x, max_iter=stage_iter, **common)
            x = res.x
        return res

    hard = continuation(L0())
    cel0 = continuation(CEL0(col_norms=op.column_norms()))
    for name, res in zip(METHODS, (l1, hard, cel0), strict=True):
        err = np.linalg.norm(res.x - X, axis=1) / np.maximum(np.linalg.norm(X, axis=1), 1e-300)
        out[name] = float(np.mean(err < 1e-2))
    return out


def cell_at(
    delta: float, rho: float, *, n: int, trials: int, deltas: list, rhos: list, iters: tuple[int, int]
) -> dict[str, float]:
    """:func:`cell` at grid point ``(delta, rho)``, seeded by its grid position (one task of the sweep)."""
    m = round(delta * n)
    k = max(1, round(rho * m))
    return cell(n, m, k, trials, seed=1000 * deltas.index(delta) + rhos.index(rho),
                max_iter=iters[0], stage_iter=iters[1])


def compute(quick: bool = False, scheduler: str | None = None) -> dict:
    """Success rates over the ``(delta, rho)`` grid, run through :func:`csbox.distributed.sweep`.

    Parameters
    ----------
    quick : bool
        A 4 x 5 grid, ``n = 100``, 4 trials per cell, iteration caps 800 (l1) and
        100 per continuation stage (seconds) instead of 9 x 13, ``n = 200``, 12
        trials, 4000 and 400.
    scheduler : str, optional
        ``None`` runs in this process; ``"local:N"`` on a ``LocalCluster`` of ``N``
        processes; any other string is a Dask scheduler address (``tcp://host:8786``).
    """
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address, 'local:N' or None, got {type(scheduler).__name__}")
    from ..distributed import sweep

    n = 100 if quick else 200
    deltas = np.linspace(0.1, 0.9, 4 if quick else 9).tolist()
    rhos = np.linspace(0.05, 0.95, 5 if quick else 13).tolist()
    trials = 4 if quick else 12
    iters = (800, 100) if quick else (4000, 400)
    task = partial(cell_at, n=n, trials=trials, deltas=deltas, rhos=rhos, iters=iters)
    rows = sweep(task, {"delta": deltas, "rho": rhos}, client=scheduler or "serial")
    # rows come in grid order, rho fastest: a (delta, rho) table, transposed to rho-by-delta images
    rates = {name: np.array([r[name] for r in rows]).reshape(len(deltas), len(rhos)).T.tolist()
             for name in METHODS}
    return {"n": n, "trials": trials, "delta": deltas, "rho": rhos, "rates": rates}


def plot(data: dict, out_dir: Path) -> dict:
    """One panel per method with the theoretical curve; returns the summary metrics."""
    out_dir = Path(out_dir)
    deltas, rhos = np.asarray(data["delta"]), np.asarray(data["rho"])
    rates = {name: np.asarray(data["rates"][name]) for name in METHODS}
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
    fig.suptitle(f"Empirical phase transitions, Gaussian A, n = {data['n']}, "
                 f"{data['trials']} trials per cell")
    save(fig, out_dir / "phase_transition.png")
    # where does each non-convex threshold beat l1?
    for name in METHODS[1:]:
        gain = rates[name] - rates[METHODS[0]]
        metrics[name]["cells_better_than_l1"] = int(np.sum(gain > 0.25))
        metrics[name]["cells_worse_than_l1"] = int(np.sum(gain < -0.25))
        print(f"{name:<10} beats l1 (by > 25 points) in {int(np.sum(gain > 0.25))} cells, "
              f"loses in {int(np.sum(gain < -0.25))}")
    return metrics


def run(out_dir: Path, quick: bool = False, scheduler: str | None = None) -> dict:
    """Sweep the grid (on a Dask cluster with ``scheduler``), plot it, return the rates."""
    return plot(compute(quick, scheduler), out_dir)
