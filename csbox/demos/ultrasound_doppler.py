"""Demo ``ultrasound-doppler``: a rotating disk read from a scanner-format file, end to end.

``data/disk_pw_l9-4.uff`` holds what a Verasonics scanner would store: int16 RF of a
128-element L9-4/38 probe, band-pass sampled at 4/3 fc, one plane wave per pulse, 32
pulses at 10 kHz, of a disk turning at 40 rad/s (simulated by PyMUST's ``simus``, not
by csbox). Pipeline: UFF -> ``rf2iq`` (low-pass from fs, fc and the bandwidth, IQ
upsampled to 4 fc) -> ``das`` -> ``kasai`` (velocity toward the probe positive, power,
(5, 3)-pixel window). The axial velocity of a turning disk is linear across it,
``v = -omega (x - x_c)``: the R^2 of the estimate against that profile inside the disk
is the score. Variants: the pre-0.2 ``rf2iq`` low-pass (cutoff ``fc (1 + B) / 2``,
above fs/2 here: the mirrored band stays); 25 % of the receive channels (random,
equispaced); 25 % of the pulses (every fourth: PRF/4 and its Nyquist velocity; or 8
random pulses recovered to 32 by sparse slow-time recovery).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .. import data
from ..ultrasound import (
    RotatingDisk,
    bmode,
    das,
    image_grid,
    kasai,
    rf2iq,
    slow_time_recovery,
)
from ._plot import plt, save

NAME = "ultrasound-doppler"
DESCRIPTION = (
    "rotating disk from a UFF file (PyMUST simus, int16 RF at 4/3 fc): IQ, DAS, Kasai, R^2; 25 % variants"
)

WINDOW = (5, 3)


def r2_score(v: np.ndarray, truth: np.ndarray, inside: np.ndarray) -> float:
    """``1 - sum (v - v_true)^2 / sum (v_true - mean v_true)^2`` over ``inside``."""
    resid = np.sum((v - truth)[inside] ** 2)
    return float(1 - resid / np.sum((truth[inside] - truth[inside].mean()) ** 2))


def _legacy_iq(cd, upsample: int) -> np.ndarray:
    """0.1's rf2iq low-pass (|f| <= fc (1 + B) / 2, here above fs / 2: no filtering), then upsampled."""
    rf = cd.data.astype(np.float64)
    n = rf.shape[-1]
    t = cd.t0[None, :, None, None] + np.arange(n) / cd.fs
    z = rf * np.exp(-2j * math.pi * cd.probe.fc * t)
    keep = np.abs(np.fft.fftfreq(n, 1 / cd.fs)) <= cd.probe.fc * (1 + cd.probe.bandwidth) / 2
    Z = np.fft.fft(z, axis=-1) * keep
    h = (n + 1) // 2
    Zp = np.concatenate([Z[..., :h], np.zeros((*Z.shape[:-1], n * (upsample - 1))), Z[..., h:]], axis=-1)
    return 2 * upsample * np.fft.ifft(Zp, axis=-1)


def compute(quick: bool = False) -> dict:
    """Run the pipeline and its variants; returns metrics and the maps for :func:`plot`."""
    cd = data.load("disk-uff")
    meta = data.FILES["disk-uff"].meta
    disk = RotatingDisk(
        center=meta["center"], radius=meta["radius"], angular_velocity=meta["angular_velocity"]
    )
    prf = float(cd.prf)
    n_pulses = 16 if quick else cd.data.shape[0]
    frames = cd.data[:n_pulses]
    probe, tx = cd.probe, cd.transmits
    half = disk.radius + 1e-3
    x, z = image_grid(
        probe,
        (disk.center[0] - half, disk.center[0] + half),
        (disk.center[1] - half, disk.center[1] + half),
        lateral_step=probe.wavelength(cd.c) / (2 if quick else 3),
    )
    X, Z = np.meshgrid(x, z)
    truth = disk.axial_velocity(X, Z)
    inside = np.hypot(X - disk.center[0], Z - disk.center[1]) < 0.9 * disk.radius
    t0 = time.perf_counter()
    iq = rf2iq(frames, cd.fs, probe.fc, probe.bandwidth, t0=cd.t0[None, :, None], upsample=3)
    t_iq = time.perf_counter() - t0
    fs = 3 * cd.fs
    rng = np.random.default_rng(0)
    rand_ch = np.zeros(probe.n_elements, bool)
    rand_ch[np.sort(rng.choice(probe.n_elements, probe.n_elements // 4, replace=False))] = True
    rand_pulses = np.zeros(n_pulses, bool)
    rand_pulses[np.sort(rng.choice(n_pulses, n_pulses // 4, replace=False))] = True
    cases = {
        "full data": (iq, slice(None), prf),
        "0.1 rf2iq low-pass": (_legacy_iq(type(cd)(**{**cd.__dict__, "data": frames}), 3), slice(None), prf),
        "25 % channels, random": (iq * rand_ch[:, None], slice(None), prf),
        "25 % channels, equispaced": (iq * (np.arange(probe.n_elements) % 4 == 0)[:, None], slice(None), prf),
        "25 % pulses, every 4th": (iq, slice(None, None, 4), prf / 4),
        "25 % pulses, random + CS": (iq, rand_pulses, prf),
    }
    metrics, maps, images = {}, {}, {}
    for name, (data_iq, pulses, p) in cases.items():
        t0 = time.perf_counter()
        if name.endswith("CS"):
            ens = np.moveaxis(das(data_iq[pulses], probe, tx, x, z, fs=fs, t0=cd.t0), 0, -1)
            ens = slow_time_recovery(ens, pulses, max_iter=30 if quick else 200)
        else:
            ens = np.moveaxis(das(data_iq[pulses], probe, tx, x, z, fs=fs, t0=cd.t0), 0, -1)
        d = kasai(ens, prf=p, fc=probe.fc, c=cd.c, window=WINDOW)
        score = r2_score(d.velocity, truth, inside)
        metrics[name] = {
            "r2": score,
            "nyquist_m_s": d.nyquist,
            "near_nyquist_fraction": float(d.near_nyquist[inside].mean()),
            "seconds": time.perf_counter() - t0,
        }
        maps[name] = (d.velocity, d.power)
        images[name] = ens[..., 0]
        print(
            f"  {name:<28} R^2 {score:6.3f}   Nyquist {d.nyquist:.2f} m/s   near-Nyquist "
            f"{100 * metrics[name]['near_nyquist_fraction']:4.1f} %   {metrics[name]['seconds']:5.1f} s"
        )
    band = np.abs(z - disk.center[1]) < 0.5e-3
    return {
        "metrics": {"iq_seconds": t_iq, "edge_speed_m_s": disk.angular_velocity * disk.radius, **metrics},
        "x": x,
        "z": z,
        "truth": truth,
        "maps": maps,
        "bmode": images["full data"],
        "profile": (x, maps["full data"][0][band].mean(axis=0), truth[band].mean(axis=0)),
        "profile_legacy": maps["0.1 rf2iq low-pass"][0][band].mean(axis=0),
    }


def plot(result: dict, out_dir: Path) -> None:
    """Doppler maps with R^2, the B-mode and the velocity profile across the disk."""
    out_dir = Path(out_dir)
    x, z, m = result["x"], result["z"], result["metrics"]
    ext = [1e3 * x[0], 1e3 * x[-1], 1e3 * z[-1], 1e3 * z[0]]
    lim = 1e3 * np.nanmax(np.abs(result["truth"])) * 1.15
    names = list(result["maps"])
    fig, axes = plt.subplots(2, 4, figsize=(19, 9), layout="constrained")
    axes = axes.ravel()
    h = axes[0].imshow(bmode(result["bmode"], 40), extent=ext, cmap="gray", vmin=-40, vmax=0)
    axes[0].set_title("B-mode, one plane wave (dB)")
    fig.colorbar(h, ax=axes[0], label="dB")
    for ax, name in zip(axes[1:7], names, strict=True):
        v, power = result["maps"][name]
        shown = np.where(10 * np.log10(power / power.max() + 1e-30) > -25, 1e3 * v, np.nan)
        h = ax.imshow(shown, extent=ext, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(
            f"{name}\nR$^2$ {m[name]['r2']:.3f}, Nyquist {m[name]['nyquist_m_s']:.2f} m/s", fontsize=9
        )
    fig.colorbar(h, ax=axes[1:7].tolist(), label="axial velocity toward the probe (mm/s)")
    xs, est, expected = result["profile"]
    ax = axes[7]
    ax.plot(1e3 * xs, 1e3 * expected, "k--", label="expected $-\\omega (x - x_c)$")
    ax.plot(1e3 * xs, 1e3 * est, label=f"csbox (R$^2$ {m['full data']['r2']:.3f})")
    ax.plot(
        1e3 * xs,
        1e3 * result["profile_legacy"],
        alpha=0.7,
        label=f"0.1 rf2iq low-pass (R$^2$ {m['0.1 rf2iq low-pass']['r2']:.3f})",
    )
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("axial velocity (mm/s)")
    ax.set_title("profile through the disk centre (1 mm band)")
    ax.legend(fontsize=8)
    for a in axes[:7]:
        a.set_xlabel("x (mm)")
        a.set_ylabel("z (mm)")
    save(fig, out_dir / "ultrasound_doppler_disk.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute, plot, return the metrics."""
    result = compute(quick)
    plot(result, out_dir)
    return result["metrics"]
