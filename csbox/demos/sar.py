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

from ..operators.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, empm, linear_scan, planar_scan, psf_widths
from ..solvers import fista
from ._plot import plt, save

NAME = "sar"
DESCRIPTION = "near-field MIMO-SAR: BPA vs EMPM vs plain RMA, irregular scans, 3-D volume, sparse-scan FISTA"


def _db(im: np.ndarray) -> np.ndarray:
    a = np.abs(im)
    return 20 * np.log10(a / a.max() + 1e-12)


def psf_case(quick: bool) -> tuple[dict, tuple]:
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
        side = _db(im)
        py, pz = np.unravel_index(np.argmax(np.abs(im)), grid.shape)
        mask = np.ones(grid.shape, bool)
        mask[max(py - 8, 0) : py + 9, max(pz - 25, 0) : pz + 26] = False
        psl = float(side[mask].max())
        out[name] = {**w, "ncc_vs_bpa": ncc, "peak_sidelobe_db": psl, "seconds": times[name]}
        print(f"    {name:<22} peak (y, z) = ({1000 * w['peak_y']:6.1f} mm, {w['peak_z']:.3f} m)  "
              f"-3 dB range {100 * w['z']:.2f} cm  cross-range {1000 * w['y']:.2f} mm  "
              f"PSL {psl:6.1f} dB  NCC {ncc:.3f}  {times[name] * 1e3:8.1f} ms")
    return out, (grid, images)


def volume_case(quick: bool) -> tuple[dict, tuple]:
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
    return {"simulate_s": t_sim, "empm_s": t_empm}, (grid, vol, vol_rma, rho, src)


def sparse_case(quick: bool) -> tuple[dict, tuple]:
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
        e = np.abs(im) ** 2
        return float(10 * np.log10(e[near].sum() / max(e[~near].sum(), 1e-300)))

    full = MIMOSAR(arr, wf, pos, grid)
    bpa_full = full.H @ (full @ rho)
    t0 = time.perf_counter()
    bpa = A.H @ s
    t_bpa = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = fista(A, s, lam_rel=0.05, max_iter=50 if quick else 100, tol=None)
    t_f = time.perf_counter() - t0
    out = {"bpa_tcr_db": tcr(bpa), "bpa_full_scan_tcr_db": tcr(bpa_full), "fista_tcr_db": tcr(res.x),
           "bpa_s": t_bpa, "fista_s": t_f, "fista_iterations": res.n_iter}
    print(f"(c) sparse scan, 8 of 32 positions, target-to-clutter ratio: BPA {out['bpa_tcr_db']:.1f} dB "
          f"({t_bpa:.2f} s; full scan {out['bpa_full_scan_tcr_db']:.1f} dB), "
          f"FISTA {out['fista_tcr_db']:.1f} dB ({t_f:.1f} s, {res.n_iter} iterations)")
    return out, (grid, bpa, res.x, rho)


def run(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    a, (grid, images) = psf_case(quick)
    b, (vgrid, vol, vol_rma, rho_b, src) = volume_case(quick)
    c, (sgrid, bpa, fx, rho_c) = sparse_case(quick)
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.6), layout="constrained")
    ext = [grid.z[0], grid.z[-1], 1000 * grid.y[0], 1000 * grid.y[-1]]
    for ax, (name, im) in zip(axes, images.items(), strict=True):
        h = ax.imshow(_db(im), extent=ext, origin="lower", aspect="auto", vmin=-40, vmax=0, cmap="jet")
        w = a[name]
        ax.set_title(f"{name}: {1000 * w['y']:.2f} mm x {100 * w['z']:.2f} cm, {w['seconds'] * 1e3:.0f} ms",
                     fontsize=9)
        ax.set_xlabel("z (m)")
        ax.set_ylabel("y (mm)")
        ax.set_ylim(-40, 40)
    fig.colorbar(h, ax=axes, label="dB")
    fig.suptitle("PSF on an irregular linear scan (+-1.5 cm heights): -3 dB cross-range x range widths")
    save(fig, out_dir / "sar_psf.png")
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.6), layout="constrained")
    e_xy = [1000 * vgrid.y[0], 1000 * vgrid.y[-1], 1000 * vgrid.x[0], 1000 * vgrid.x[-1]]
    axes[0].imshow(np.max(rho_b, axis=2), extent=[1000 * src.y[0], 1000 * src.y[-1], 1000 * src.x[0],
                                                   1000 * src.x[-1]], origin="lower", cmap="gray")
    axes[0].set_title("target (ring at 0.33 m, bar at 0.37 m)")
    for ax, v, title in ((axes[1], vol, "EMPM, MIP over z"), (axes[2], vol_rma, "plain RMA, MIP over z")):
        ax.imshow(_db(np.max(np.abs(v), axis=2)), extent=e_xy, origin="lower", vmin=-25, vmax=0, cmap="jet")
        ax.set_title(title)
    axes[3].imshow(_db(np.max(np.abs(vol), axis=1)).T, extent=[1000 * vgrid.x[0], 1000 * vgrid.x[-1],
                   vgrid.z[0], vgrid.z[-1]], origin="lower", aspect="auto", vmin=-25, vmax=0, cmap="jet")
    axes[3].set_title("EMPM, MIP over y")
    for ax in axes[:3]:
        ax.set_xlabel("y (mm)")
        ax.set_ylabel("x (mm)")
    axes[3].set_xlabel("x (mm)")
    axes[3].set_ylabel("z (m)")
    fig.suptitle(f"3-D EMPM on a planar irregular scan ({b['empm_s']:.2f} s)")
    save(fig, out_dir / "sar_volume.png")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    e2 = [sgrid.z[0], sgrid.z[-1], 1000 * sgrid.y[0], 1000 * sgrid.y[-1]]
    for ax, im, title in ((axes[0], rho_c, "truth"), (axes[1], bpa, f"BPA, TCR {c['bpa_tcr_db']:.1f} dB"),
                          (axes[2], fx, f"FISTA, TCR {c['fista_tcr_db']:.1f} dB")):
        ax.imshow(_db(im + (1e-9 if im is rho_c else 0)), extent=e2, origin="lower", aspect="auto",
                  vmin=-30, vmax=0, cmap="jet")
        ax.set_title(title + (" (8 of 32 positions)" if im is not rho_c else ""))
        ax.set_xlabel("z (m)")
        ax.set_ylabel("y (mm)")
    save(fig, out_dir / "sar_sparse.png")
    return {"psf": a, "volume": b, "sparse": c}
