r"""
Orthogonal dictionary learning, online and batch
================================================

Signals ``y = D0 x`` with an unknown orthogonal dictionary ``D0`` and sparse
codes ``x``: for an orthogonal ``D`` the codes ``D^T y`` are sparsest when their
:math:`\ell_p` norm (:math:`p > 2`) is largest, so both learners maximise
:math:`\frac{1}{T}\sum_t \|D^T y_t\|_p^p`.
:class:`csbox.dictionary.OnlineOrthogonalDictionary` does it by stochastic
Frank-Wolfe over the spectral-norm ball, one mini-batch at a time with
:math:`O(n^2)` memory; :func:`csbox.dictionary.orthogonal_dictionary_learning` is
the batch :math:`\ell_4` "matching, stretching and projection" iteration.
Recovery is measured by :func:`csbox.dictionary.dictionary_recovery`,
:math:`\|D_0^T D\|_4^4 / n`, which is 1 exactly when ``D`` equals ``D0`` up to a
signed permutation of its atoms.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from csbox.dictionary import (
    OnlineOrthogonalDictionary,
    assemble_patches,
    dct_dictionary,
    dictionary_recovery,
    extract_patches,
    orthogonal_dictionary_learning,
    sparse_code,
)
from csbox.metrics import psnr
from csbox.phantoms import camera

# %%
# A planted dictionary
# --------------------
# ``D0`` is a random 32 x 32 orthogonal matrix; the codes are
# Bernoulli(0.3)-Gaussian (about 10 of 32 entries non-zero). Samples sit in the
# rows of ``Y`` (scikit-learn's layout).
rng = np.random.default_rng(0)
n, theta, T = 32, 0.3, 20000
D0, _ = np.linalg.qr(rng.standard_normal((n, n)))
X = rng.standard_normal((T, n)) * (rng.random((T, n)) < theta)
Y = X @ D0.T

# %%
# Online Frank-Wolfe: stream the samples in mini-batches of 50 with
# :meth:`~csbox.dictionary.OnlineOrthogonalDictionary.partial_fit` and track the
# recovery after every step. Nothing but ``D`` and the tracked gradient is kept.
fw = OnlineOrthogonalDictionary(n, p=3, seed=1)
batch = 50
seen, rec_fw = [], []
t0 = time.perf_counter()
for i in range(0, T, batch):
    fw.partial_fit(Y[i : i + batch])
    seen.append(i + batch)
    rec_fw.append(dictionary_recovery(D0, fw.dictionary_))
t_fw = time.perf_counter() - t0

# %%
# Batch MSP on all samples at once; a callback records the recovery at each
# iteration (``state.x`` is the current dictionary).
rec_msp = []
t0 = time.perf_counter()
msp = orthogonal_dictionary_learning(
    Y, max_iter=30, tol=1e-10, seed=1, check_every=1,
    callback=lambda s: rec_msp.append(dictionary_recovery(D0, s.x)),
)
t_msp = time.perf_counter() - t0
print(f"online FW : recovery {rec_fw[-1]:.4f} after {T} samples ({len(rec_fw)} steps, {t_fw:.2f} s)")
print(f"batch MSP : recovery {dictionary_recovery(D0, msp.x):.4f} after {msp.n_iter} iterations "
      f"({msp.stop_reason}, {t_msp:.2f} s)")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax1.plot(seen, rec_fw)
ax1.set(xlabel="samples seen", ylabel=r"$\|D_0^T D\|_4^4 / n$", ylim=(0, 1.02),
        title=f"online Frank-Wolfe (p = 3): {rec_fw[-1]:.3f}")
ax1.grid(alpha=0.3)
ax2.plot(np.arange(1, len(rec_msp) + 1), rec_msp, "o-", ms=3)
ax2.set(xlabel="iteration", ylabel=r"$\|D_0^T D\|_4^4 / n$", ylim=(0, 1.02),
        title=f"batch l4 MSP on {T} samples: {rec_msp[-1]:.3f}")
ax2.grid(alpha=0.3)

# %%
# Image patches
# -------------
# With no planted truth, the learned dictionary is judged by what it does: 8 x 8
# patches of the cameraman photograph (:func:`csbox.phantoms.camera`), cut by
# :func:`csbox.dictionary.extract_patches`, three epochs of
# :meth:`~csbox.dictionary.OnlineOrthogonalDictionary.fit`, then the orthogonal
# polar factor (``project=True``). Each patch of a noisy crop is coded with 4
# atoms by :func:`csbox.dictionary.sparse_code` (OMP) and the patches are averaged
# back; the fixed 2-D DCT (:func:`csbox.dictionary.dct_dictionary`) is the
# baseline.
img = camera(256)
train, _ = extract_patches(img, 8, 4)
t0 = time.perf_counter()
learned = OnlineOrthogonalDictionary(64, p=3, batch_size=100, n_epochs=3, project=True, seed=0).fit(train)
t_fit = time.perf_counter() - t0

clean = img[64:192, 64:192]
sigma = 20 / 255
noisy = clean + sigma * rng.standard_normal(clean.shape)
P, pos = extract_patches(noisy, 8, 2)
denoised = {}
for name, D in (("learned", learned.dictionary_), ("2-D DCT", dct_dictionary(8))):
    codes = sparse_code(D, P, n_nonzero=4)
    denoised[name] = assemble_patches(codes @ D.T, pos, clean.shape, 8)
    p = psnr(denoised[name], clean, peak=1.0, magnitude=False)
    print(f"{name:8s} dictionary: denoised PSNR {p:.2f} dB")
print(f"noisy input: PSNR {psnr(noisy, clean, peak=1.0, magnitude=False):.2f} dB; "
      f"fit on {len(train)} patches in {t_fit:.2f} s ({learned.n_iter_} steps)")

# %%
# The learned atoms (each scaled to its own range): a flat (DC) atom, smooth
# ramps and oriented edges that carry most of the patch energy, and many
# high-frequency, noise-like atoms that 4000 patches and 120 steps leave
# unsettled. The 4-sparse codes use the former, hence the small gain over the
# DCT.
grid = np.full((8 * 9 + 1, 8 * 9 + 1), np.nan)
for a in range(64):
    r, c = divmod(a, 8)
    atom = learned.dictionary_[:, a].reshape(8, 8)
    grid[1 + 9 * r : 9 + 9 * r, 1 + 9 * c : 9 + 9 * c] = atom / np.abs(atom).max()
fig, ax = plt.subplots(1, 3, figsize=(13, 4.3), layout="constrained")
ax[0].imshow(grid, cmap="gray")
ax[0].set(title="64 learned 8x8 atoms", xticks=[], yticks=[])
for a, (name, im) in zip(ax[1:], denoised.items(), strict=True):
    h = a.imshow(im, cmap="gray", vmin=0, vmax=1)
    a.set(title=f"{name}, 4-sparse: {psnr(im, clean, peak=1.0, magnitude=False):.2f} dB",
          xlabel="x (pixels)", ylabel="y (pixels)")
fig.colorbar(h, ax=ax[1:].tolist(), label="intensity")

# %%
# See also: the dictionary learning page of the user guide, and the heavy
# reproduction ``csbox demo dictionary`` (n = 50, 40 000 streamed samples,
# scikit-learn's ``MiniBatchDictionaryLearning`` alongside, ECG windows).
