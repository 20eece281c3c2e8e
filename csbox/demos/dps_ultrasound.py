"""Demo ``dps-ultrasound``: learning which 25 % of the receive channels to keep (sparse array design).

Simulated L11-5v plane-wave data (csbox's Born simulator) of random speckle
with point targets around 20 mm depth. The task: from 32 of the 128 channels,
reconstruct the full-array delay-and-sum image of a 32x32 region. The model
beamforms the kept channels with csbox's DAS matrix (as a torch sparse matrix)
and refines with a small CNN; the channel subset is learned by DPS (Gumbel
top-K, trained jointly) and compared with random and equispaced subsets at the
same rate, each with the model retrained for it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._plot import plt, save

NAME = "dps-ultrasound"
DESCRIPTION = "DPS: learn which 25 % of ultrasound channels to keep (sparse array) vs random / equispaced"


def make_data(n: int, seed: int):
    """IQ channel data ``(n, 1, 128, ns)``, full-array DAS targets ``(n, 32, 32)`` and the DAS matrix."""
    from ..ultrasound import Probe, das_matrix, plane_waves, simulate

    rng = np.random.default_rng(seed)
    P = Probe.l11_5v()
    lam = P.wavelength()
    fs, t0, ns = 2 * P.fc, 20e-6, 256
    tx = plane_waves([0])
    x = (np.arange(32) - 15.5) * lam / 2
    z = 20e-3 + (np.arange(32) - 15.5) * lam / 2
    M = das_matrix(P, tx, x, z, fs=fs, n_samples=ns, t0=t0)
    data = np.zeros((n, 1, P.n_elements, ns), np.complex64)
    for i in range(n):
        k = 400
        xs, zs = rng.uniform(-4e-3, 4e-3, k), rng.uniform(16e-3, 24e-3, k)
        amp = rng.standard_normal(k) * (rng.random() < 0.5 or np.hypot(xs - rng.uniform(-1e-3, 1e-3),
                                                                       zs - 20e-3) > 1e-3)
        pts = rng.uniform([-1.5e-3, 18.5e-3], [1.5e-3, 21.5e-3], (int(rng.integers(1, 4)), 2))
        xs, zs = np.concatenate([xs, pts[:, 0]]), np.concatenate([zs, pts[:, 1]])
        amp = np.concatenate([amp, np.full(len(pts), 8.0)])
        data[i] = simulate(P, tx, xs, zs, amp, fs=fs, n_samples=ns, t0=t0)
    targets = (M @ data.reshape(n, -1).T).T.reshape(n, 32, 32)
    scale = np.abs(targets).max()
    return data / scale, targets / scale, M


def compute(quick: bool = False) -> dict:
    """Train DPS, random and equispaced: ``{"metrics": per-subset scores, "logits": ..., "masks": ...}``."""
    import torch
    from torch import nn

    from ..sampling.dps import DPSSampler, evaluate, train_dps
    from ..sampling.unrolled import ResidualCNN

    n_train, n_val = (200, 60) if quick else (800, 150)
    epochs = 4 if quick else 15
    t0 = time.perf_counter()
    data, targets, M = make_data(n_train + n_val, seed=0)
    t_sim = time.perf_counter() - t0
    coo = M.tocoo()
    Mt = torch.sparse_coo_tensor(np.stack([coo.row, coo.col]), coo.data.astype(np.complex64), M.shape,
                                 check_invariants=False).coalesce()
    n_el, K = 128, 32

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.p1, self.p2 = ResidualCNN(16), ResidualCNN(16)
            self.gain = nn.Parameter(torch.tensor(n_el / K))

        def forward(self, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
            b = y.shape[0]
            img = torch.sparse.mm(Mt.to(y.device), y.reshape(b, -1).T).T.reshape(b, 32, 32)
            return self.p2(self.p1(self.gain * img))

    def measure(xb: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return xb * m.to(xb.dtype)[:, None, :, None]

    tr, va = data[:n_train], data[n_train:]
    ttr, tva = targets[:n_train], targets[n_train:]
    common = {"epochs": epochs, "batch_size": 16, "lr": 1e-3, "logit_lr_mult": 10.0, "measure": measure,
              "targets": ttr, "progress": True}
    rng = np.random.default_rng(1)
    rand = np.zeros(n_el, bool)
    rand[np.sort(rng.choice(n_el, K, replace=False))] = True
    results, masks = {}, {}
    sampler = DPSSampler(n_el, K, seed=0)
    model = Model()
    t1 = time.perf_counter()
    train_dps(model, tr, sampler=sampler, **common)
    masks["DPS (learned)"] = sampler.mask_
    results["DPS (learned)"] = {**evaluate(model, va, sampler.mask_, measure=measure, targets=tva),
                                "train_s": time.perf_counter() - t1}
    for name, mask in (("random", rand), ("equispaced", np.arange(n_el) % 4 == 0)):
        mdl = Model()
        t1 = time.perf_counter()
        train_dps(mdl, tr, mask=mask, **common)
        masks[name] = mask
        score = evaluate(mdl, va, mask, measure=measure, targets=tva)
        results[name] = {**score, "train_s": time.perf_counter() - t1}
    print(f"\nsimulation {t_sim:.1f} s; 32 of 128 channels, held-out full-array DAS target")
    for name, r in results.items():
        print(f"  {name:<16} NMSE {r['nmse_db']:6.2f} dB   PSNR {r['psnr']:6.2f} dB   "
              f"train {r['train_s']:.0f} s")
    return {"metrics": results, "logits": sampler.logits.detach().cpu().numpy()[0], "masks": masks}


def plot(result: dict, out_dir: Path) -> None:
    """Learned logits and the kept channels of each subset (NMSE in the labels)."""
    results, masks, logits = result["metrics"], result["masks"], result["logits"]
    n_el = logits.size
    fig, axes = plt.subplots(2, 1, figsize=(12, 4.5), layout="constrained")
    axes[0].bar(np.arange(n_el), logits - logits.min(), color="C0")
    axes[0].set_title("learned channel logits phi (the top 32 are kept)")
    axes[0].set_xlabel("element index")
    axes[0].set_ylabel("phi - min(phi)")
    for i, (name, m) in enumerate(masks.items()):
        axes[1].scatter(np.flatnonzero(m), np.full(int(m.sum()), i), s=12, label=name)
    axes[1].set_yticks(range(len(masks)), [f"{n} ({results[n]['nmse_db']:.1f} dB)" for n in masks])
    axes[1].set_xlabel("element index")
    axes[1].set_title("kept channels (NMSE of the reconstruction)")
    save(fig, Path(out_dir) / "dps_ultrasound.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute, plot, return the metrics."""
    result = compute(quick)
    plot(result, out_dir)
    return result["metrics"]
