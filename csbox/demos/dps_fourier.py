"""Demo ``dps-fourier``: learned k-space sub-sampling (DPS) vs fixed masks, with the same recovery model.

The paper's in-silico experiment: "lines and circles" images, 32x32 k-space
points, here at 8x (M = 128 of 1024; the paper's 32x leaves too little for
any mask on a CPU budget). Masks: learned by DPS (top-K Gumbel, trained jointly
with the model), uniform random, variable density (Gaussian) and low-pass (the
M points nearest DC). For each, the same unrolled-ISTA model with a small CNN
proximal step (csbox FFT on torch tensors) is trained from scratch; held-out
NMSE and PSNR are reported, and the learned distribution is shown. The masks
are also used with plain csbox FISTA (l1 on db2 wavelets, no network) to show
that the learned mask itself carries value.

CPU budget: Adam at lr 1e-3 (the paper's 1e-4 needs far more epochs) with a
10x multiplier for the logits, temperature 5 -> 0.5, entropy weight 2e-4.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._plot import plt, save

NAME = "dps-fourier"
DESCRIPTION = "Deep Probabilistic Sub-sampling of 32x32 k-space vs random / VD / low-pass masks"


def lines_and_circles(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``n`` images of 1-3 line segments and 1-3 rings, intensities in [0.5, 1], values in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    out = np.zeros((n, size, size))
    for i in range(n):
        img = np.zeros((size, size))
        for _ in range(int(rng.integers(1, 4))):
            p, q = rng.uniform(2, size - 2, 2), rng.uniform(2, size - 2, 2)
            d = q - p
            t = np.clip(((xx - p[0]) * d[0] + (yy - p[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
            dist = np.hypot(xx - p[0] - t * d[0], yy - p[1] - t * d[1])
            img = np.maximum(img, rng.uniform(0.5, 1) * np.clip(1.2 - dist, 0, 1))
        for _ in range(int(rng.integers(1, 4))):
            c = rng.uniform(6, size - 6, 2)
            r = rng.uniform(2.5, 8)
            dist = np.abs(np.hypot(xx - c[0], yy - c[1]) - r)
            img = np.maximum(img, rng.uniform(0.5, 1) * np.clip(1.2 - dist, 0, 1))
        out[i] = img
    return out


def fixed_masks(size: int, M: int, seed: int = 0) -> dict[str, np.ndarray]:
    from .. import sampling

    r = np.hypot(*np.meshgrid(np.arange(size) - size // 2, np.arange(size) - size // 2, indexing="ij"))
    low = np.zeros(size * size, dtype=bool)
    low[np.argsort(r.ravel(), kind="stable")[:M]] = True
    return {
        "uniform random": sampling.uniform_random((size, size), M, seed=seed),
        "variable density": sampling.variable_density(
            (size, size), M, density="gauss", sigma=0.25, seed=seed
        ),
        "low-pass": low.reshape(size, size),
    }


def fista_with_mask(images: np.ndarray, mask: np.ndarray) -> float:
    """Mean PSNR of plain csbox FISTA (l1 on db2 wavelets, no network) with ``mask``."""
    from ..operators import PartialFourier, Wavelet
    from ..penalties import L1
    from ..solvers import fista

    A = PartialFourier(images.shape[1:], mask, centered=True)
    W = Wavelet(images.shape[1:], "db2", level=2)
    res = fista(A, A @ images, lam_rel=0.02, penalty=L1().in_basis(W), max_iter=150, tol=None)
    mse = np.mean((np.abs(res.x) - images) ** 2, axis=(1, 2))
    return float(np.mean(10 * np.log10(1.0 / mse)))


def run(out_dir: Path, quick: bool = False) -> dict:
    from ..sampling.dps import DPSSampler, UnrolledISTA, evaluate, train_dps

    out_dir = Path(out_dir)
    size, M = 32, 128
    n_train, n_val = (600, 200) if quick else (3000, 500)
    epochs = 3 if quick else 10
    train = lines_and_circles(n_train, size, seed=0)
    val = lines_and_circles(n_val, size, seed=1)
    common = {"epochs": epochs, "batch_size": 32, "lr": 1e-3, "logit_lr_mult": 10.0, "seed": 0}
    results: dict = {}
    masks: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    sampler = DPSSampler(size * size, M, shape=(size, size), seed=0)
    model = UnrolledISTA((size, size), n_iter=4, cnn_width=16)
    hist = train_dps(model, train, sampler=sampler, **common)
    masks["DPS (learned)"] = sampler.mask_
    results["DPS (learned)"] = {**evaluate(model, val, sampler.mask_), "train_s": time.perf_counter() - t0,
                                "s_per_epoch": float(np.mean(hist["seconds_per_epoch"]))}
    for name, mask in fixed_masks(size, M).items():
        t0 = time.perf_counter()
        mdl = UnrolledISTA((size, size), n_iter=4, cnn_width=16)
        h = train_dps(mdl, train, mask=mask, **common)
        masks[name] = mask
        results[name] = {**evaluate(mdl, val, mask), "train_s": time.perf_counter() - t0,
                         "s_per_epoch": float(np.mean(h["seconds_per_epoch"]))}
    print(f"\n{'mask (M = 128 of 1024, 8x)':<28}{'NMSE dB':>9}{'PSNR dB':>9}{'FISTA PSNR':>12}{'train s':>9}")
    for name in results:
        results[name]["fista_psnr"] = fista_with_mask(val[:100], masks[name])
        r = results[name]
        print(f"{name:<28}{r['nmse_db']:>9.2f}{r['psnr']:>9.2f}{r['fista_psnr']:>12.2f}{r['train_s']:>9.1f}")
    probs = sampler.distributions().detach().cpu().numpy().reshape(size, size)
    fig, axes = plt.subplots(2, 5, figsize=(19, 7.6), layout="constrained")
    im = axes[0, 0].imshow(probs, cmap="magma")
    axes[0, 0].set_title("learned distribution softmax(phi)")
    fig.colorbar(im, ax=axes[0, 0], fraction=0.046)
    for ax, (name, mask) in zip(axes[0, 1:], masks.items(), strict=True):
        ax.imshow(mask, cmap="gray")
        ax.set_title(f"{name}\nNMSE {results[name]['nmse_db']:.1f} dB, PSNR {results[name]['psnr']:.1f} dB",
                     fontsize=9)
    import torch

    from ..operators import FFT

    F = FFT((size, size), centered=True)
    example = val[:1]
    axes[1, 0].imshow(example[0], cmap="gray", vmin=0, vmax=1)
    axes[1, 0].set_title("ground truth (held out)")
    models = {"DPS (learned)": model}
    for ax, name in zip(axes[1, 1:], masks, strict=True):
        if name in models:
            with torch.no_grad():
                xb = torch.as_tensor(example, dtype=torch.complex64)
                mb = torch.as_tensor(masks[name][None].astype(np.float32))
                rec = models[name](mb.to(torch.complex64) * (F @ xb), mb).abs().numpy()[0]
            ax.imshow(rec, cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{name}: reconstruction")
        else:
            zf = np.abs(F.H @ (masks[name] * (F @ example[0].astype(complex))))
            ax.imshow(zf, cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{name}: zero-filled")
    for ax in axes.ravel():
        ax.set_xlabel("k_x or x (index)")
        ax.set_ylabel("k_y or y (index)")
    fig.suptitle("DPS: learned vs fixed k-space masks, 8x, same unrolled-ISTA + CNN model retrained per mask")
    save(fig, out_dir / "dps_fourier.png")
    return results
