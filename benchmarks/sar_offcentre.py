"""EMPM accuracy for point targets inside, at and beyond the scan aperture's edge (docs/sar.md).

Not a speed benchmark: for each target (IWR1443 array, 32 steps of 2 lambda, 32 frequency
samples), the peak of ``empm`` against the matched filter ``MIMOSAR.H @ s`` (exact geometry),
in mm and in the matched filter's -3 dB widths, the peak amplitude over that of the target at the
aperture's centre (the matched filter's is 1 for all: the model has no range or angle loss), and
the NCC of the magnitudes over an 80 mm x 160 mm window. Peaks are searched on a 0.5 mm x 1 mm
grid, then on a 0.05 mm grid around it.
Run: ``python benchmarks/sar_offcentre.py [height_dev] [window]`` (defaults 0.0, none; ~1 min).
"""

from __future__ import annotations

import sys

import numpy as np

from csbox.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, empm, linear_scan, psf_widths


def fine_peak(image_on, grid):
    """Argmax of ``|image_on(grid)|``, then of a 0.05 mm grid two samples around it."""
    mag = np.abs(image_on(grid))
    iy, iz = np.unravel_index(np.argmax(mag), mag.shape)
    hy, hz = 2 * (grid.y[1] - grid.y[0]), 2 * (grid.z[1] - grid.z[0])
    fine = ImageGrid.yz((grid.y[iy] - hy, grid.y[iy] + hy), (grid.z[iz] - hz, grid.z[iz] + hz), 81, 81)
    mag = np.abs(image_on(fine))
    iy, iz = np.unravel_index(np.argmax(mag), mag.shape)
    return fine.y[iy], fine.z[iz]


def main(height_dev: float = 0.0, window: str | None = None) -> None:
    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    pos = linear_scan(32, 2 * wf.wavelength, height_dev=height_dev, seed=0)
    vy = (pos[:, None, 1] + arr.virtual[None, :, 1]).ravel()
    yc, half = 0.5 * (vy.min() + vy.max()), 0.5 * np.ptp(vy)
    print(f"aperture y in [{vy.min() * 1e3:.1f}, {vy.max() * 1e3:.1f}] mm; height_dev {height_dev}; "
          f"window {window}")
    print("| z | offset (half-apertures) | y (mm) | look angles | MF -3 dB y, z (mm) | dy, dz (mm) | cells "
          "| amplitude | NCC |")
    print("|---|---|---|---|---|---|---|---|---|")
    for z in (0.3, 0.5):
        centre_peak = 1.0
        for offset in (0.0, 0.5, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0):
            yt = yc + offset * half
            src = ImageGrid(np.zeros(1), np.array([yt]), np.array([z]))
            s = MIMOSAR(arr, wf, pos, src) @ np.ones(src.shape)
            grid = ImageGrid.yz((yt - 0.04, yt + 0.04), (z - 0.08, z + 0.08), 161, 161)
            bpa = MIMOSAR(arr, wf, pos, grid).H @ s
            w = psf_widths(bpa, grid)

            def image_on(g, s=s):
                return empm(s, arr, wf, pos, g, z_ref=0.3, window=window)

            py, pz = fine_peak(image_on, grid)
            a, b = np.abs(image_on(grid)).ravel(), np.abs(bpa).ravel()
            ncc = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
            if offset == 0.0:
                centre_peak = a.max()
            angles = np.degrees(np.arctan2(yt - np.array([vy.max(), vy.min()]), z))
            print(f"| {z} m | {offset} | {yt * 1e3:.1f} | {angles.min():.0f}..{angles.max():.0f} deg | "
                  f"{w['y'] * 1e3:.2f}, {w['z'] * 1e3:.1f} | {(py - yt) * 1e3:+.2f}, {(pz - z) * 1e3:+.2f} | "
                  f"{abs(py - yt) / w['y']:.2f}, {abs(pz - z) / w['z']:.2f} | {a.max() / centre_peak:.3f} | "
                  f"{ncc:.3f} |", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0,
         (None if sys.argv[2] == "none" else sys.argv[2]) if len(sys.argv) > 2 else None)
