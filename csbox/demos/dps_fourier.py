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

from ..metrics import psnr
from ..penalties import L1
from ..phantoms import lines_and_circles
from ._plot import plt, save, strip_arrays

NAME = "dps-fourier"
DESCRIPTION = "Deep Probabilistic Sub-sampling of 32x32 k-space vs random / VD / low-pass masks"


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
    from ..solvers import fista

    A = PartialFourier(images.shape[1:], mask, centered=True)
    W = Wavelet(images.shape[1:], "db2", level=2)
    res = fista(A, A @ images, lam_rel=0.02, penalty=L1().in_basis(W), max_iter=150, tol=None)
    return float(np.mean([psnr(x, ref, peak=1.0) for x, ref in zip(res.x, images, strict=True)]))


def _train(train: np.ndarray, val: np.ndarray, size: int, M: int, common: dict) -> tuple[dict, dict, object]:
    """Train the model with the learned (DPS) mask and with each fixed mask; held-out metrics per mask."""
    from ..sampling.dps import DPSSampler, evaluate, train_dps
    from ..sampling.unrolled import UnrolledISTA

    results: dict = {}
    t0 = time.perf_counter()
    sampler = DPSSampler(size * size, M, shape=(size, size), seed=0)
    model = UnrolledISTA((size, size), n_iter=4, cnn_width=16)
    hist = train_dps(model, train, sampler=sampler, **common)
    masks = {"DPS (learned)": sampler.mask_}
    results["DPS (learned)"] = {**evaluate(model, val, sampler.mask_), "train_s": time.perf_counter() - t0,
                                "s_per_epoch": float(np.mean(hist["seconds_per_epoch"]))}
    for name, mask in fixed_masks(size, M).items():
        t0 = time.perf_counter()
        mdl = UnrolledISTA((size, size), n_iter=4, cnn_width=16)
        h = train_dps(mdl, train, mask=mask, **common)
        masks[name] = mask
        results[name] = {**evaluate(mdl, val, mask), "train_s": time.perf_counter() - t0,
                         "s_per_epoch": float(np.mean(h["seconds_per_epoch"]))}
    return results, masks, (sampler, model)


def compute(quick: bool = False) -> dict:
    """Train per mask, evaluate on held-out images, run plain FISTA per mask; metrics and figure data."""
    import torch

    from ..operators import FFT

    size, M = 32, 128
    n_train, n_val = (600, 200) if quick else (3000, 500)
    epochs = 3 if quick else 10
    train = lines_and_circles(n_train, size, seed=0)
    val = lines_and_circles(n_val, size, seed=1)
    common = {"epochs": epochs, "batch_size": 32, "lr": 1e-3, "logit_lr_mult": 10.0, "seed": 0}
    results, masks, (sampler, model) = _train(train, val, size, M, common)
    print(f"\n{'mask (M = 128 of 1024, 8x)':<28}{'NMSE dB':>9}{'PSNR dB':>9}{'FISTA PSNR':>12}{'train s':>9}")
    for name in results:
        results[name]["fista_psnr"] = fista_with_mask(val[:100], masks[name])
        r = results[name]
        print(f"{name:<28}{r['nmse_db']:>9.2f}{r['psnr']:>9.2f}{r['fista_psnr']:>12.2f}{r['train_s']:>9.1f}")
    F = FFT((size, size), centered=True)
    example = val[:1]
    fig = {"distribution": sampler.distributions().detach().cpu().numpy().reshape(size, size),
           "truth": example[0]}
    for name, mask in masks.items():
        fig[f"mask {name}"] = np.asarray(mask)
        if name == "DPS (learned)":
            with torch.no_grad():
                xb = torch.as_tensor(example, dtype=torch.complex64)
                mb = torch.as_tensor(mask[None].astype(np.float32))
                fig[f"recon {name}"] = model(mb.to(torch.complex64) * (F @ xb), mb).abs().numpy()[0]
        else:
            fig[f"recon {name}"] = np.abs(F.H @ (mask * (F @ example[0].astype(complex))))
    results["figure"] = fig
    return results


def plot(data: dict, out_dir: Path) -> None:
    """Learned distribution, masks and one held-out reconstruction per mask (``dps_fourier.png``)."""
    f = data["figure"]
    names = [k for k in data if k != "figure"]
    fig, axes = plt.subplots(2, 5, figsize=(19, 7.6), layout="constrained")
    im = axes[0, 0].imshow(f["distribution"], cmap="magma")
    axes[0, 0].set_title("learned distribution softmax(phi)")
    fig.colorbar(im, ax=axes[0, 0], fraction=0.046, label="probability")
    for ax, name in zip(axes[0, 1:], names, strict=True):
        ax.imshow(f[f"mask {name}"], cmap="gray")
        ax.set_title(f"{name}\nNMSE {data[name]['nmse_db']:.1f} dB, PSNR {data[name]['psnr']:.1f} dB",
                     fontsize=9)
    h = axes[1, 0].imshow(f["truth"], cmap="gray", vmin=0, vmax=1)
    axes[1, 0].set_title("ground truth (held out)")
    for ax, name in zip(axes[1, 1:], names, strict=True):
        ax.imshow(f[f"recon {name}"], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}: " + ("reconstruction" if name == "DPS (learned)" else "zero-filled"))
    fig.colorbar(h, ax=axes[1, :], fraction=0.02, label="intensity")
    for ax in axes.ravel():
        ax.set_xlabel("k_x or x (index)")
        ax.set_ylabel("k_y or y (index)")
    fig.suptitle("DPS: learned vs fixed k-space masks, 8x, same unrolled-ISTA + CNN model retrained per mask")
    save(fig, Path(out_dir) / "dps_fourier.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Train and evaluate per mask, save the figure, return the metrics."""
    data = compute(quick)
    plot(data, out_dir)
    return strip_arrays(data)
