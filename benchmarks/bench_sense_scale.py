"""Multi-coil SENSE at clinical size, side by side with BART: time per iteration and peak memory.

Issue 30 item 3. Cases (complex64 throughout):

- ``2d-16``, ``2d-32``: a 320 x 320 slice with 16 and 32 coils;
- ``3d-16``: a 160 x 160 x 64 volume with 16 coils (readout along the first axis, fully sampled).

Data are SIMULATED, not a scan: the modified Shepp-Logan phantom (in 3-D an ellipsoidal stack of
it: each slice the 2-D phantom shrunk by ``sqrt(1 - (z / z_r)^2)``), smooth coil maps (2-D:
:func:`csbox.mri.birdcage_maps`; 3-D: Gaussian coils on two rings around the volume with a linear
phase), normalised so that ``sum_c |S_c|^2 = 1`` (as ESPIRiT's, so BART's default step 0.95 is
safe), k-space ``M F S x`` plus complex noise (1e-3 of the peak coil sample), Poisson-disc masks at
R = 4 with a 24 x 24 calibration centre (in 3-D over the two phase-encode axes, the readout fully
sampled).

Methods, the same problem for both (BART's data scaling off, ``-w 1``; the same absolute ``lam``):

- ``cg``: CG-SENSE, ``cg_sense(lam=1e-3)`` vs ``pics -l2 -r 1e-3``;
- ``l1``: l1-wavelet SENSE by FISTA, Daubechies-2, no cycle spinning,
  ``l1_wavelet_sense(wavelet="db2", cycle_spin=False)`` vs ``pics -l1 -n``;
- ``tv``: TV SENSE by ADMM, 5 CG steps per iteration for both: ``tv_sense`` (its defaults) vs
  ``pics -R T:{3|7}:0:lam -C 5 -i 5K-1`` for K iterations (BART's ADMM counts ``-i`` in CG steps,
  not ADMM iterations: its loop ends once the normal operator has run more than ``-i`` times; its
  CG may stop early at its own tolerance, so the ADMM iterations BART ran are counted from its
  ``-d4`` output and its time per iteration is over those).

Every run is its own child process, so that its peak resident set (``ru_maxrss`` from
``os.wait4``) is its own: csbox's includes the interpreter, NumPy/SciPy and csbox imports (printed
apart as ``base``) and the data loaded from ``.npy``; BART's its own process reading ``.cfl`` files.
Time per iteration, for both: ``(t(N) - t(1)) / (N - 1)`` (start-up, I/O and FFT planning left
out); csbox times both runs inside one process, BART runs twice. BART with ``OMP_NUM_THREADS=2``,
csbox's FFTs on all workers (2 here). ``--coil-batch K`` adds csbox rows with
``Sense(coil_batch=K)`` (the maps and FFTs applied K coils at a time).

Run: ``python benchmarks/bench_sense_scale.py [--cases 2d-16,2d-32,3d-16] [--methods cg,l1,tv]
[--coil-batch 4]`` (Debian package ``bart``; without it the BART columns are skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import re

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import versions

BART = shutil.which("bart")
ENV = dict(os.environ, OMP_NUM_THREADS="2")
CASES = {"2d-16": ((320, 320), 16), "2d-32": ((320, 320), 32), "3d-16": ((160, 160, 64), 16)}
#: iterations N of the timed run per case kind and method (t(1) is the other run)
ITERS = {"2d": {"cg": 20, "l1": 30, "tv": 15}, "3d": {"cg": 8, "l1": 8, "tv": 5}}
ADMM_CG = 5  # CG steps per ADMM iteration, both (csbox's default inner_max_iter; BART -C)
LAM = {"cg": 1e-3, "l1": 2e-3, "tv": 2e-3}  # times max|A^H y| (absolute below: BART -w 1)


# ---------------------------------------------------------------------------- simulated data
def _phantom(shape: tuple[int, ...]) -> np.ndarray:
    from scipy.ndimage import map_coordinates

    from csbox.phantoms import shepp_logan

    sl = shepp_logan(shape[0]).astype(np.float32)
    if len(shape) == 2:
        return sl
    nz = shape[2]
    out = np.zeros(shape, np.float32)
    c = (shape[0] - 1) / 2
    ii, jj = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    for k in range(nz):
        z = (k - (nz - 1) / 2) / (0.5 * nz)
        f = np.sqrt(max(1.0 - z * z, 0.0))
        if f < 0.05:
            continue
        coords = np.stack([c + (ii - c) / f, c + (jj - c) / f])
        out[:, :, k] = map_coordinates(sl, coords, order=1, cval=0.0)
    return out


def _maps(shape: tuple[int, ...], n_coils: int) -> np.ndarray:
    """Smooth coil maps, ``sum_c |S_c|^2 = 1``: birdcage in 2-D, two rings of Gaussian coils in 3-D."""
    if len(shape) == 2:
        from csbox.mri import birdcage_maps

        m = birdcage_maps(shape, n_coils)
    else:
        grids = np.meshgrid(*[np.linspace(-1, 1, s) for s in shape], indexing="ij", sparse=True)
        ring = n_coils // 2
        m = np.empty((n_coils, *shape), np.complex128)
        for c in range(n_coils):
            phi = 2 * np.pi * (c % ring) / ring + (np.pi / ring) * (c // ring)
            cx, cy, cz = 1.3 * np.cos(phi), 1.3 * np.sin(phi), (-0.5 if c < ring else 0.5)
            d2 = (grids[0] - cx) ** 2 + (grids[1] - cy) ** 2 + (grids[2] - cz) ** 2
            m[c] = np.exp(-d2 / 1.5) * np.exp(1j * (phi + 0.5 * grids[0] * np.cos(phi)))
    m = m / np.sqrt(np.sum(np.abs(m) ** 2, axis=0))
    return m.astype(np.complex64)


def make_case(name: str, folder: Path) -> dict:
    """Write ``y.npy``, ``maps.npy``, ``mask.npy``, ``x.npy`` and BART's ``y``/``m``/``p`` ``.cfl``."""
    from csbox.io import write_cfl
    from csbox.mri import Sense
    from csbox.sampling import poisson_disc

    shape, nc = CASES[name]
    x = _phantom(shape)
    maps = _maps(shape, nc)
    if len(shape) == 2:
        mask = poisson_disc(shape, acceleration=4, calib=24, seed=0)
    else:
        mask = np.broadcast_to(poisson_disc(shape[1:], acceleration=4, calib=24, seed=0), shape).copy()
    A = Sense(maps, mask)
    k = np.asarray(A @ x.astype(np.complex64))
    rng = np.random.default_rng(0)
    sigma = 1e-3 * float(np.abs(k).max())
    k += (sigma / np.sqrt(2)) * (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)).astype(
        np.complex64)
    k = (k * mask).astype(np.complex64)
    scale = float(np.abs(A.H @ k).max())
    folder.mkdir(parents=True, exist_ok=True)
    for key, arr in (("y", k), ("maps", maps), ("mask", mask), ("x", x)):
        np.save(folder / f"{key}.npy", arr)
    pad = (slice(None),) * len(shape) + (None,) * (3 - len(shape))
    write_cfl(folder / "y", np.moveaxis(k, 0, -1)[(*pad, slice(None))])  # (x, y, z, coils)
    write_cfl(folder / "m", np.moveaxis(maps, 0, -1)[(*pad, slice(None))])
    write_cfl(folder / "p", mask[pad].astype(np.complex64))
    return {"shape": shape, "coils": nc, "R": mask.size / mask.sum(), "scale": scale,
            "data_mib": k.nbytes / 2**20}


# ---------------------------------------------------------------------------- one run, one process
def _csbox_call(method: str, folder: Path, n_iter: int, lam: float, coil_batch: int | None):
    from csbox.mri import cg_sense, l1_wavelet_sense, tv_sense

    y, maps, mask = (np.load(folder / f"{k}.npy") for k in ("y", "maps", "mask"))
    kw = {"normalize": False, "max_iter": n_iter, "tol": None}
    if coil_batch:
        kw["coil_batch"] = coil_batch
    if method == "cg":
        return lambda: cg_sense(y, maps, mask, lam=lam, **kw)
    if method == "l1":
        return lambda: l1_wavelet_sense(y, maps, mask, lam=lam, wavelet="db2", cycle_spin=False, **kw)
    return lambda: tv_sense(y, maps, mask, lam=lam, **kw)


def child(method: str, folder: Path, n_iter: int, lam: float, coil_batch: int | None) -> None:
    """Run csbox's ``method`` for 1 and ``n_iter`` iterations in this process; print one JSON line."""
    import csbox.mri  # noqa: F401 (the imports belong to the base, not to the run)

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, iters, res = [], [], None
    for n in (1, 1, n_iter):  # the first run warms up (imports, FFT plans), then t(1) and t(N)
        fn = _csbox_call(method, folder, n, lam, coil_batch)
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
        iters.append(res.n_iter)
        del fn
    tag = f"{method}{'-b' + str(coil_batch) if coil_batch else ''}"
    np.save(folder / f"out_csbox_{tag}.npy", np.asarray(res.x))
    print(json.dumps({"t1": times[1], "tn": times[2], "n1": iters[1], "nn": iters[2], "base_mib": base}))


#: runs its arguments in a forked child and reports that child's peak RSS: a child started straight from
#: this (large) process would inherit this process's peak in ``ru_maxrss`` through exec (Linux keeps
#: the high-water mark of the memory it replaces); forked from this small launcher, its floor is the
#: launcher's ~10 MiB (``/bin/true`` reads about that).
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[1], sys.argv[1:])\n"
    "_, st, ru = os.wait4(pid, 0)\n"
    "sys.stderr.write('\\nMAXRSS_KIB %d\\n' % ru.ru_maxrss)\n"
    "sys.exit(os.waitstatus_to_exitcode(st))\n"
)


def _run(cmd: list[str], env: dict | None = None) -> tuple[float, float, str, str]:
    """Run ``cmd`` in a child process: (wall seconds, its peak resident set in MiB, its stdout, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *cmd], capture_output=True, env=env, text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    kib = int(p.stderr.rsplit("MAXRSS_KIB", 1)[1].split()[0])
    return wall, kib / 1024, p.stdout, p.stderr


def run_csbox(method: str, folder: Path, n_iter: int, lam: float, coil_batch: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", method, str(folder), str(n_iter), repr(lam),
           str(coil_batch or 0)]
    _, rss, text, _ = _run(cmd)
    r = json.loads(text.strip().splitlines()[-1])
    return {"ms": 1e3 * (r["tn"] - r["t1"]) / (r["nn"] - r["n1"]), "rss": rss, "base": r["base_mib"],
            "n": r["nn"]}


def run_bart(method: str, folder: Path, n_iter: int, lam: float, ndim: int) -> dict:
    from csbox.io import read_cfl

    reg = {"cg": ["-l2", "-r", repr(lam)], "l1": ["-l1", "-r", repr(lam), "-n"],
           "tv": ["-d4", "-R", f"T:{7 if ndim == 3 else 3}:0:{lam}", "-C", str(ADMM_CG)]}[method]

    def call(n: int) -> tuple[float, float, int]:
        # BART's ADMM stops once its count of normal-operator applications (CG steps) passes -i:
        # K outer iterations of C CG steps take -i K*C - 1 (src/iter/admm.c, nr_invokes > maxiter).
        # Its CG also stops at its own tolerance, taking fewer steps and leaving room for more
        # iterations: the ADMM iterations it ran are counted from its -d4 lines, one per iteration.
        its = n * ADMM_CG - 1 if method == "tv" else n
        cmd = [BART, "pics", "-w", "1", "-i", str(its), *reg, "-p", str(folder / "p"), str(folder / "y"),
               str(folder / "m"), str(folder / f"out_bart_{method}")]
        wall, rss, out, err = _run(cmd, ENV)
        ran = len(re.findall(r"^\s*\d+\t\s*\d+\t", out + err, flags=re.M)) if method == "tv" else n
        return wall, rss, ran

    t1, _, k1 = min(call(1) for _ in range(2))
    (tn, rss, kn), (tn2, _, _) = call(n_iter), call(n_iter)
    tn = min(tn, tn2)
    x = np.squeeze(read_cfl(folder / f"out_bart_{method}"))
    np.save(folder / f"out_bart_{method}.npy", x)
    return {"ms": 1e3 * (tn - t1) / (kn - k1), "rss": rss, "n": kn}


def _psnr(folder: Path, tag: str) -> float:
    x = np.abs(np.load(folder / f"out_{tag}.npy"))
    ref = np.load(folder / "x.npy")
    return float(10 * np.log10(ref.max() ** 2 / np.mean((x - ref) ** 2)))


# ---------------------------------------------------------------------------- the table
def bench_case(name: str, methods: list[str], batches: list[int], tmp: Path) -> list[str]:
    folder = tmp / name
    info = make_case(name, folder)
    kind = "3d" if len(info["shape"]) == 3 else "2d"
    print(f"\n{name}: {'x'.join(map(str, info['shape']))}, {info['coils']} coils, R = {info['R']:.2f}, "
          f"k-space {info['data_mib']:.0f} MiB, max|A^H y| = {info['scale']:.3g}", flush=True)
    lines = []
    for method in methods:
        n_iter = ITERS[kind][method]
        lam = LAM[method] * info["scale"]
        row = {"csbox": run_csbox(method, folder, n_iter, lam, None)}
        for b in batches:
            row[f"csbox coil_batch={b}"] = run_csbox(method, folder, n_iter, lam, b)
        if BART:
            row["BART"] = run_bart(method, folder, n_iter, lam, len(info["shape"]))
        c = row["csbox"]
        for label, r in row.items():
            tag = "bart_" + method if label == "BART" else "csbox_" + method + (
                "" if label == "csbox" else "-b" + label.split("=")[1])
            extra = f" (base {r['base']:.0f})" if "base" in r else ""
            line = (f"  {method:<3} {label:<22} {r['ms']:9.1f} ms/iter  peak RSS {r['rss']:7.0f} MiB{extra}"
                    f"  PSNR {_psnr(folder, tag):6.2f} dB  [{r['n']} it]")
            if label == "BART":
                line += (f"  | BART / csbox time = {r['ms'] / c['ms']:.2f}x, "
                         f"csbox / BART memory = {c['rss'] / r['rss']:.2f}x")
            print(line, flush=True)
            lines.append(f"{name} {line.strip()}")
    shutil.rmtree(folder, ignore_errors=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--methods", default="cg,l1,tv")
    ap.add_argument("--coil-batch", default="", help="comma-separated coil batch sizes to add as rows")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        method, folder, n_iter, lam, batch = a.child
        child(method, Path(folder), int(n_iter), float(lam), int(batch) or None)
        return
    print(versions("numpy", "scipy", "csbox"))
    if BART:
        print(subprocess.run([BART, "version"], capture_output=True, text=True).stdout.strip(), "(BART)")
    else:
        print("BART: not installed, its columns are skipped")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    batches = [int(b) for b in a.coil_batch.split(",") if b]
    tmp = Path(tempfile.mkdtemp(prefix="sense_scale_"))
    try:
        for name in a.cases.split(","):
            bench_case(name, a.methods.split(","), batches, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
