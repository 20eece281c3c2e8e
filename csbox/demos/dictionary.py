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

from ..phantoms import camera
from ..solvers.dictionary import (
    OnlineOrthogonalDictionary,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    sparse_code,
)
from ._plot import plt, save

NAME = "dictionary"
DESCRIPTION = "online orthogonal dictionary learning (Frank-Wolfe): synthetic recovery, image patches, ECG"


def dct_dictionary(n: int) -> np.ndarray:
    """Orthonormal 2-D DCT-II dictionary for ``n x n`` patches (atoms in columns)."""
    from scipy.fft import dct

    C = dct(np.eye(n), norm="ortho", axis=0)
    return np.kron(C, C).T


def _patches(img: np.ndarray, size: int, stride: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rows = range(0, img.shape[0] - size + 1, stride)
    cols = range(0, img.shape[1] - size + 1, stride)
    pos = [(i, j) for i in rows for j in cols]
    return np.stack([img[i : i + size, j : j + size].ravel() for i, j in pos]), pos


def _assemble(P: np.ndarray, pos, shape, size) -> np.ndarray:
    out = np.zeros(shape)
    w = np.zeros(shape)
    for p, (i, j) in zip(P, pos, strict=True):
        out[i : i + size, j : j + size] += p.reshape(size, size)
        w[i : i + size, j : j + size] += 1
    return out / np.maximum(w, 1)


def synthetic(quick: bool, out_dir: Path) -> dict:
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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    ax1.plot(seen, rec, label=f"online FW (p=3), {t_fw:.1f} s")
    ax1.plot(mb_seen, mb_rec, label=f"MiniBatchDictionaryLearning, {t_mb:.1f} s")
    ax1.axhline(dictionary_recovery(D0, msp.x), color="k", ls="--", label="batch l4 MSP (20k samples)")
    ax1.set_xlabel("samples seen")
    ax1.set_ylabel("||D0^T D||_4^4 / n")
    ax1.set_title(f"recovery of a random orthogonal D0, n = {n}, theta = {theta}")
    ax1.set_ylim(0, 1.02)
    ax1.legend()
    ax1.grid(True, alpha=0.3)
    t = np.arange(1, len(fw.gap_history_) + 1)
    gap = np.maximum(np.array(fw.gap_history_), 1e-16)
    ax2.loglog(t, gap, lw=0.8, label="Frank-Wolfe gap")
    ref = gap[9] * (t / 10.0) ** -0.25
    ax2.loglog(t, ref, "k--", label="slope t^(-1/4)")
    ax2.set_xlabel("step t")
    ax2.set_ylabel("<G_t, S_t - D_{t-1}>")
    ax2.set_title("Frank-Wolfe gap")
    ax2.legend()
    ax2.grid(True, which="both", alpha=0.3)
    save(fig, out_dir / "dictionary_synthetic.png")
    out = {"fw_recovery": rec[-1], "fw_seconds": t_fw, "msp_recovery": dictionary_recovery(D0, msp.x),
           "minibatch_recovery": mb_rec[-1], "minibatch_seconds": t_mb, "samples": T}
    print(f"synthetic n={n}: FW recovery {rec[-1]:.4f} after {T} samples ({t_fw:.1f} s); batch MSP "
          f"{out['msp_recovery']:.4f}; MiniBatchDictionaryLearning {mb_rec[-1]:.4f} ({t_mb:.1f} s)")
    return out


def real_data(quick: bool, out_dir: Path) -> dict:
    from sklearn.decomposition import MiniBatchDictionaryLearning

    rng = np.random.default_rng(0)
    img = camera(512)
    train, _ = _patches(img, 8, 4)
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
    P, pos = _patches(noisy, 8, 2)
    out = {"fw_fit_seconds": t_fw, "minibatch_fit_seconds": t_mb}
    psnr_noisy = 10 * np.log10(1 / np.mean((noisy - clean) ** 2))
    fig, axes = plt.subplots(1, 5, figsize=(20, 4.4), layout="constrained")
    grid = np.ones((8 * 9 + 1, 8 * 9 + 1)) * np.nan
    for a in range(64):
        r, c = divmod(a, 8)
        atom = fw.dictionary_[:, a].reshape(8, 8)
        grid[1 + 9 * r : 9 + 9 * r, 1 + 9 * c : 9 + 9 * c] = atom / np.abs(atom).max()
    axes[0].imshow(grid, cmap="gray")
    axes[0].set_title(f"64 atoms learned online ({t_fw:.1f} s)")
    axes[0].axis("off")
    axes[1].imshow(noisy, cmap="gray", vmin=0, vmax=1)
    axes[1].set_title(f"noisy (sigma = 20/255): {psnr_noisy:.2f} dB")
    for ax, (name, D) in zip(axes[2:], dicts.items(), strict=True):
        X = sparse_code(D, P, n_nonzero=4)
        den = _assemble(X @ D.T, pos, clean.shape, 8)
        psnr = 10 * np.log10(1 / np.mean((den - clean) ** 2))
        rep = sparse_code(D, train[:5000], n_nonzero=5)
        rel = float(np.linalg.norm(train[:5000] - rep @ D.T) / np.linalg.norm(train[:5000]))
        out[name] = {"denoise_psnr": psnr, "rel_error_5sparse": rel}
        ax.imshow(den, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}: {psnr:.2f} dB")
        print(f"patches  {name:<30} 5-sparse rel. error {rel:.4f}   denoised PSNR {psnr:.2f} dB")
    for ax in axes[1:]:
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
    save(fig, out_dir / "dictionary_patches.png")
    import pywt.data

    ecg = pywt.data.ecg().astype(float)
    W = np.stack([ecg[i : i + 64] for i in range(0, len(ecg) - 64, 4)])
    W = W - W.mean()
    fe = OnlineOrthogonalDictionary(64, p=3, batch_size=50, n_epochs=5, project=True, seed=0).fit(W)
    for name, D in (("online FW (learned)", fe.dictionary_), ("DCT", _dct1(64))):
        rep = sparse_code(D, W, n_nonzero=5)
        rel = float(np.linalg.norm(W - rep @ D.T) / np.linalg.norm(W))
        out[f"ecg {name}"] = rel
        print(f"ECG      {name:<30} 5-sparse rel. error {rel:.4f}")
    print(f"fit times: online FW {t_fw:.2f} s, MiniBatchDictionaryLearning {t_mb:.2f} s")
    return out


def _dct1(n: int) -> np.ndarray:
    from scipy.fft import dct

    return dct(np.eye(n), norm="ortho", axis=0).T


def run(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    return {"synthetic": synthetic(quick, out_dir), "real": real_data(quick, out_dir)}
