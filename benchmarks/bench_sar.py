"""MIMO-SAR reconstruction speed: EMPM (FFT-based) vs csbox's own chunked back-projection (exact).

PSF case (32 steps of 2 lambda, irregular heights, 200x200 y-z image) and a 3-D
planar case; EMPM with and without its spectral window; image agreement as the
normalised cross-correlation of magnitudes; and how both times grow with the
number of scan steps. Run: ``python benchmarks/bench_sar.py``.
"""

from __future__ import annotations

import time

import numpy as np

from _timing import best_time, versions
from csbox.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, empm, linear_scan, planar_scan


def ncc(a, b):
    a, b = np.abs(a).ravel(), np.abs(b).ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def main() -> None:
    print(versions("numpy", "scipy", "csbox"))
    wf, arr = FMCW(n_samples=32), MIMOArray.iwr1443()
    lam = wf.wavelength
    grid = ImageGrid.yz((-0.1, 0.1), (0.3, 0.7), 200, 200)
    print("2-D PSF case, 200x200 image:")
    for steps in (16, 32, 64):
        pos = linear_scan(steps, 2 * lam, height_dev=0.03, seed=0)
        A = MIMOSAR(arr, wf, pos, grid)
        rho = np.zeros(grid.shape)
        rho[100, 100] = 1
        s = A @ rho
        t0 = time.perf_counter()
        bpa = A.H @ s
        t_bpa = time.perf_counter() - t0
        for window in ("hann", None):
            def run(s=s, pos=pos, window=window):
                return empm(s, arr, wf, pos, grid, window=window)

            t = best_time(run, repeat=5)
            im = empm(s, arr, wf, pos, grid, window=window)
            print(f"  {steps:3d} steps  BPA {t_bpa * 1e3:8.1f} ms | EMPM ({window or 'no window'}) "
                  f"{t * 1e3:6.1f} ms | speed-up {t_bpa / t:6.0f}x | NCC {ncc(im, bpa):.3f}")
    print("3-D planar irregular scan (48 x 6 positions), 32x32x21 volume:")
    pos = planar_scan(48, 6, lam / 4, 2 * lam, height_dev=0.02, seed=1)
    vgrid = ImageGrid(np.linspace(-0.03, 0.03, 32), np.linspace(-0.03, 0.03, 32), np.linspace(0.28, 0.36, 21))
    src = ImageGrid(np.array([-0.01, 0.012]), np.array([0.0]), np.array([0.3, 0.33]))
    s = MIMOSAR(arr, wf, pos, src) @ np.ones(src.shape)
    A = MIMOSAR(arr, wf, pos, vgrid, chunk=1024)
    t0 = time.perf_counter()
    bpa = A.H @ s
    t_bpa = time.perf_counter() - t0
    t = best_time(lambda: empm(s, arr, wf, pos, vgrid, n_fft=128), repeat=3)
    vol = empm(s, arr, wf, pos, vgrid, n_fft=128)
    print(f"  BPA {t_bpa:.2f} s | EMPM {t * 1e3:.1f} ms | speed-up {t_bpa / t:.0f}x | "
          f"NCC {ncc(vol, bpa):.3f}")


if __name__ == "__main__":
    main()
