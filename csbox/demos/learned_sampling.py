"""Demo ``learned-sampling``: k-space masks learned through l1-wavelet SENSE vs Poisson disc and VD masks.

Multi-coil training data: crops of the ``skimage.data`` photographs (:mod:`csbox.sampling.training_data`),
8 simulated birdcage coils rotated and scaled per image, 1 % complex noise; the held-out images
are cut from other photographs. A :class:`~csbox.sampling.dps.DPSSampler` over the k-space
points outside a fully sampled centre (per point, or per phase-encode line) is trained through
:class:`~csbox.sampling.unrolled.UnrolledSENSE` (``K`` FISTA steps of the l1-wavelet SENSE that is
used for evaluation, same ``lam`` scaling), its logits initialised at the log of a
variable-density law. Evaluation is the ordinary :func:`csbox.mri.l1_wavelet_sense` (100 FISTA
iterations, cycle spinning) on the held-out images with the best ``lam`` of a small grid per
scheme, at equal sample counts against :func:`~csbox.sampling.poisson_disc` and
:func:`~csbox.sampling.variable_density` with the same calibration centre, at R = 4 and 8.
Radial rows: golden-angle spokes vs a trajectory learned by
:func:`csbox.mri.learned_trajectory.train_trajectory` (spoke angles and smooth readouts under gradient
and slew limits, through unrolled NUFFT-SENSE) with equal readout counts ``round(pi n / (2 R))``,
both reconstructed by ``l1_wavelet_sense(..., coords=)`` from samples simulated at the trajectory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import psnr
from ._plot import plt, save, strip_arrays

NAME = "learned-sampling"
DESCRIPTION = ("Multi-coil k-space masks and trajectories learned through l1-wavelet SENSE vs Poisson disc, "
               "variable density and golden-angle spokes")

_FULL = {"shape": (64, 64), "n_coils": 8, "n_train": 384, "n_test": 12, "calib": 8, "epochs": 3,
         "batch_size": 8, "n_iter": 10, "lam_train": 0.0005, "lams": (0.00025, 0.0005, 0.001, 0.002),
         "max_iter": 100, "rates": (4, 8), "traj_epochs": 1, "traj_iter": 20, "traj_lam": 0.00025,
         "traj_lr": 0.3, "traj_batch": 2, "lams_radial": (0.0001, 0.00025, 0.0005)}
_QUICK = {"shape": (32, 32), "n_coils": 4, "n_train": 24, "n_test": 2, "calib": 6, "epochs": 1,
          "batch_size": 8, "n_iter": 5, "lam_train": 0.0005, "lams": (0.0005, 0.002), "max_iter": 40,
          "rates": (4, 8), "traj_epochs": 1, "traj_iter": 5, "traj_lam": 0.00025, "traj_lr": 0.3,
          "traj_batch": 2, "lams_radial": (0.00025,)}


def datasets(cfg: dict, seed: int = 0) -> tuple[Any, Any]:
    """The multi-coil training set (seed ``seed``) and the held-out set (seed ``seed + 1``)."""
    from ..mri import birdcage_maps
    from ..sampling import image_set, multicoil_set

    base = birdcage_maps(cfg["shape"], cfg["n_coils"])
    train = multicoil_set(image_set(cfg["n_train"], cfg["shape"], split="train", seed=seed), base,
                          seed=seed)
    test = multicoil_set(image_set(cfg["n_test"], cfg["shape"], split="test", seed=seed + 1), base,
                         seed=seed + 1)
    return train, test


def _calib(shape: tuple[int, int], calib: int) -> np.ndarray:
    """The centred ``calib x calib`` fully sampled block."""
    c = np.zeros(shape, bool)
    c0, c1 = shape[0] // 2 - calib // 2, shape[1] // 2 - calib // 2
    c[c0 : c0 + calib, c1 : c1 + calib] = True
    return c


def _sampler(shape: tuple[int, int], n_samples: int, calib: int, lines: bool, seed: int) -> Any:
    """A DPS sampler over the points (or phase-encode lines) outside the centre, logits = log VD density."""
    import torch

    from ..sampling.dps import DPSSampler

    if lines:
        fixed = np.zeros(shape[0], bool)
        fixed[shape[0] // 2 - calib // 2 : shape[0] // 2 - calib // 2 + calib] = True
        r = np.abs(np.arange(shape[0]) - shape[0] // 2)
        n_draw = n_samples // shape[1] - int(fixed.sum())
    else:
        fixed = _calib(shape, calib)
        r = np.hypot(*np.meshgrid(*(np.arange(n) - n // 2 for n in shape), indexing="ij"))
        n_draw = n_samples - int(fixed.sum())
    sampler = DPSSampler(fixed.size, n_draw, shape=fixed.shape, seed=seed, fixed=fixed)
    prior = np.clip(1 - r / r.max(), 1e-3, None) ** 2  # variable_density's "poly" law, power 2
    with torch.no_grad():
        sampler.logits.copy_(torch.as_tensor(np.log(prior).reshape(1, -1), dtype=torch.float32))
    return sampler


def _pick(sampler: Any, train: Any, cfg: dict, lam: float, n_draws: int) -> np.ndarray:
    """The best of the sampler's deterministic mask and ``n_draws`` draws, scored on training images.

    The score is the mean squared error of a 30-step :class:`UnrolledSENSE` on (at most) 32 training
    images: the held-out set plays no part in the choice.
    """
    import torch

    from ..sampling.unrolled import UnrolledSENSE, sense_measure

    model = UnrolledSENSE(cfg["shape"], 30, lam=lam)
    n = min(32, len(train))
    data = torch.as_tensor(np.stack([train.kspace[:n], train.maps[:n]], axis=1))
    truth = torch.as_tensor(train.images[:n])
    with torch.no_grad():
        drawn = sampler.sample(1.0, n_draws)[0].bool().reshape(n_draws, *sampler.shape)
        draws = [torch.as_tensor(sampler.mask_), *drawn]
        errs = []
        for m in draws:
            mb = m.to(torch.float32).expand(n, *m.shape)
            errs.append(float(torch.mean(torch.abs(model(sense_measure()(data, mb), mb) - truth) ** 2)))
    return draws[int(np.argmin(errs))].numpy()


def learn_mask(train: Any, n_samples: int, cfg: dict, *, lam: float, lines: bool = False,
               seed: int = 0) -> tuple[np.ndarray, dict]:
    """A 2-D mask of ``n_samples`` points (calibration centre included) learned by DPS through UnrolledSENSE.

    ``lines=True``: whole phase-encode lines (``n_samples // nx`` of them). The mask kept is the best
    of the learned deterministic mask and 8 draws from the learned distribution (:func:`_pick`).
    """
    from ..sampling.dps import train_dps
    from ..sampling.unrolled import UnrolledSENSE, sense_measure

    shape = cfg["shape"]
    sampler = _sampler(shape, n_samples, cfg["calib"], lines, seed)
    model = UnrolledSENSE(shape, cfg["n_iter"], lam=lam)
    data = np.stack([train.kspace, train.maps], axis=1)
    hist = train_dps(model, data, sampler=sampler, targets=train.images, measure=sense_measure(),
                     epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=1e-2, logit_lr_mult=5.0,
                     tau=(1.0, 0.2), entropy_weight=0.0, seed=seed, device="cpu")
    mask = _pick(sampler, train, cfg, lam, 8)
    if lines:
        mask = np.broadcast_to(mask[:, None], shape).copy()
    return mask, hist


def baseline_masks(shape: tuple[int, int], n_samples: int, calib: int,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Poisson disc and variable density (poly, power 2) of ``n_samples`` points with the same centre."""
    from ..sampling import poisson_disc, variable_density

    return {"poisson_disc": poisson_disc(shape, n_samples, calib=calib, seed=seed),
            "variable_density": variable_density(shape, n_samples, calib=calib, seed=seed)}


def _best(per_lam: dict) -> dict:
    """The best mean PSNR of a lam grid, its lam, and the whole grid."""
    best = max(per_lam, key=per_lam.get)
    return {"psnr": per_lam[best], "lam": best, "psnr_per_lam": {str(k): v for k, v in per_lam.items()}}


def sense_psnr(test: Any, mask: np.ndarray, lams: tuple[float, ...], max_iter: int) -> dict:
    """Held-out mean PSNR of :func:`csbox.mri.l1_wavelet_sense` with ``mask`` per ``lam``; the best one."""
    from ..mri import l1_wavelet_sense

    per_lam = {}
    for lam in lams:
        vals = []
        for k, S, x in zip(test.kspace, test.maps, test.images, strict=True):
            rec = l1_wavelet_sense(k * mask, S, mask, lam=lam, max_iter=max_iter).x
            vals.append(psnr(np.abs(rec), np.abs(x), peak=1.0))
        per_lam[lam] = float(np.mean(vals))
    return _best(per_lam)


def radial_psnr(test: Any, coords: np.ndarray, lams: tuple[float, ...], max_iter: int, seed: int = 0) -> dict:
    """Held-out mean PSNR of :func:`csbox.mri.l1_wavelet_sense` with ``coords=`` per ``lam``; the best one.

    The samples are simulated at ``coords`` from each held-out image and its maps (``Sense(maps,
    coords=)``) with 1 % complex noise (of the samples' rms) drawn from ``seed``: the same noise
    for every trajectory of the same size.
    """
    from ..mri import Sense, l1_wavelet_sense

    data = []
    rng = np.random.default_rng(seed)
    for S, x in zip(test.maps, test.images, strict=True):
        y = Sense(S, coords=coords) @ x
        rms = np.sqrt(np.mean(np.abs(y) ** 2))
        noise = (rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape)) / np.sqrt(2)
        data.append(y + 0.01 * rms * noise)
    per_lam = {}
    for lam in lams:
        vals = [psnr(np.abs(l1_wavelet_sense(y, S, coords=coords, lam=lam, max_iter=max_iter).x), np.abs(x),
                     peak=1.0) for y, S, x in zip(data, test.maps, test.images, strict=True)]
        per_lam[lam] = float(np.mean(vals))
    return _best(per_lam)


def radial_rows(train: Any, test: Any, cfg: dict, seed: int = 0) -> dict:
    """Learned trajectories vs golden-angle spokes at each rate: ``n_spokes = round(pi n / (2 R))``.

    ``R`` is relative to the ``pi n / 2`` spokes of a Nyquist-sampled radial scan. The trajectory is
    learned by :func:`csbox.mri.learned_trajectory.train_trajectory` (golden-angle start, angles
    and smooth readouts, gradient/slew penalties) and both are reconstructed by the same
    :func:`radial_psnr`.
    """
    from ..mri.learned_trajectory import train_trajectory

    n = cfg["shape"][0]
    rows: dict = {}
    for R in cfg["rates"]:
        spokes = max(2, round(np.pi * n / (2 * R)))
        t = time.perf_counter()
        res = train_trajectory(train.images, train.maps, spokes, epochs=cfg["traj_epochs"],
                               n_iter=cfg["traj_iter"], lam=cfg["traj_lam"], lr=cfg["traj_lr"],
                               batch_size=cfg["traj_batch"], seed=seed)
        row: dict = {"spokes": spokes, "train_s": time.perf_counter() - t, "train_loss": res.history["loss"],
                     "limits": res.limits, "coords": res.coords, "golden_coords": res.initial}
        for name, k in (("learned_radial", res.coords), ("golden_angle", res.initial)):
            row[name] = {**radial_psnr(test, k, cfg["lams_radial"], cfg["max_iter"], seed), "spokes": spokes}
            print(f"{name:<20}{R:>3}{spokes:>9}{row[name]['psnr']:>9.2f}{row[name]['lam']:>9g}")
        row["learned_minus_golden_db"] = row["learned_radial"]["psnr"] - row["golden_angle"]["psnr"]
        rows[R] = row
    return rows


def compute(quick: bool = False, seed: int = 0) -> dict:
    """Train one mask per rate, evaluate every scheme on the held-out set; metrics and figure data."""
    cfg = _QUICK if quick else _FULL
    t0 = time.perf_counter()
    train, test = datasets(cfg, seed)
    out: dict = {"config": {k: v for k, v in cfg.items()}, "seed": seed, "figure": {"truth": test.images[0]}}
    print(f"\n{'scheme':<20}{'R':>3}{'samples':>9}{'PSNR dB':>9}{'lam':>9}")
    for R in cfg["rates"]:
        n = round(int(np.prod(cfg["shape"])) / R)
        t = time.perf_counter()
        learned, hist = learn_mask(train, n, cfg, lam=cfg["lam_train"], seed=seed)
        masks = {"learned_cartesian": learned, **baseline_masks(cfg["shape"], n, cfg["calib"], seed)}
        row: dict = {"train_s": time.perf_counter() - t, "train_loss": hist["loss"]}
        for name, mask in masks.items():
            row[name] = {**sense_psnr(test, mask, cfg["lams"], cfg["max_iter"]), "samples": int(mask.sum())}
            print(f"{name:<20}{R:>3}{int(mask.sum()):>9}{row[name]['psnr']:>9.2f}{row[name]['lam']:>9g}")
            out["figure"][f"R{R} {name}"] = mask
        row["learned_minus_poisson_db"] = row["learned_cartesian"]["psnr"] - row["poisson_disc"]["psnr"]
        row["learned_minus_vd_db"] = row["learned_cartesian"]["psnr"] - row["variable_density"]["psnr"]
        out[f"R={R}"] = row
    first = out[f"R={cfg['rates'][0]}"]
    for key in ("learned_cartesian", "poisson_disc", "variable_density"):
        out[key] = first[key]["psnr"]  # the headline keys: the first rate (R = 4)
    print(f"\n{'radial scheme':<20}{'R':>3}{'spokes':>9}{'PSNR dB':>9}{'lam':>9}")
    for R, row in radial_rows(train, test, cfg, seed).items():
        out[f"R={R}"]["radial"] = row
    first = out[f"R={cfg['rates'][0]}"]["radial"]
    for key in ("learned_radial", "golden_angle"):
        out[key] = first[key]["psnr"]
    out["figure"]["recons"] = _example_recons(test, out["figure"], cfg)
    out["seconds"] = time.perf_counter() - t0
    return out


def _example_recons(test: Any, fig: dict, cfg: dict) -> dict:
    """l1-wavelet SENSE of the first held-out image with each mask of the highest rate, at its best lam."""
    from ..mri import l1_wavelet_sense

    R = cfg["rates"][-1]
    recs = {}
    for name in ("learned_cartesian", "poisson_disc", "variable_density"):
        mask = fig[f"R{R} {name}"]
        recs[name] = np.abs(l1_wavelet_sense(test.kspace[0] * mask, test.maps[0], mask, lam=cfg["lams"][1],
                                             max_iter=cfg["max_iter"]).x)
    return recs


def plot(data: dict, out_dir: Path) -> Path:
    """Masks at each rate and one held-out reconstruction per mask (``learned_sampling.png``)."""
    f = data["figure"]
    names = ("learned_cartesian", "poisson_disc", "variable_density")
    rates = data["config"]["rates"]
    fig, axes = plt.subplots(len(rates) + 2, 4, figsize=(13, 3.3 * (len(rates) + 2)), layout="constrained")
    for i, R in enumerate(rates):
        axes[i, 0].axis("off")
        axes[i, 0].text(0.05, 0.5, f"R = {R}\nheld-out PSNR\n(l1-wavelet SENSE,\nbest lam)", fontsize=11)
        for ax, name in zip(axes[i, 1:], names, strict=True):
            ax.imshow(f[f"R{R} {name}"], cmap="gray")
            ax.set_title(f"{name}: {data[f'R={R}'][name]['psnr']:.2f} dB", fontsize=9)
            ax.set_xlabel("k_x (index)")
            ax.set_ylabel("k_y (index)")
    _plot_trajectories(axes[len(rates)], data)
    h = axes[-1, 0].imshow(np.abs(f["truth"]), cmap="gray", vmin=0, vmax=1)
    axes[-1, 0].set_title("held-out image (truth)")
    for ax, name in zip(axes[-1, 1:], names, strict=True):
        rec = f["recons"][name]
        ax.imshow(rec, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}, R = {rates[-1]}: {psnr(rec, np.abs(f['truth']), peak=1.0):.1f} dB", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("x (pixel)")
        ax.set_ylabel("y (pixel)")
    fig.colorbar(h, ax=axes[-1, :], fraction=0.02, label="|x|")
    fig.suptitle("Sampling learned through l1-wavelet SENSE: Cartesian masks (DPS) vs Poisson disc and "
                 "variable density (equal samples, same centre); trajectories vs golden-angle spokes "
                 "(equal readouts)")
    return save(fig, Path(out_dir) / "learned_sampling.png")


def _plot_trajectories(axes: Any, data: dict) -> None:
    """Golden-angle and learned trajectories at the first two rates (every readout as a line)."""
    panels = [(R, name) for R in data["config"]["rates"][:2] for name in ("golden_angle", "learned_radial")]
    for ax, (R, name) in zip(axes, panels, strict=False):
        row = data[f"R={R}"]["radial"]
        k = row["golden_coords" if name == "golden_angle" else "coords"]
        for spoke in k:
            ax.plot(spoke[:, 1], spoke[:, 0], lw=0.7)
        ax.set_aspect("equal")
        ax.set_title(f"{name}, R = {R} ({row['spokes']} readouts): {row[name]['psnr']:.2f} dB", fontsize=9)
        ax.set_xlabel("k_x (1/FOV)")
        ax.set_ylabel("k_y (1/FOV)")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Learn, evaluate, save the figure and the masks (``learned_mask_R*.npz``); return the metrics."""
    from ..sampling import save_mask, save_trajectory

    data = compute(quick)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot(data, out_dir)
    for R in data["config"]["rates"]:
        save_mask(out_dir / f"learned_mask_R{R}.npz", np.asarray(data["figure"][f"R{R} learned_cartesian"]))
        save_trajectory(out_dir / f"learned_trajectory_R{R}.npz", data[f"R={R}"]["radial"]["coords"],
                        data["config"]["shape"])
    return strip_arrays(data)
