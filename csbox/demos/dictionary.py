"""Demo ``dictionary``: online orthogonal dictionary learning by Frank-Wolfe (Xue and Lau).

(a) Synthetic ``Y = D0 X``, ``D0`` random orthogonal (n = 50), ``X``
Bernoulli(0.3)-Gaussian, streamed in mini-batches of 50: recovery
``||D0^T D||_4^4 / n`` against samples seen and the Frank-Wolfe gap against the
step count (log-log, ``t^{-1/4}`` slope drawn), with the batch l4 (MSP) baseline
and scikit-learn's ``MiniBatchDictionaryLearning`` on the same stream.
(b) Real data: 8x8 patches of the cameraman photograph (learned atoms, and
denoising PSNR of 4-sparse OMP coding with the learned dictionary vs the 2-D
DCT vs MiniBatchDictionaryLearning) and 64-sample windows of the ``pywt.data.ecg``
signal (the "sensor readings" case: 5-sparse representation error).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from ..dictionary import (
    OnlineOrthogonalDictionary,
    assemble_patches,
    dct_dictionary,
    dictionary_recovery,
    extract_patches,
    orthogonal_dictionary_learning,
    sparse_code,
)
from ..metrics import psnr
from ..phantoms import camera
from ._plot import plt, save, strip_arrays

NAME = "dictionary"
DESCRIPTION = "online orthogonal dictionary learning (Frank-Wolfe): synthetic recovery, image patches, ECG"


def synthetic(quick: bool) -> dict:
    """(a) Recovery of a random orthogonal dictionary from a stream: FW, MiniBatchDictionaryLearning, MSP."""
    rng = np.random.default_rng(0)
    n, theta = 50, 0.3
    T = 10_000 if quick else 40_000
    D0, _ = np.linalg.qr(rng.standard_normal((n, n)))
    X = rng.standard_normal((T, n)) * (rng.random((T, n)) < theta)
    Y = X @ D0.T
    b = 50
    fw = OnlineOrthogonalDictionary(n, p=3, batch_size=b, seed=1)
    seen, rec = [], []
    t0 = time.perf_counter()
    for i in range(0, T, b):
        fw.partial_fit(Y[i : i + b])
        if (i // b) % 5 == 0:
            seen.append(i + b)
            rec.append(dictionary_recovery(D0, fw.dictionary_))
    t_fw = time.perf_counter() - t0
    msp = orthogonal_dictionary_learning(Y[: min(T, 20_000)], max_iter=100, seed=1)
    from sklearn.decomposition import MiniBatchDictionaryLearning

    mb = MiniBatchDictionaryLearning(n, batch_size=b, alpha=0.1, random_state=1, max_iter=1)
    mb_seen, mb_rec = [], []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(0, T, 10 * b):
            for j in range(i, min(i + 10 * b, T), b):
                mb.partial_fit(Y[j : j + b])
            atoms = mb.components_.T / np.linalg.norm(mb.components_.T, axis=0)
            mb_seen.append(min(i + 10 * b, T))
            mb_rec.append(dictionary_recovery(D0, atoms))
    t_mb = time.perf_counter() - t0
    out = {"fw_recovery": rec[-1], "fw_seconds": t_fw, "msp_recovery": dictionary_recovery(D0, msp.x),
           "minibatch_recovery": mb_rec[-1], "minibatch_seconds": t_mb, "samples": T}
    out["figure"] = {"seen": np.asarray(seen, dtype=float), "recovery": np.asarray(rec),
                     "mb_seen": np.asarray(mb_seen, dtype=float), "mb_recovery": np.asarray(mb_rec),
                     "gap": np.asarray(fw.gap_history_, dtype=float)}
    out["n"], out["theta"] = n, theta
    print(f"synthetic n={n}: FW recovery {rec[-1]:.4f} after {T} samples ({t_fw:.1f} s); batch MSP "
          f"{out['msp_recovery']:.4f}; MiniBatchDictionaryLearning {mb_rec[-1]:.4f} ({t_mb:.1f} s)")
    return out


def real_data(quick: bool) -> dict:
    """(b) Cameraman patches (4-sparse denoising PSNR, 5-sparse error) and ECG windows (5-sparse error)."""
    from sklearn.decomposition import MiniBatchDictionaryLearning

    rng = np.random.default_rng(0)
    img = camera(512)
    train, _ = extract_patches(img, 8, 4)
    train = train[rng.permutation(len(train))[:20_000]]
    t0 = time.perf_counter()
    fw = OnlineOrthogonalDictionary(64, p=3, batch_size=100, n_epochs=3, project=True, seed=0).fit(train)
    t_fw = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        mb = MiniBatchDictionaryLearning(64, batch_size=100, alpha=0.1, random_state=0, max_iter=2).fit(train)
        t_mb = time.perf_counter() - t0
    mb_atoms = (mb.components_ / np.linalg.norm(mb.components_, axis=1, keepdims=True)).T
    dicts = {"online FW (learned)": fw.dictionary_, "2-D DCT": dct_dictionary(8),
             "MiniBatchDictionaryLearning": mb_atoms}
    # denoising: 4-sparse OMP of every 8x8 patch (stride 2) of a noisy 256x256 crop, averaged back
    clean = camera(256)
    sigma = 20 / 255
    noisy = clean + sigma * rng.standard_normal(clean.shape)
    P, pos = extract_patches(noisy, 8, 2)
    out = {"fw_fit_seconds": t_fw, "minibatch_fit_seconds": t_mb}
    out["noisy_psnr"] = psnr(noisy, clean, peak=1.0, magnitude=False)
    fig = {"atoms": fw.dictionary_, "noisy": noisy}
    for name, D in dicts.items():
        X = sparse_code(D, P, n_nonzero=4)
        den = assemble_patches(X @ D.T, pos, clean.shape, 8)
        p = psnr(den, clean, peak=1.0, magnitude=False)
        rep = sparse_code(D, train[:5000], n_nonzero=5)
        rel = float(np.linalg.norm(train[:5000] - rep @ D.T) / np.linalg.norm(train[:5000]))
        out[name] = {"denoise_psnr": p, "rel_error_5sparse": rel}
        fig[name] = den
        print(f"patches  {name:<30} 5-sparse rel. error {rel:.4f}   denoised PSNR {p:.2f} dB")
    out["figure"] = fig
    import pywt.data

    ecg = pywt.data.ecg().astype(float)
    W = np.stack([ecg[i : i + 64] for i in range(0, len(ecg) - 64, 4)])
    W = W - W.mean()
    fe = OnlineOrthogonalDictionary(64, p=3, batch_size=50, n_epochs=5, project=True, seed=0).fit(W)
    for name, D in (("online FW (learned)", fe.dictionary_), ("DCT", dct_dictionary(64, ndim=1))):
        rep = sparse_code(D, W, n_nonzero=5)
        rel = float(np.linalg.norm(W - rep @ D.T) / np.linalg.norm(W))
        out[f"ecg {name}"] = rel
        print(f"ECG      {name:<30} 5-sparse rel. error {rel:.4f}")
    print(f"fit times: online FW {t_fw:.2f} s, MiniBatchDictionaryLearning {t_mb:.2f} s")
    return out


def _plot_synthetic(a: dict, out_dir: Path) -> None:
    f = a["figure"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    ax1.plot(f["seen"], f["recovery"], label=f"online FW (p=3), {a['fw_seconds']:.1f} s")
    ax1.plot(f["mb_seen"], f["mb_recovery"],
             label=f"MiniBatchDictionaryLearning, {a['minibatch_seconds']:.1f} s")
    ax1.axhline(a["msp_recovery"], color="k", ls="--", label="batch l4 MSP (20k samples)")
    ax1.set_xlabel("samples seen")
    ax1.set_ylabel("||D0^T D||_4^4 / n")
    ax1.set_title(f"recovery of a random orthogonal D0, n = {a['n']}, theta = {a['theta']}")
    ax1.set_ylim(0, 1.02)
    ax1.legend()
    ax1.grid(True, alpha=0.3)
    t = np.arange(1, len(f["gap"]) + 1)
    gap = np.maximum(f["gap"], 1e-16)
    ax2.loglog(t, gap, lw=0.8, label="Frank-Wolfe gap")
    ax2.loglog(t, gap[9] * (t / 10.0) ** -0.25, "k--", label="slope t^(-1/4)")
    ax2.set_xlabel("step t")
    ax2.set_ylabel("<G_t, S_t - D_{t-1}>")
    ax2.set_title("Frank-Wolfe gap")
    ax2.legend()
    ax2.grid(True, which="both", alpha=0.3)
    save(fig, out_dir / "dictionary_synthetic.png")


def _plot_patches(b: dict, out_dir: Path) -> None:
    f = b["figure"]
    fig, axes = plt.subplots(1, 5, figsize=(20, 4.4), layout="constrained")
    grid = np.ones((8 * 9 + 1, 8 * 9 + 1)) * np.nan
    for a in range(64):
        r, c = divmod(a, 8)
        atom = f["atoms"][:, a].reshape(8, 8)
        grid[1 + 9 * r : 9 + 9 * r, 1 + 9 * c : 9 + 9 * c] = atom / np.abs(atom).max()
    axes[0].imshow(grid, cmap="gray")
    axes[0].set_title(f"64 atoms learned online ({b['fw_fit_seconds']:.1f} s)")
    axes[0].axis("off")
    h = axes[1].imshow(f["noisy"], cmap="gray", vmin=0, vmax=1)
    axes[1].set_title(f"noisy (sigma = 20/255): {b['noisy_psnr']:.2f} dB")
    names = [k for k in f if k not in ("atoms", "noisy")]
    for ax, name in zip(axes[2:], names, strict=True):
        ax.imshow(f[name], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}: {b[name]['denoise_psnr']:.2f} dB")
    for ax in axes[1:]:
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
    fig.colorbar(h, ax=axes[1:], fraction=0.02, label="intensity")
    save(fig, out_dir / "dictionary_patches.png")


def compute(quick: bool = False) -> dict:
    """Both studies' metrics (and figure data)."""
    return {"synthetic": synthetic(quick), "real": real_data(quick)}


def plot(data: dict, out_dir: Path) -> None:
    """``dictionary_synthetic.png`` and ``dictionary_patches.png``."""
    out_dir = Path(out_dir)
    _plot_synthetic(data["synthetic"], out_dir)
    _plot_patches(data["real"], out_dir)


def run(out_dir: Path, quick: bool = False) -> dict:
    """Run both studies, save the figures, return the metrics."""
    data = compute(quick)
    plot(data, out_dir)
    return strip_arrays(data)
