"""Demo ``ultrasound``: B-mode and Doppler from sub-sampled channels and pulses (L11-5v, plane waves).

(a) A speckle phantom (random scatterers) with an anechoic cyst and point
targets, 3 compounded plane waves (-5, 0, 5 degrees), receive noise shaped by
the transducer's band: DAS with the full array, with 25 % of the channels
(random and equispaced), and CS recovery from the random 25 %: FISTA on the
reflectivity (a lambda x lambda/2 grid) with the Born ``PulseEcho`` operator of
the kept channels, the full channel data predicted from it and beamformed. The
B-mode grid is ``image_grid``'s (lambda/4 axially: the envelope of the two-way
pulse is ~0.8 lambda long, and a lambda/2 grid aliases the speckle into streaks
one pixel high). Contrast-to-noise ratio of the cyst and -6 dB lateral width of a
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
    Probe,
    PulseEcho,
    bmode,
    clutter_filter_svd,
    das,
    image_grid,
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


def receive_noise(rng: np.random.Generator, shape: tuple[int, ...], probe: Probe, fs: float) -> np.ndarray:
    """Complex baseband noise of unit RMS seen through the transducer's receive response.

    Electronic noise reaches the IQ through the element's band-pass response (one way, the
    Gaussian of the probe's -6 dB bandwidth) and the scanner's anti-alias filter; white
    noise at ``fs = 4 fc`` instead would be uncorrelated from one sample to the next and,
    once beamformed, decorrelate row by row while staying correlated along each row: thin
    horizontal streaks in every noise-dominated region.
    """
    noise = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    f = np.fft.fftfreq(shape[-1], 1 / fs)
    sigma_f = probe.bandwidth * probe.fc / (2 * math.sqrt(2 * math.log(2)))
    shaped = np.fft.ifft(np.fft.fft(noise, axis=-1) * np.exp(-0.5 * (f / sigma_f) ** 2), axis=-1)
    return shaped / np.sqrt(np.mean(np.abs(shaped) ** 2))


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


def _cs_recovery(P: Probe, tx: list, data: np.ndarray, keep: np.ndarray, xlim: tuple, zlim: tuple,
                 fs: float, max_iter: int) -> tuple[np.ndarray, int]:
    """FISTA on the reflectivity from the kept channels; the full channel data it predicts.

    The reflectivity grid is ``lambda`` laterally (the lateral resolution is ~3 lambda) and
    ``lambda / 2`` axially: the two-way pulse envelope is ~0.8 lambda long (-6 dB), so rows
    ``lambda`` apart would show through as bands. ``PulseEcho(..., elements=keep)`` holds only
    the kept channels' rows; the full prediction is ``simulate`` at the grid points (the same
    Born model, no matrix).
    """
    lam = P.wavelength()
    xg, zg = np.arange(*xlim, lam), np.arange(*zlim, lam / 2)
    ns = data.shape[-1]
    A = PulseEcho(P, tx, xg, zg, fs=fs, n_samples=ns, elements=keep)
    # 20 power iterations give L within ~2 % (from below); 0.9 / L stays under 1 / ||A||^2
    step = 0.9 / A.lipschitz(max_iter=20)
    res = fista(A, data[:, keep], lam_rel=0.005, step=step, max_iter=max_iter, tol=1e-6)
    Zg, Xg = np.meshgrid(zg, xg, indexing="ij")
    full = simulate(P, tx, Xg.ravel(), Zg.ravel(), res.x.ravel(), fs=fs, n_samples=ns)
    return full, res.n_iter


def bmode_case(quick: bool) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    P = Probe.l11_5v()
    fs = 4 * P.fc
    tx = plane_waves([-5, 0, 5])
    # quick: the same targets in a smaller field of view, same scatterer density
    xlim, zlim = ((-4.5e-3, 4.5e-3), (16e-3, 28e-3)) if quick else ((-6e-3, 6e-3), (14e-3, 30e-3))
    density = 20e6 if quick else 25e6  # scatterers per m^2 (20-25 per mm^2)
    cyst = (-1.5e-3, 24e-3, 2.5e-3)
    points = np.array([[2.5e-3, 18e-3], [3.5e-3, 26e-3]])
    n_scat = int(density * (xlim[1] - xlim[0]) * (zlim[1] - zlim[0]))
    xs, zs, amp = phantom(rng, n_scat, cyst, points, xlim, zlim)
    ns = math.ceil((zlim[1] + math.hypot(zlim[1], 25e-3)) / 1540 * fs) + 20
    data = simulate(P, tx, xs, zs, amp, fs=fs, n_samples=ns)
    data = data + 0.01 * np.abs(data).max() * receive_noise(rng, data.shape, P, fs)
    x, z = image_grid(P, xlim, zlim)  # lambda / 2 laterally, lambda / 4 axially (the envelope's Nyquist)
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
    t0 = time.perf_counter()
    full, n_iter = _cs_recovery(P, tx, data, rand, xlim, zlim, fs, 40 if quick else 80)
    images["CS recovery, 25 % random"] = das(full, P, tx, x, z, fs=fs)
    metrics["CS recovery, 25 % random"] = {"seconds": time.perf_counter() - t0, "fista_iterations": n_iter}
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
    # quick: a smaller field of view around the same vessel, same scatterer density
    xlim, zlim = ((-3e-3, 3e-3), (15.5e-3, 22.5e-3)) if quick else ((-4e-3, 4e-3), (14e-3, 24e-3))
    n = int((25e6 if quick else 37.5e6) * (xlim[1] - xlim[0]) * (zlim[1] - zlim[0]))  # per m^2
    mask = np.zeros(n_pulses, bool)  # drawn first: the same 8 pulses whatever the phantom's size
    mask[np.sort(rng.choice(n_pulses, n_pulses // 4, replace=False))] = True
    n_samples = math.ceil((zlim[1] + math.hypot(zlim[1], 12e-3)) / 1540 * fs) + 20
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
        d = simulate(P, tx, px, pz, amp, fs=fs, n_samples=n_samples)
        frames.append(das(d, P, tx, x, z, fs=fs))
    ens = np.stack(frames, -1)
    X, Z = np.meshgrid(x, z)
    rel = np.stack([X - c0[0], Z - c0[1]], -1)
    dmap = np.abs(rel[..., 0] * u[1] - rel[..., 1] * u[0])
    vessel = dmap < 0.8 * R
    truth = np.where(dmap < R, vmax * (1 - (dmap / R) ** 2) * u[1], 0.0)
    rank = 2
    out, maps = {}, {}
    for name, e, p in (("all 32 pulses", ens, prf),
                       ("8 of 32 pulses, direct", ens[..., mask], prf * 8 / 32),
                       ("8 of 32 pulses, CS-recovered", None, prf)):
        t0 = time.perf_counter()
        if e is None:
            e = slow_time_recovery(ens[..., mask], mask, max_iter=100 if quick else 300)
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
