"""Real-data parallel imaging, side by side with BART: ESPIRiT + l1-wavelet SENSE at R = 4 and 8.

Data: the real 16-channel brain scan of ``data/`` (``csbox.data.load("brain-16ch")``, fully
sampled, 128 x 128), or any fully sampled Cartesian scan given as ``--input FILE`` (ISMRMRD, fastMRI,
twix, ``.cfl``; ``--slice`` picks one slice). Retrospective 2-D Poisson-disc undersampling at
R = 4 and 8 with a 24 x 24 calibration centre (csbox's ``poisson_disc``, the same mask for both).

Reference: the fully sampled coils combined with csbox's ESPIRiT maps of that centre (``S^H F^H y``).
Rows, each timed (maps included, best of ``--repeat`` runs) and scored by PSNR / SSIM (scikit-image)
of the magnitude against the reference, every image zeroed where the maps vanish (the reference's
support; BART's images too, so that both are scored on the same pixels):

- csbox: ``espirit_maps`` + ``l1_wavelet_sense`` (db4, cycle spinning, 100 FISTA iterations) at each
  ``lam`` of the grid; ``cg_sense`` (15 iterations), ``tv_sense`` (ADMM, 50), ``llr_sense`` (one frame:
  8 x 8 block group sparsity, ADMM, 50) at their defaults;
- BART (when the ``bart`` command exists): ``ecalib -m1 -r 24 -k 6`` + ``pics -S -l1 -r lam`` (its
  defaults: 30 iterations, Daubechies-2 wavelets with random shifts) at each ``lam`` of the same grid.

Each side is shown at its best ``lam`` (BART scales its data its own way, so the best values differ).
Run from the repository root (2 threads for BART, as csbox's NumPy on 2 cores)::

    python benchmarks/bench_real_mri.py [--input FILE] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import versions
from csbox import data
from csbox.io import read_cfl, write_cfl
from csbox.mri import Sense, cg_sense, espirit_maps, l1_wavelet_sense, llr_sense, tv_sense
from csbox.sampling import poisson_disc

LAMS = (0.001, 0.002, 0.004, 0.008, 0.016)
CALIB = 24
BART = shutil.which("bart")


def _scores(x: np.ndarray, ref: np.ndarray, sup: np.ndarray) -> tuple[float, float]:
    from skimage.metrics import structural_similarity

    a = np.abs(x) * sup
    p = float(10 * np.log10(ref.max() ** 2 / np.mean((a - ref) ** 2)))
    return p, float(structural_similarity(a, ref, data_range=float(ref.max())))


def _timed(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def csbox_rows(y, mask, ref, sup, repeat):
    """(label, lam, psnr, ssim, seconds) of every csbox row; seconds include the ESPIRiT maps."""
    maps, t_maps = _timed(lambda: espirit_maps(y, calib_width=CALIB), repeat)
    rows = []
    for lam in LAMS:
        x, t = _timed(lambda lam=lam: l1_wavelet_sense(y, maps, mask, lam=lam).x, repeat)
        rows.append(("csbox l1-wavelet", lam, *_scores(x, ref, sup), t + t_maps))
    others = {
        "csbox CG-SENSE": (0.0, lambda: cg_sense(y, maps, mask, max_iter=15, tol=None).x),
        "csbox TV": (None, lambda: tv_sense(y, maps, mask, max_iter=50).x),
        "csbox LLR": (None, lambda: llr_sense(y[None], maps, mask[None], max_iter=50).x[0]),
    }
    for label, (lam, fn) in others.items():
        x, t = _timed(fn, repeat)
        rows.append((label, lam, *_scores(x, ref, sup), t + t_maps))
    return rows, t_maps


def bart_rows(y, ref, sup, repeat):
    """(label, lam, psnr, ssim, seconds) of BART ecalib + pics -l1 at each lam (seconds include ecalib)."""
    env = {**os.environ, "OMP_NUM_THREADS": "2"}

    def bart(*args):
        subprocess.run([BART, *args], check=True, capture_output=True, env=env)

    rows = []
    with tempfile.TemporaryDirectory() as d:
        write_cfl(f"{d}/ksp", np.transpose(y, (2, 1, 0))[:, :, None, :])  # BART [x, y, z, coil]
        _, t_cal = _timed(lambda: bart("ecalib", "-m1", f"-r{CALIB}", "-k6", f"{d}/ksp", f"{d}/sens"), repeat)
        for lam in LAMS:
            cmd = ("pics", "-S", "-d0", "-l1", "-r", str(lam), f"{d}/ksp", f"{d}/sens", f"{d}/x")
            _, t = _timed(lambda cmd=cmd: bart(*cmd), repeat)
            x = np.transpose(np.asarray(read_cfl(f"{d}/x")).reshape(y.shape[-1], y.shape[-2]))
            rows.append(("BART ecalib + pics -l1", lam, *_scores(x, ref, sup), t + t_cal))
    return rows, t_cal


def load(args) -> np.ndarray:
    if args.input is None:
        return data.load("brain-16ch").kspace
    from csbox.cli import _read_input

    raw = _read_input(Path(args.input))
    if args.slice is not None:
        raw = raw.select(slice=args.slice)
    if raw.kspace.ndim != 3 or raw.mask.mean() < 0.999:
        raise SystemExit(f"{args.input}: need one fully sampled 2-D slice (coil, ky, kx), got {raw}")
    return raw.kspace


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", help="a fully sampled scan (default: data/brain_flash_16ch.h5)")
    p.add_argument("--slice", type=int)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    full = load(args).astype(np.complex64)
    print(f"k-space {full.shape}, max |k| {np.abs(full).max():.3g}; {versions('numpy', 'scipy', 'pywt')}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    if BART:
        print(subprocess.run([BART, "version"], capture_output=True, text=True).stdout.strip(), "(BART)")
    else:
        print("bart not found: BART rows skipped")
    for R in (4, 8):
        mask = poisson_disc(full.shape[-2:], acceleration=R, calib=CALIB, seed=0)
        y = (full * mask).astype(np.complex64)
        maps = espirit_maps(y, calib_width=CALIB)
        sup = np.sum(np.abs(maps) ** 2, axis=0) > 0
        ref = np.abs(Sense(maps).H @ full)
        rows, t_maps = csbox_rows(y, mask, ref, sup, args.repeat)
        brows, t_cal = bart_rows(y, ref, sup, args.repeat) if BART else ([], float("nan"))
        report(R, rows, brows, t_maps, t_cal)


def report(R, rows, brows, t_maps, t_cal) -> None:
    print(f"\nR = {R} (2-D Poisson disc, {CALIB}x{CALIB} centre); maps: csbox {t_maps:.2f} s, BART ecalib "
          f"{t_cal:.2f} s")
    print(f"{'method':<24} {'lam':>7} {'PSNR dB':>8} {'SSIM':>6} {'time s':>7}")
    for label, lam, ps, ss, t in rows + brows:
        lam_s = "default" if lam is None else f"{lam:g}"
        print(f"{label:<24} {lam_s:>7} {ps:8.2f} {ss:6.3f} {t:7.2f}")
    best_c = max((r for r in rows if r[0] == "csbox l1-wavelet"), key=lambda r: r[2])
    line = "lam {:g}, {:.2f} dB / {:.3f}, {:.2f} s"
    print("best csbox l1-wavelet:", line.format(*best_c[1:]))
    if brows:
        best_b = max(brows, key=lambda r: r[2])
        print("best BART pics -l1:   ", line.format(*best_b[1:]))
        print(f"csbox - BART = {best_c[2] - best_b[2]:+.2f} dB PSNR, {best_c[3] - best_b[3]:+.3f} SSIM; "
              f"time BART / csbox = {best_b[4] / best_c[4]:.2f}x")


if __name__ == "__main__":
    main()
