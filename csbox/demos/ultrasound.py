"""Demo ``ultrasound``: B-mode and Doppler from sub-sampled channels and pulses (L11-5v, plane waves).

(a) A speckle phantom (random scatterers) with an anechoic cyst and point
targets, 3 compounded plane waves (-5, 0, 5 degrees): DAS with the full array,
with 25 % of the channels (random and equispaced), and CS recovery from the
random 25 %: FISTA on the reflectivity with the Born ``PulseEcho`` operator
restricted to the kept channels, the full channel data predicted from it and
beamformed. Contrast-to-noise ratio of the cyst and -6 dB lateral width of a
point target are reported. (b) Doppler: a vessel inclined 20 degrees with
parabolic flow in static speckle, 32 pulses at 4 kHz: SVD clutter filter and
Kasai velocity from all pulses, from 25 % of them directly, and after
recovering the slow-time signal from the 25 % (FISTA, redundant Fourier).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..metrics import lobe_width
from ..solvers import fista
from ..ultrasound import (
    ChannelSubsampling,
    Probe,
    PulseEcho,
    bmode,
    clutter_filter_svd,
    das,
    kasai,
    plane_waves,
    simulate,
    slow_time_recovery,
)
from ._plot import plt, save

NAME = "ultrasound"
DESCRIPTION = "ultrasound B-mode and Doppler from 25 % of channels / pulses: DAS vs CS recovery (L11-5v)"


def phantom(rng: np.random.Generator, n: int, cyst: tuple[float, float, float], points: np.ndarray,
            xlim: tuple[float, float], zlim: tuple[float, float]):
    x = rng.uniform(*xlim, n)
    z = rng.uniform(*zlim, n)
    amp = rng.standard_normal(n)
    cx, cz, r = cyst
    keep = np.hypot(x - cx, z - cz) > r
    x, z, amp = x[keep], z[keep], amp[keep]
    return (np.concatenate([x, points[:, 0]]), np.concatenate([z, points[:, 1]]),
            np.concatenate([amp, np.full(len(points), 25.0)]))


def cnr(env: np.ndarray, x: np.ndarray, z: np.ndarray, cyst: tuple[float, float, float]) -> float:
    """``|mu_out - mu_in| / sqrt(var_in + var_out)`` of the envelope (inside 0.8 r, ring 1.2-1.6 r)."""
    X, Z = np.meshgrid(x, z)
    d = np.hypot(X - cyst[0], Z - cyst[1])
    inside, ring = env[d < 0.8 * cyst[2]], env[(d > 1.2 * cyst[2]) & (d < 1.6 * cyst[2])]
    return float(abs(ring.mean() - inside.mean()) / math.sqrt(inside.var() + ring.var()))


def lateral_width(env: np.ndarray, x: np.ndarray, z: np.ndarray, target: tuple[float, float]) -> float:
    """-6 dB lateral width (m) of the point target near ``target`` (row of its peak)."""
    win = (np.abs(z[:, None] - target[1]) < 1e-3) & (np.abs(x[None, :] - target[0]) < 1e-3)
    iz, ix = np.unravel_index(np.argmax(np.where(win, env, 0)), env.shape)
    return lobe_width(env[iz], x, ix, env[iz, ix] / 2)


def bmode_case(quick: bool) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    P = Probe.l11_5v()
    lam = P.wavelength()
    fs = 4 * P.fc
    tx = plane_waves([-5, 0, 5])
    xlim, zlim = (-6e-3, 6e-3), (14e-3, 30e-3)
    cyst = (-1.5e-3, 24e-3, 2.5e-3)
    points = np.array([[2.5e-3, 18e-3], [3.5e-3, 26e-3]])
    xs, zs, amp = phantom(rng, 1500 if quick else 4000, cyst, points, xlim, zlim)
    ns = 1300
    data = simulate(P, tx, xs, zs, amp, fs=fs, n_samples=ns)
    noise = rng.standard_normal(data.shape) + 1j * rng.standard_normal(data.shape)
    data = data + 0.01 * np.abs(data).max() * noise
    x = np.arange(*xlim, lam / 2)
    z = np.arange(*zlim, lam / 2)
    masks = {"full array": np.ones(P.n_elements, bool)}
    rand = np.zeros(P.n_elements, bool)
    rand[np.sort(rng.choice(P.n_elements, P.n_elements // 4, replace=False))] = True
    masks["25 % random"] = rand
    masks["25 % equispaced"] = np.arange(P.n_elements) % 4 == 0
    images, metrics = {}, {}
    for name, m in masks.items():
        t0 = time.perf_counter()
        img = das(data * m[None, :, None], P, tx, x, z, fs=fs)
        images[f"DAS, {name}"] = img
        metrics[f"DAS, {name}"] = {"seconds": time.perf_counter() - t0}
    # CS: reflectivity on a lambda-spaced grid, recovered from the random 25 % of channels
    xg = np.arange(*xlim, lam)
    zg = np.arange(*zlim, lam)
    t0 = time.perf_counter()
    A = PulseEcho(P, tx, xg, zg, fs=fs, n_samples=ns)
    S = ChannelSubsampling(A.oshape, rand)
    y = S @ data
    res = fista(S @ A, y, lam_rel=0.005, max_iter=30 if quick else 80, tol=1e-6)
    full = A @ res.x
    images["CS recovery, 25 % random"] = das(full, P, tx, x, z, fs=fs)
    metrics["CS recovery, 25 % random"] = {"seconds": time.perf_counter() - t0,
                                           "fista_iterations": res.n_iter}
    for name, img in images.items():
        env = np.abs(img)
        metrics[name]["cnr"] = cnr(env, x, z, cyst)
        metrics[name]["lateral_width_mm"] = 1e3 * lateral_width(env, x, z, tuple(points[0]))
        print(f"  {name:<28} CNR {metrics[name]['cnr']:5.2f}   -6 dB lateral width "
              f"{metrics[name]['lateral_width_mm']:.3f} mm   {metrics[name]['seconds']:6.2f} s")
    return metrics, {"images": images, "x": x, "z": z, "cyst": cyst}


def doppler_case(quick: bool) -> tuple[dict, dict]:
    rng = np.random.default_rng(1)
    P = Probe.l11_5v()
    lam = P.wavelength()
    fs, prf, n_pulses = 4 * P.fc, 4000.0, 32
    vmax, angle = 0.12, math.radians(20)  # along the vessel; axial component vmax sin(angle)
    xlim, zlim = (-4e-3, 4e-3), (14e-3, 24e-3)
    n = 1500 if quick else 3000
    xs, zs = rng.uniform(*xlim, n), rng.uniform(*zlim, n)
    amp = rng.standard_normal(n)
    # vessel: axis through (0, 19 mm), direction (cos a, sin a), radius 1.5 mm
    R, c0 = 1.5e-3, np.array([0.0, 19e-3])
    u = np.array([math.cos(angle), math.sin(angle)])
    rel = np.stack([xs, zs], 1) - c0
    dist = np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0])
    inside = dist < R
    amp[inside] *= 0.3  # blood echoes weaker than tissue
    speed = np.where(inside, vmax * (1 - (dist / R) ** 2), 0.0)
    x = np.arange(*xlim, lam / 2)
    z = np.arange(*zlim, lam / 2)
    tx = plane_waves([0])
    frames = []
    for k in range(n_pulses):
        px = xs + speed * u[0] * k / prf
        pz = zs + speed * u[1] * k / prf
        d = simulate(P, tx, px, pz, amp, fs=fs, n_samples=1100)
        frames.append(das(d, P, tx, x, z, fs=fs))
    ens = np.stack(frames, -1)
    X, Z = np.meshgrid(x, z)
    rel = np.stack([X - c0[0], Z - c0[1]], -1)
    dmap = np.abs(rel[..., 0] * u[1] - rel[..., 1] * u[0])
    vessel = dmap < 0.8 * R
    truth = np.where(dmap < R, vmax * (1 - (dmap / R) ** 2) * u[1], 0.0)
    mask = np.zeros(n_pulses, bool)
    mask[np.sort(rng.choice(n_pulses, n_pulses // 4, replace=False))] = True
    rank = 2
    out, maps = {}, {}
    for name, e, p in (("all 32 pulses", ens, prf),
                       ("8 of 32 pulses, direct", ens[..., mask], prf * 8 / 32),
                       ("8 of 32 pulses, CS-recovered", None, prf)):
        t0 = time.perf_counter()
        if e is None:
            e = slow_time_recovery(ens[..., mask], mask)
        filt = clutter_filter_svd(e, rank)
        d = kasai(filt, prf=p, fc=P.fc, positive="away")  # the truth below is signed away from the probe
        v, power = d.velocity, d.power
        rmse = float(np.sqrt(np.mean((v[vessel] - truth[vessel]) ** 2)))
        out[name] = {"velocity_rmse_mm_s": 1e3 * rmse, "seconds": time.perf_counter() - t0}
        maps[name] = (v, power)
        print(f"  {name:<30} axial-velocity RMSE in the vessel {1e3 * rmse:6.1f} mm/s "
              f"(peak axial {1e3 * vmax * u[1]:.1f} mm/s, Nyquist {1e3 * 1540 * p / (4 * P.fc):.0f} mm/s)")
    return out, {"maps": maps, "truth": truth, "x": x, "z": z}


def compute(quick: bool = False) -> dict:
    """Both cases: ``{"metrics": {"bmode": ..., "doppler": ...}, "bmode": images, "doppler": maps}``."""
    print("(a) B-mode, L11-5v, 3 plane waves:")
    a, fa = bmode_case(quick)
    print("(b) Doppler, 32 pulses at 4 kHz:")
    b, fb = doppler_case(quick)
    return {"metrics": {"bmode": a, "doppler": b}, "bmode": fa, "doppler": fb}


def plot(result: dict, out_dir: Path) -> None:
    """B-mode panel (CNR, lateral width) and Doppler panel (RMSE) as PNG."""
    out_dir = Path(out_dir)
    a, fa = result["metrics"]["bmode"], result["bmode"]
    b, fb = result["metrics"]["doppler"], result["doppler"]
    x, z = fa["x"], fa["z"]
    fig, axes = plt.subplots(1, 4, figsize=(18, 5.2), layout="constrained")
    ext = [1e3 * x[0], 1e3 * x[-1], 1e3 * z[-1], 1e3 * z[0]]
    for ax, (name, img) in zip(axes, fa["images"].items(), strict=True):
        h = ax.imshow(bmode(img, 50), extent=ext, cmap="gray", vmin=-50, vmax=0)
        m = a[name]
        ax.set_title(f"{name}\nCNR {m['cnr']:.2f}, width {m['lateral_width_mm']:.2f} mm", fontsize=9)
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("z (mm)")
    fig.colorbar(h, ax=axes, label="dB")
    save(fig, out_dir / "ultrasound_bmode.png")
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.8), layout="constrained")
    x, z = fb["x"], fb["z"]
    ext = [1e3 * x[0], 1e3 * x[-1], 1e3 * z[-1], 1e3 * z[0]]
    lim = 1e3 * np.abs(fb["truth"]).max() * 1.2
    axes[0].imshow(1e3 * fb["truth"], extent=ext, cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[0].set_title("true axial velocity (mm/s)")
    for ax, (name, (v, power)) in zip(axes[1:], fb["maps"].items(), strict=True):
        shown = np.where(10 * np.log10(power / power.max() + 1e-12) > -20, 1e3 * v, np.nan)
        h = ax.imshow(shown, extent=ext, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"{name}\nRMSE {b[name]['velocity_rmse_mm_s']:.1f} mm/s", fontsize=9)
    for ax in axes:
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("z (mm)")
    fig.colorbar(h, ax=axes, label="axial velocity (mm/s)")
    save(fig, out_dir / "ultrasound_doppler.png")


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute, plot, return the metrics."""
    result = compute(quick)
    plot(result, out_dir)
    return result["metrics"]
