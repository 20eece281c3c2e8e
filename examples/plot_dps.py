r"""
Learned k-space sub-sampling with Deep Probabilistic Sub-sampling
=================================================================

Which :math:`M` of :math:`N` Fourier samples should a scanner take? DPS
(Huijben et al. 2020) learns it: :class:`csbox.sampling.dps.DPSSampler` holds
logits :math:`\phi` over the :math:`N` candidates and draws :math:`M` of them
without replacement by Gumbel-max,
:math:`a_m = \mathrm{onehot}(\arg\max_{n \notin a_{<m}} \phi_n + g_{mn})`, with
straight-through gradients through a tempered softmax, so the mask trains end to
end with a recovery network, here :class:`csbox.sampling.unrolled.UnrolledISTA`
(unrolled ISTA on :math:`y = \mathrm{mask} \odot F x` with csbox's FFT on torch
tensors, learned steps and thresholds and a small CNN proximal step).
:func:`csbox.sampling.dps.train_dps` trains both; the same model trained with a
uniform random mask of the same budget is the baseline.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from csbox.phantoms import lines_and_circles
from csbox.sampling import uniform_random

try:
    import torch
except ImportError:  # DPS needs the optional torch dependency (csbox[learn])
    torch = None
    print("torch is not installed: this example needs it (pip install 'csbox[learn]'); skipping the training")

# %%
# Data and budget
# ---------------
# The paper's synthetic "lines and circles" images (:func:`csbox.phantoms.lines_and_circles`),
# here 16 x 16 so that training takes seconds on a CPU, and :math:`M = 32` of
# the 256 k-space points (8x acceleration). 300 training and 100 held-out
# images.
size, M = 16, 32
train = lines_and_circles(300, size, seed=0)
val = lines_and_circles(100, size, seed=1)
random_mask = uniform_random((size, size), M, seed=0)

# %%
# Training
# --------
# Six epochs of Adam (``lr = 1e-3``, ten times that for the logits), the
# temperature annealed from 5 to 0.5. Both models have the same architecture
# and training; only the mask differs. Torch runs single-threaded: for tensors
# this small its thread pool costs more than it gains.
if torch is not None:
    from csbox.sampling.dps import DPSSampler, evaluate, train_dps
    from csbox.sampling.unrolled import UnrolledISTA

    torch.set_num_threads(1)
    common = {"epochs": 6, "batch_size": 32, "lr": 1e-3, "logit_lr_mult": 10.0, "seed": 0, "val": val}
    t0 = time.perf_counter()
    sampler = DPSSampler(size * size, M, shape=(size, size), seed=0)
    torch.manual_seed(0)  # the CNN's initial weights come from torch's global generator
    model_dps = UnrolledISTA((size, size), n_iter=4, cnn_width=8)
    hist_dps = train_dps(model_dps, train, sampler=sampler, **common)
    t_dps = time.perf_counter() - t0
    t0 = time.perf_counter()
    torch.manual_seed(0)  # the same initial weights as the DPS model
    model_rand = UnrolledISTA((size, size), n_iter=4, cnn_width=8)
    hist_rand = train_dps(model_rand, train, mask=random_mask, **common)
    t_rand = time.perf_counter() - t0
    scores = {"DPS (learned)": evaluate(model_dps, val, sampler.mask_),
              "uniform random": evaluate(model_rand, val, random_mask)}
    for name, sc in scores.items():
        print(f"{name:15s} held-out NMSE {sc['nmse_db']:6.2f} dB  PSNR {sc['psnr']:5.2f} dB")
    print(f"training: DPS {t_dps:.1f} s, random mask {t_rand:.1f} s; the learned mask keeps "
          f"{sampler.mask_.sum()} points, {np.sum(sampler.mask_ & random_mask)} shared with the random mask")

# %%
# At this size and budget the learned mask gains about 1.9 dB of held-out NMSE
# (1.8 dB PSNR) over the random one, after seconds of training: a real but
# modest gap, and absolute quality is low for both (8x on 16 x 16 images). The
# per-epoch validation curve of DPS is noisier, since its mask changes while it
# trains. The heavy demo (32 x 32, longer training,
# variable-density and low-pass masks too) gives the full comparison.
#
# The learned distribution :math:`\mathrm{softmax}(\phi)` concentrates on a
# disk around the centre of k-space, where these images carry their energy:
# after seconds of training DPS has found a low-pass mask (the single centre
# point is, curiously, not among the 32 kept). So the gain over the random mask
# here is mostly that of sampling the centre; ``csbox demo dps-fourier``
# compares the learned mask with low-pass and variable-density masks directly.
if torch is not None:
    dist = sampler.distributions().detach().numpy().reshape(size, size)
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.8), layout="constrained")
    h = ax[0].imshow(dist, cmap="magma")
    ax[0].set(title="learned distribution softmax(phi)", xlabel="k_x (index)", ylabel="k_y (index)")
    fig.colorbar(h, ax=ax[0], label="probability")
    for a, (name, m) in zip(ax[1:3], (("DPS (learned)", sampler.mask_), ("uniform random", random_mask)),
                            strict=True):
        a.imshow(m, cmap="gray")
        a.set(title=f"{name}: NMSE {scores[name]['nmse_db']:.1f} dB", xlabel="k_x (index)",
              ylabel="k_y (index)")
    epochs = np.arange(1, len(hist_dps["loss"]) + 1)
    ax[3].plot(epochs, hist_dps["val_nmse_db"], "o-", label="DPS, held-out NMSE")
    ax[3].plot(epochs, hist_rand["val_nmse_db"], "s-", label="random mask, held-out NMSE")
    ax[3].set(xlabel="epoch", ylabel="NMSE (dB)", title="validation during training")
    ax[3].legend()
    ax[3].grid(alpha=0.3)

# %%
# One held-out image reconstructed by each trained model.
if torch is not None:
    from csbox.operators import FFT

    F = FFT((size, size), centered=True)
    x = torch.as_tensor(val[:1], dtype=torch.complex64)
    fig, ax = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
    ax[0].imshow(val[0], cmap="gray", vmin=0, vmax=1)
    ax[0].set(title="ground truth", xlabel="x (pixels)", ylabel="y (pixels)")
    for a, (name, model, m) in zip(ax[1:], (("DPS (learned)", model_dps, sampler.mask_),
                                            ("uniform random", model_rand, random_mask)), strict=True):
        mt = torch.as_tensor(m[None].astype(np.float32))
        with torch.no_grad():
            rec = model(mt.to(torch.complex64) * (F @ x), mt).abs().numpy()[0]
        h = a.imshow(rec, cmap="gray", vmin=0, vmax=1)
        a.set(title=f"{name} + unrolled ISTA", xlabel="x (pixels)", ylabel="y (pixels)")
    fig.colorbar(h, ax=ax.tolist(), label="intensity")

# %%
# See also: the learned sampling (DPS) page of the user guide, and the heavy
# reproductions ``csbox demo dps-fourier`` (32 x 32 k-space at 8x against
# random, variable-density and low-pass masks) and ``csbox demo dps-ultrasound``
# (learning which ultrasound channels to keep).
