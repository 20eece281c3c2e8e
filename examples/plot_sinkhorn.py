r"""
Entropic optimal transport: Sinkhorn and Sinkhorn-Newton-Sparse
===============================================================

Entropic OT finds the plan :math:`P \ge 0` with marginals :math:`P\mathbf{1} = a`,
:math:`P^T\mathbf{1} = b` that minimises
:math:`\langle C, P\rangle + \varepsilon \sum_{ij} P_{ij}(\log P_{ij} - 1)`.
:func:`csbox.ot.sinkhorn` alternates the two marginal projections (linear
convergence, slow for small :math:`\varepsilon`);
:func:`csbox.ot.sinkhorn_newton_sparse` (SNS, Tang et al. 2024) runs a few
Sinkhorn steps and then Newton steps on the dual whose Hessian is sparsified to
the largest entries of :math:`P`, converging in a handful of iterations. Both
stop when the marginal error :math:`\|P\mathbf{1} - a\|_1 + \|P^T\mathbf{1} - b\|_1`
drops below ``tol``. Last, :func:`csbox.ot.wasserstein_grid` measures the
:math:`W_2` distance between two small images.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from csbox.ot import cost_matrix, sinkhorn, sinkhorn_newton_sparse, wasserstein_grid

# %%
# Two 1-D histograms
# ------------------
# Two Gaussian mixtures sampled on 300 points of [0, 1]; the ground cost is the
# squared distance (:func:`csbox.ot.cost_matrix`), whose maximum is 1, and
# :math:`\varepsilon = 3 \cdot 10^{-4}`, a sharp plan.
n = 300
t = np.linspace(0.0, 1.0, n)


def mixture(centres, widths, weights):
    h = sum(w * np.exp(-0.5 * ((t - c) / s) ** 2) for c, s, w in zip(centres, widths, weights, strict=True))
    h = h + 1e-4  # strictly positive, so every bin carries mass
    return h / h.sum()


a = mixture([0.2, 0.45], [0.05, 0.08], [1.0, 0.6])
b = mixture([0.6, 0.85], [0.1, 0.04], [0.8, 1.0])
C = cost_matrix(t[:, None], t[:, None], "sqeuclidean")
reg = 3e-4

# %%
# Both solvers to a marginal error of :math:`10^{-9}`; SNS takes its first 20
# steps as Sinkhorn (the paper's :math:`N_1`), then Newton steps.
runs = {}
for name, solve in (("Sinkhorn", lambda: sinkhorn(a, b, C, reg, tol=1e-9, max_iter=20_000, check_every=10)),
                    ("SNS", lambda: sinkhorn_newton_sparse(a, b, C, reg, n_sinkhorn=20, tol=1e-9))):
    t0 = time.perf_counter()
    res = solve()
    runs[name] = (res, time.perf_counter() - t0)
    print(f"{name:9s} {res.n_iter:6d} iterations  {runs[name][1]:6.3f} s  "
          f"marginal error {res.marginal_error:.1e}  cost <C, P> = {float(res.cost):.6f} ({res.stop_reason})")
sns = runs["SNS"][0]
print(f"SNS: {sns.n_sinkhorn} Sinkhorn + {sns.n_newton} Newton steps, Hessian kept {max(sns.nnz)} of {n * n} "
      f"entries of P; plans agree to {np.abs(sns.plan - runs['Sinkhorn'][0].plan).sum():.1e} (l1)")

# %%
# The plan concentrates near the monotone (quantile-matching) map that is
# optimal in 1-D. Sinkhorn's marginal error falls linearly; SNS's rises during
# its first Newton steps (far from the solution the sparsified Newton steps
# overshoot) and then falls super-linearly. The gain grows
# as :math:`\varepsilon` shrinks (Sinkhorn's iteration count scales like
# :math:`1/\varepsilon`), but not without limit: at this size, from 20 Sinkhorn
# steps, Newton with :math:`\varepsilon = 10^{-4}` finds no finite step
# (``stop_reason == "nan"``); ``n_sinkhorn="auto"`` detects that and hands the
# run back to Sinkhorn.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
P = np.asarray(sns.plan)
im = ax1.imshow(np.log10(P + 1e-12), origin="lower", extent=(0, 1, 0, 1), vmin=-9, cmap="magma")
ax1.plot(a / a.max() * 0.15, t, "c", label="a (source, scaled)")
ax1.plot(t, b / b.max() * 0.15, "w", label="b (target, scaled)")
ax1.set(xlabel="target position y", ylabel="source position x",
        title=f"SNS plan, eps = {reg:g}: cost {float(sns.cost):.4f}")
ax1.legend(loc="lower right", fontsize=8)
fig.colorbar(im, ax=ax1, label="log10 P(x, y)")
for name, (res, dt) in runs.items():
    h = res.history
    ax2.semilogy(np.asarray(h["iteration"]), np.asarray(h["marginal_error"]), ".-", ms=3,
                 label=f"{name}: {res.n_iter} it., {dt * 1e3:.0f} ms")
ax2.axhline(1e-9, color="gray", ls=":", lw=1)
ax2.set(xscale="log", xlabel="iteration", ylabel="marginal error (l1)", title="convergence to tol = 1e-9")
ax2.legend()
ax2.grid(which="both", alpha=0.3)

# %%
# W2 between two images
# ---------------------
# A Gaussian blob and the same blob moved by (3, 4) pixels on a 20 x 20 grid:
# transport by a translation is optimal, so :math:`W_2` is the shift's length,
# 5 pixels, up to the entropic blur and the grid's edges.
# :func:`csbox.ot.wasserstein_grid` normalises the densities and the cost
# :math:`\|i - j\|^2` (grid units) and reports the distance in pixels.
g = np.arange(20.0)
yy, xx = np.meshgrid(g, g, indexing="ij")
blob = np.exp(-((yy - 7.0) ** 2 + (xx - 6.0) ** 2) / (2 * 2.0**2))
moved = np.exp(-((yy - 10.0) ** 2 + (xx - 10.0) ** 2) / (2 * 2.0**2))
t0 = time.perf_counter()
w = wasserstein_grid(blob, moved, p=2, reg=1e-3)
dt = time.perf_counter() - t0
print(f"wasserstein_grid W2 = {w.distance:.3f} pixels (shift length 5), {w.n_iter} iterations, "
      f"{dt:.2f} s, marginal error {w.marginal_error:.1e}")

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
for a_, im_, title in ((ax[0], blob, "mu"), (ax[1], moved, "nu: mu shifted by (3, 4)")):
    h = a_.imshow(im_ / im_.sum(), cmap="viridis")
    a_.set(title=title, xlabel="x (pixels)", ylabel="y (pixels)")
fig.colorbar(h, ax=ax.tolist(), label="mass per pixel")
fig.suptitle(f"W2 = {w.distance:.3f} pixels (wasserstein_grid, reg = 1e-3)")

# %%
# See also: the optimal transport page of the user guide, and the heavy
# reproduction ``csbox demo ot`` (the paper's random assignment with n = 500
# and W1 / W2 between 28 x 28 images at eta = 1200).
