"""Why BART's l1-wavelet SENSE image is better at the same lam: one change at a time (issue 30 item 3).

The problem of ``bench_parallel_mri.py``: ``bart phantom -k -s 8 -x 256`` (8 coils), a 1-D
variable-density Cartesian mask (R = 4, 24 centre lines), BART ``ecalib`` maps, ``lam = 2e-3
max|A^H y|`` absolute (BART ``-w 1``, csbox ``normalize=False``), PSNR of the magnitude against the
CG-SENSE image of the fully sampled data. Rows, each one change from the first csbox row or the
first BART row:

- csbox ``l1_wavelet_sense`` (db2, periodized, its default levels, no cycle spinning, 100 FISTA
  iterations with adaptive restart, step 1/L): levels 5 and 4, db4, cycle spinning, 30 / 300
  iterations, no restart, the fixed step 0.95 of BART, lam x 0.5 / x 2, and the image after one more
  gradient step ``x + 0.95 A^H (y - A x)`` (BART's FISTA returns that iterate: its loop ends with
  the gradient step, the threshold comes first in the next iteration, ``src/iter/italgos.c``);
- BART ``pics -l1 -r lam -w 1 -n -i 100``: 30 / 300 iterations, cycle spinning on, its own data
  scaling with ``-r lam / s`` (the same problem on scaled data) and with the bare ``-r lam``;
- "BART in NumPy": BART's algorithm written out here (x0 = 0; threshold, FISTA momentum, gradient
  step 0.95; returns the gradient-step iterate) with BART's wavelet: Daubechies-2 with half-sample
  symmetric extension, not periodized (``pywt.wavedec2(mode="symmetric")``: band sizes 129, 66, 34,
  18, 10 as BART's ``bandsize = (n + 3) / 2`` down to its minimum size 16), five levels, every band
  soft-thresholded, synthesis ``waverec2`` (``src/wavelet/wavelet.c``); then the same with csbox's
  periodized transform in its place.

Also printed: each image's objective ``0.5||Ax - y||^2 + lam ||W x||_1`` under csbox's periodized
db2 ``W`` (lower = the better solution of csbox's problem).

Run: ``python benchmarks/bench_l1_sense_gap.py`` (needs the ``bart`` command).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from csbox.io import read_cfl, write_cfl
from csbox.mri import Sense, cg_sense, l1_wavelet_sense
from csbox.operators import Wavelet
from csbox.penalties import L1
from csbox.sampling import cartesian, variable_density
from csbox.solvers import fista

N, CALIB, N_IT, STEP_BART = 256, 24, 100, 0.95
BART = shutil.which("bart")
ENV = dict(os.environ, OMP_NUM_THREADS="2")


def _psnr(x, ref) -> float:
    x, ref = np.abs(x), np.abs(ref)
    return float(10 * np.log10(ref.max() ** 2 / np.mean((x - ref) ** 2)))


def problem(tmp: Path) -> dict:
    """The data, mask, BART maps and reference of ``bench_parallel_mri.py``."""
    subprocess.run([BART, "phantom", "-k", "-s", "8", "-x", str(N), str(tmp / "full")], check=True, env=ENV)
    full = np.ascontiguousarray(np.moveaxis(read_cfl(tmp / "full")[:, :, 0, :], -1, 0)).astype(np.complex64)
    lines = variable_density(N, acceleration=4, calib=CALIB, density="gauss", sigma=0.3, seed=0)
    mask = cartesian(lines, (N, N), axis=0)
    y = (full * mask).astype(np.complex64)
    write_cfl(tmp / "y", np.moveaxis(y, 0, -1)[:, :, None, :])
    subprocess.run([BART, "ecalib", "-m", "1", "-r", str(CALIB), "-k", "6", "-t", "0.02", "-c", "0.95",
                    str(tmp / "y"), str(tmp / "m")], check=True, env=ENV, capture_output=True)
    maps = np.moveaxis(np.reshape(read_cfl(tmp / "m"), (N, N, -1)), -1, 0).astype(np.complex64)
    ref = cg_sense(full, maps, max_iter=50, tol=1e-6).x
    A = Sense(maps, mask)
    lam = 2e-3 * float(np.abs(A.H @ y).max())
    return {"y": y, "maps": maps, "mask": mask, "ref": ref, "A": A, "lam": lam, "tmp": tmp}


def _objective(p: dict, x) -> float:
    W = Wavelet((N, N), "db2")
    r = p["A"] @ np.asarray(x, np.complex64) - p["y"]
    return float(0.5 * np.vdot(r, r).real + p["lam"] * np.sum(np.abs(W @ x)))


def csbox_rows(p: dict) -> list[tuple[str, np.ndarray]]:
    y, maps, mask, lam, A = p["y"], p["maps"], p["mask"], p["lam"], p["A"]
    base = {"lam": lam, "normalize": False, "wavelet": "db2", "cycle_spin": False, "max_iter": N_IT}

    def run(**change):
        return np.asarray(l1_wavelet_sense(y, maps, mask, **{**base, **change}).x)

    x0 = run()
    rows = [(f"csbox baseline (db2 periodized, level {Wavelet((N, N), 'db2').level}, {N_IT} it)", x0)]
    rows += [("  level 5", run(level=5)), ("  level 4", run(level=4)), ("  db4", run(wavelet="db4")),
             ("  cycle spinning", run(cycle_spin=True)), ("  30 iterations", run(max_iter=30)),
             ("  300 iterations", run(max_iter=300)), ("  lam x 0.5", run(lam=0.5 * lam)),
             ("  lam x 2", run(lam=2 * lam))]
    pen = L1(lam).in_basis(Wavelet((N, N), "db2"))
    for label, kw in (("  no adaptive restart", {"restart": False}),
                      ("  step 0.95 (BART's)", {"step": STEP_BART})):
        rows.append((label, np.asarray(fista(A, y, penalty=pen, max_iter=N_IT, tol=None, **kw).x)))
    rows.append(("  + one gradient step (BART's output)", x0 + STEP_BART * (A.H @ (y - A @ x0))))
    return rows


def _bart_l1(p: dict, *extra: str) -> np.ndarray:
    tmp = p["tmp"]
    out = subprocess.run([BART, "pics", "-d4", "-l1", *extra, str(tmp / "y"), str(tmp / "m"), str(tmp / "x")],
                         check=True, env=ENV, capture_output=True, text=True)
    p["log"] = out.stdout + out.stderr
    return np.reshape(read_cfl(tmp / "x"), (N, N))


def bart_rows(p: dict) -> list[tuple[str, np.ndarray]]:
    lam = p["lam"]
    r = repr(lam)
    first = _bart_l1(p, "-r", r, "-w", "1", "-n", "-i", str(N_IT))
    rows = [(f"BART pics -l1 -r lam -w 1 -n -i {N_IT}", first)]
    rows += [("  -i 30", _bart_l1(p, "-r", r, "-w", "1", "-n", "-i", "30")),
             ("  -i 300", _bart_l1(p, "-r", r, "-w", "1", "-n", "-i", "300")),
             ("  cycle spinning (no -n)", _bart_l1(p, "-r", r, "-w", "1", "-i", str(N_IT)))]
    x = _bart_l1(p, "-r", r, "-n", "-i", str(N_IT))  # probe: BART's own data scale s
    s = float(re.search(r"Inverse scaling of the data: (\S+)", p["log"])[1])
    rows.append((f"  own scaling s = {s:.4g}, -r lam/s (same problem)",
                 s * _bart_l1(p, "-r", repr(lam / s), "-n", "-i", str(N_IT))))
    rows.append(("  own scaling, bare -r lam (x s)", s * x))
    return rows


class _BartWavelet:
    """BART's l1-wavelet prox in NumPy: symmetric-extension db2 (not periodized), 5 levels, all bands."""

    def __init__(self, level: int = 5):
        import pywt

        self.pywt, self.level = pywt, level

    def prox(self, x: np.ndarray, t: float) -> np.ndarray:
        pywt = self.pywt
        c = pywt.wavedec2(x, "db2", mode="symmetric", level=self.level)
        arr, sl = pywt.coeffs_to_array(c)
        mag = np.abs(arr)
        arr = arr * np.maximum(1 - t / np.maximum(mag, 1e-30), 0)
        rec = pywt.waverec2(pywt.array_to_coeffs(arr, sl, output_format="wavedec2"), "db2", mode="symmetric")
        return rec[: x.shape[0], : x.shape[1]]


class _PeriodicWavelet:
    def __init__(self):
        self.W = Wavelet((N, N), "db2")

    def prox(self, x: np.ndarray, t: float) -> np.ndarray:
        c = self.W @ x
        return self.W.H @ (c * np.maximum(1 - t / np.maximum(np.abs(c), 1e-30), 0))


def bart_in_numpy(p: dict, wav, n_it: int = N_IT) -> np.ndarray:
    """BART's ``fista`` (``src/iter/italgos.c``): threshold, ravine momentum, gradient step; x0 = 0."""
    A, lam, tau = p["A"], p["lam"], STEP_BART
    b = A.H @ p["y"]
    x = np.zeros((N, N), np.complex64)
    o = x.copy()
    ft = 1.0
    for _ in range(n_it):
        x = wav.prox(x, lam * tau).astype(np.complex64)
        tfo, ft = ft, (1 + np.sqrt(1 + 4 * ft * ft)) / 2
        x, o = o, x  # swap: x <- previous, o <- thresholded
        x = x + ((1 - tfo) / ft - 1) * x + ((tfo - 1) / ft + 1) * o
        x = x + tau * (b - A.H @ (A @ x))
    return x


def main() -> None:
    if BART is None:
        print("BART not installed: this comparison needs it")
        return
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as d:
        p = problem(Path(d))
        R = p["mask"].size / p["mask"].sum()
        print(f"bart phantom -k -s 8 -x {N}, R = {R:.2f}, lam = {p['lam']:.4g} "
              f"(2e-3 max|A^H y|), PSNR vs fully sampled CG-SENSE; F = csbox objective (periodized db2)")
        rows = csbox_rows(p) + bart_rows(p)
        rows += [("BART in NumPy (symmetric db2, 5 levels, BART's FISTA)", bart_in_numpy(p, _BartWavelet())),
                 ("  with csbox's periodized db2 instead", bart_in_numpy(p, _PeriodicWavelet())),
                 ("  symmetric db2, 300 iterations", bart_in_numpy(p, _BartWavelet(), 300))]
        print(f"{'run':<58}{'PSNR dB':>9}{'F':>12}")
        for label, x in rows:
            print(f"{label:<58}{_psnr(x, p['ref']):9.2f}{_objective(p, x):12.5g}")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    sys.exit(main())
