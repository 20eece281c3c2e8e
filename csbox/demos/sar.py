"""Demo ``sar``: near-field MIMO-SAR imaging on irregular scans (Smith and Torlak, IEEE Access 2022).

(a) Point-spread function: one point target at (y, z) = (0, 0.5 m), TI
IWR1443-style array (8 virtual elements at lambda/4), 32 scan steps of 2 lambda
with smooth random height deviations of +-1.5 cm, Z_ref = 0.3 m, 200x200 image
over y in +-0.1 m, z in 0.3-0.7 m: back-projection (exact), EMPM and plain RMA
(no corrections), in dB, with -3 dB widths against theory.
(b) An extended target (a ring and a bar of points at two depths) seen by a
planar irregular scan: 3-D EMPM volume shown as maximum-intensity projections,
next to plain RMA.
(c) Sparse scan: 25 % of the scan positions, back-projection vs FISTA with the
exact MIMOSAR operator (l1 on the reflectivity), scored by the target-to-clutter
ratio (energy within one resolution cell of the targets over the rest).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..metrics import to_db
from ..sar import (
    FMCW,
    MIMOSAR,
    ImageGrid,
    MIMOArray,
    empm,
    linear_scan,
    planar_scan,
    psf_widths,
    sparse_reconstruction,
    target_to_clutter_db,
)
from ._plot import plt, save, strip_arrays

NAME = "sar"
DESCRIPTION = "near-field MIMO-SAR: BPA vs EMPM vs plain RMA, irregular scans, 3-D volume, sparse-scan FISTA"


def psf_case(quick: bool) -> dict:
    """(a) Point-spread function of BPA, EMPM (Hann, no window) and plain RMA; metrics and images."""
    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    lam = wf.wavelength
    pos = linear_scan(32, 2 * lam, height_dev=0.03, seed=0)
    n = 100 if quick else 200
    grid = ImageGrid.yz((-0.1, 0.1), (0.3, 0.7), n, n)
    A = MIMOSAR(arr, wf, pos, grid)
    rho = np.zeros(grid.shape)
    rho[np.argmin(np.abs(grid.y)), np.argmin(np.abs(grid.z - 0.5))] = 1.0
    s = A @ rho
    images, times = {}, {}
    t0 = time.perf_counter()
    images["BPA"] = A.H @ s
    times["BPA"] = time.perf_counter() - t0
    for name, kw in (("EMPM (Hann)", {}), ("EMPM (no window)", {"window": None}),
                     ("RMA, no corrections", {"correct": False})):
        t0 = time.perf_counter()
        images[name] = empm(s, arr, wf, pos, grid, z_ref=0.3, **kw)
        times[name] = time.perf_counter() - t0
    aperture = float(np.ptp(pos[:, 1])) + float(np.ptp(arr.virtual[:, 1]))
    theory = {"range_no_window": 0.886 * wf.range_resolution, "range_hann": 1.44 * wf.range_resolution,
              "cross_range_no_window": 0.886 * lam * 0.5 / (2 * aperture)}
    bpa = np.abs(images["BPA"]).ravel()
    out = {"theory": theory, "times": times}
    print(f"(a) PSF, {n}x{n}: theory (1-D, narrow aperture) range {100 * theory['range_no_window']:.2f} cm "
          f"(Hann {100 * theory['range_hann']:.2f} cm), "
          f"cross-range {1000 * theory['cross_range_no_window']:.2f} mm")
    for name, im in images.items():
        w = psf_widths(im, grid)
        a = np.abs(im).ravel()
        ncc = float(a @ bpa / np.linalg.norm(a) / np.linalg.norm(bpa))
        side = to_db(im)
        py, pz = np.unravel_index(np.argmax(np.abs(im)), grid.shape)
        mask = np.ones(grid.shape, bool)
        mask[max(py - 8, 0) : py + 9, max(pz - 25, 0) : pz + 26] = False
        psl = float(side[mask].max())
        out[name] = {**w, "ncc_vs_bpa": ncc, "peak_sidelobe_db": psl, "seconds": times[name]}
        print(f"    {name:<22} peak (y, z) = ({1000 * w['peak_y']:6.1f} mm, {w['peak_z']:.3f} m)  "
              f"-3 dB range {100 * w['z']:.2f} cm  cross-range {1000 * w['y']:.2f} mm  "
              f"PSL {psl:6.1f} dB  NCC {ncc:.3f}  {times[name] * 1e3:8.1f} ms")
    out["figure"] = {"y": grid.y, "z": grid.z, **{name: np.asarray(im) for name, im in images.items()}}
    return out


def volume_case(quick: bool) -> dict:
    """(b) 3-D EMPM (and plain RMA) volume of a ring and a bar seen by a planar irregular scan."""
    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    lam = wf.wavelength
    nx = 48 if quick else 96
    ny = 6 if quick else 12
    pos = planar_scan(nx, ny, lam / 4, 2 * lam, height_dev=0.03, seed=1)
    # target: a ring at z = 0.33 m and a bar at z = 0.37 m, on a 40x40 grid per plane
    src = ImageGrid(np.linspace(-0.04, 0.04, 33), np.linspace(-0.04, 0.04, 33), np.array([0.33, 0.37]))
    X, Y = np.meshgrid(src.x, src.y, indexing="ij")
    rho = np.zeros(src.shape)
    rho[:, :, 0] = (np.abs(np.hypot(X, Y) - 0.025) < 0.0015).astype(float)
    rho[:, :, 1] = ((np.abs(Y) < 0.0015) & (np.abs(X) < 0.03)).astype(float)
    t0 = time.perf_counter()
    s = MIMOSAR(arr, wf, pos, src, chunk=512) @ rho
    t_sim = time.perf_counter() - t0
    m = 48 if quick else 64
    grid = ImageGrid(np.linspace(-0.045, 0.045, m), np.linspace(-0.045, 0.045, m), np.linspace(0.3, 0.4, 41))
    t0 = time.perf_counter()
    vol = empm(s, arr, wf, pos, grid, z_ref=0.3, n_fft=128)
    t_empm = time.perf_counter() - t0
    vol_rma = empm(s, arr, wf, pos, grid, z_ref=0.3, n_fft=128, correct=False)
    print(f"(b) planar irregular scan {nx}x{ny} positions ({nx * ny * 8} virtual channels): simulation "
          f"{t_sim:.1f} s, 3-D EMPM {t_empm:.2f} s for a {m}x{m}x41 volume")
    fig = {"x": grid.x, "y": grid.y, "z": grid.z, "src_x": src.x, "src_y": src.y, "rho": rho,
           "EMPM": np.asarray(vol), "RMA": np.asarray(vol_rma)}
    return {"simulate_s": t_sim, "empm_s": t_empm, "figure": fig}


def sparse_case(quick: bool) -> dict:
    """(c) 8 of 32 scan positions: back-projection vs l1 reconstruction, target-to-clutter ratios."""
    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    lam = wf.wavelength
    pos = linear_scan(32, 2 * lam, height_dev=0.03, seed=0)
    rng = np.random.default_rng(3)
    keep = np.sort(rng.choice(32, 8, replace=False))
    grid = ImageGrid.yz((-0.06, 0.06), (0.4, 0.6), 60 if quick else 100, 41)
    targets = ((-0.03, 0.45, 1.0), (0.0, 0.5, 0.8), (0.035, 0.55, 0.6))
    rho = np.zeros(grid.shape)
    for y, z, amp in targets:
        rho[np.argmin(np.abs(grid.y - y)), np.argmin(np.abs(grid.z - z))] = amp
    A = MIMOSAR(arr, wf, pos[keep], grid)
    s = A @ rho
    s = s + 0.02 * np.abs(s).max() * (rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape))
    Yg, Zg = np.meshgrid(grid.y, grid.z, indexing="ij")
    near = np.zeros(grid.shape, bool)
    for y, z, _ in targets:  # one resolution cell around each target: +-5 mm cross-range, +-2 cm range
        near |= (np.abs(Yg - y) < 0.005) & (np.abs(Zg - z) < 0.02)

    def tcr(im):
        return target_to_clutter_db(im, near)

    full = MIMOSAR(arr, wf, pos, grid)
    bpa_full = full.H @ (full @ rho)
    t0 = time.perf_counter()
    bpa = A.H @ s
    t_bpa = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = sparse_reconstruction(A, s, lam_rel=0.05, max_iter=50 if quick else 100, tol=None)
    t_f = time.perf_counter() - t0
    out = {"bpa_tcr_db": tcr(bpa), "bpa_full_scan_tcr_db": tcr(bpa_full), "fista_tcr_db": tcr(res.x),
           "bpa_s": t_bpa, "fista_s": t_f, "fista_iterations": res.n_iter}
    print(f"(c) sparse scan, 8 of 32 positions, target-to-clutter ratio: BPA {out['bpa_tcr_db']:.1f} dB "
          f"({t_bpa:.2f} s; full scan {out['bpa_full_scan_tcr_db']:.1f} dB), "
          f"FISTA {out['fista_tcr_db']:.1f} dB ({t_f:.1f} s, {res.n_iter} iterations)")
    out["figure"] = {"y": grid.y, "z": grid.z, "truth": rho, "BPA": np.asarray(bpa),
                     "FISTA": np.asarray(res.x)}
    return out


def compute(quick: bool = False) -> dict:
    """The three cases' metrics (and images under ``"figure"`` keys)."""
    return {"psf": psf_case(quick), "volume": volume_case(quick), "sparse": sparse_case(quick)}


def _plot_psf(a: dict, out_dir: Path) -> None:
    f = a["figure"]
    images = {k: v for k, v in f.items() if k not in ("y", "z")}
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.6), layout="constrained")
    ext = [f["z"][0], f["z"][-1], 1000 * f["y"][0], 1000 * f["y"][-1]]
    for ax, (name, im) in zip(axes, images.items(), strict=True):
        h = ax.imshow(to_db(im), extent=ext, origin="lower", aspect="auto", vmin=-40, vmax=0, cmap="jet")
        w = a[name]
        ax.set_title(f"{name}: {1000 * w['y']:.2f} mm x {100 * w['z']:.2f} cm, {w['seconds'] * 1e3:.0f} ms",
                     fontsize=9)
        ax.set_xlabel("z (m)")
        ax.set_ylabel("y (mm)")
        ax.set_ylim(-40, 40)
    fig.colorbar(h, ax=axes, label="dB")
    fig.suptitle("PSF on an irregular linear scan (+-1.5 cm heights): -3 dB cross-range x range widths")
    save(fig, out_dir / "sar_psf.png")


def _plot_volume(b: dict, out_dir: Path) -> None:
    f = b["figure"]
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.6), layout="constrained")
    e_xy = [1000 * f["y"][0], 1000 * f["y"][-1], 1000 * f["x"][0], 1000 * f["x"][-1]]
    h = axes[0].imshow(np.max(f["rho"], axis=2), extent=[1000 * f["src_y"][0], 1000 * f["src_y"][-1],
                       1000 * f["src_x"][0], 1000 * f["src_x"][-1]], origin="lower", cmap="gray")
    fig.colorbar(h, ax=axes[0], label="reflectivity")
    axes[0].set_title("target (ring at 0.33 m, bar at 0.37 m)")
    for ax, key, title in ((axes[1], "EMPM", "EMPM, MIP over z"), (axes[2], "RMA", "plain RMA, MIP over z")):
        h = ax.imshow(to_db(np.max(np.abs(f[key]), axis=2)), extent=e_xy, origin="lower", vmin=-25, vmax=0,
                      cmap="jet")
        ax.set_title(title)
    axes[3].imshow(to_db(np.max(np.abs(f["EMPM"]), axis=1)).T, extent=[1000 * f["x"][0], 1000 * f["x"][-1],
                   f["z"][0], f["z"][-1]], origin="lower", aspect="auto", vmin=-25, vmax=0, cmap="jet")
    axes[3].set_title("EMPM, MIP over y")
    fig.colorbar(h, ax=axes[1:], label="dB")
    for ax in axes[:3]:
        ax.set_xlabel("y (mm)")
        ax.set_ylabel("x (mm)")
    axes[3].set_xlabel("x (mm)")
    axes[3].set_ylabel("z (m)")
    fig.suptitle(f"3-D EMPM on a planar irregular scan ({b['empm_s']:.2f} s)")
    save(fig, out_dir / "sar_volume.png")


def _plot_sparse(c: dict, out_dir: Path) -> None:
    f = c["figure"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    e2 = [f["z"][0], f["z"][-1], 1000 * f["y"][0], 1000 * f["y"][-1]]
    panels = ((axes[0], "truth", "truth"), (axes[1], "BPA", f"BPA, TCR {c['bpa_tcr_db']:.1f} dB"),
              (axes[2], "FISTA", f"FISTA, TCR {c['fista_tcr_db']:.1f} dB"))
    for ax, key, title in panels:
        h = ax.imshow(to_db(f[key] + (1e-9 if key == "truth" else 0)), extent=e2, origin="lower",
                      aspect="auto", vmin=-30, vmax=0, cmap="jet")
        ax.set_title(title + (" (8 of 32 positions)" if key != "truth" else ""))
        ax.set_xlabel("z (m)")
        ax.set_ylabel("y (mm)")
    fig.colorbar(h, ax=axes, label="dB")
    save(fig, out_dir / "sar_sparse.png")


def plot(data: dict, out_dir: Path) -> None:
    """The PSF, volume and sparse-scan figures (PNG) from :func:`compute`'s output."""
    out_dir = Path(out_dir)
    _plot_psf(data["psf"], out_dir)
    _plot_volume(data["volume"], out_dir)
    _plot_sparse(data["sparse"], out_dir)


def run(out_dir: Path, quick: bool = False) -> dict:
    """Compute the three cases, save their figures, return the metrics."""
    data = compute(quick)
    plot(data, out_dir)
    return strip_arrays(data)
