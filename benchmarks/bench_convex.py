"""Convex toolkit speed: TV CS-MRI vs SigPy and BART, tv_denoise vs scikit-image.

Run: ``python benchmarks/bench_convex.py`` (one run; peers that are missing are skipped).

1. TV-regularised CS-MRI, 256x256 Shepp-Logan, Cartesian 4x (the ``mri`` demo's
   problem), ``min 0.5||M F x - y||^2 + lam TV(x)`` with ``lam = 1e-3 max|A^H y|``:
   csbox ADMM and PDHG, SigPy ``TotalVariationRecon`` (PDHG) and BART ``pics -R T``
   (ADMM) at the same ``lam`` (BART scales the data by ``1/s`` first, so it gets
   ``lam / s``; its TV is the isotropic l2,1 of the gradient like ours; SigPy's
   ``TotalVariationRecon`` uses the anisotropic l1 of periodic differences, compared
   with csbox's anisotropic TV). Time per iteration, time to a relative objective gap
   of 1e-2 / 1e-3 (csbox; ``F*`` from a long ADMM run), PSNR after the same iterations.
2. ``tv_denoise`` 512x512 and 256x256x256 vs ``skimage.restoration.denoise_tv_chambolle``
   to the same ROF objective: scikit-image is run first (default ``eps``, then 200
   iterations); csbox then runs the fewest iterations whose objective is at or below
   scikit-image's (see :func:`bench_tv_denoise`). ``--tv`` runs this part alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from _problems import cs_mri_problem

from _timing import best_time, versions
from csbox.metrics import psnr
from csbox.operators import Gradient
from csbox.penalties import TV
from csbox.phantoms import shepp_logan
from csbox.solvers import admm, pdhg, tv_denoise

N_ITER = 100


def _tv_obj(A, y, lam, x, isotropic=True):
    r = A @ x - y
    g = Gradient(x.shape) @ x
    tv = np.sum(np.sqrt(np.sum(np.abs(g) ** 2, axis=0))) if isotropic else np.sum(np.abs(g))
    return 0.5 * np.vdot(r, r).real + lam * tv


def _time_to(hist, f_star, rel):
    obj = np.array(hist["objective"])
    ok = np.nonzero(obj <= f_star * (1 + rel))[0]
    return hist["time"][ok[0]] if ok.size else float("nan")


def _write_cfl(path, arr):
    arr = np.asarray(arr, dtype=np.complex64)
    dims = list(arr.shape) + [1] * (16 - arr.ndim)
    with open(path + ".hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(str(d) for d in dims) + "\n")
    arr.ravel(order="F").tofile(path + ".cfl")


def _read_cfl(path):
    with open(path + ".hdr") as f:
        f.readline()
        dims = [int(d) for d in f.readline().split()]
    n = int(np.prod(dims))
    data = np.fromfile(path + ".cfl", dtype=np.complex64, count=n)
    return data.reshape(dims, order="F")


def bench_mri() -> None:
    img = shepp_logan(256)
    A, y = cs_mri_problem(img, 4)
    lam = 1e-3 * float(np.abs(A.H @ y).max())
    print(f"TV CS-MRI 256x256, 4x, lam = {lam:.3g}, complex64 data, {N_ITER} iterations")

    ref = admm(A, y.astype(np.complex128), [TV(lam)], max_iter=600, tol=None, check_every=600)
    f_star = ref.history["objective"][-1]
    rows = {}
    solvers = {
        "csbox ADMM": admm,
        "csbox PDHG": pdhg,
        "csbox PDHG b=100": lambda *a, **k: pdhg(*a, balance=100.0, **k),  # balance tuned once (docs)
    }
    for name, fn in solvers.items():
        t0 = time.perf_counter()
        fn(A, y, [TV(lam)], max_iter=N_ITER, tol=None, check_every=N_ITER)
        t = (time.perf_counter() - t0) / N_ITER
        r = fn(A, y, [TV(lam)], max_iter=4 * N_ITER, tol=None, check_every=5)
        f_star = min(f_star, min(r.history["objective"]))
        rows[name] = [t, r, None]
    for name, (t, r, _) in rows.items():
        k = N_ITER // 5 - 1  # the checkpoint of iteration N_ITER
        obj_k = r.history["objective"][k]
        t2, t3 = _time_to(r.history, f_star, 1e-2), _time_to(r.history, f_star, 1e-3)
        print(f"  {name:<12} {1e3 * t:7.1f} ms/iter | to gap 1e-2: {t2:6.2f} s, 1e-3: {t3:6.2f} s "
              f"| gap after {N_ITER}: {(obj_k - f_star) / f_star:.1e}")
    psnrs = {}
    for name, (_, r, _) in rows.items():
        psnrs[name] = psnr(r.x, img)
    t_admm = rows["csbox ADMM"][0]
    t_pdhg = rows["csbox PDHG"][0]

    try:
        import sigpy.mri.app as sapp

        ksp = np.zeros(img.shape, np.complex64)
        ksp[A.mask] = y
        t0 = time.perf_counter()
        mps = np.ones((1, *img.shape), np.complex64)
        xs = sapp.TotalVariationRecon(ksp[None], mps, lam, weights=A.mask.astype(np.float32),
                                      max_iter=N_ITER, show_pbar=False).run()
        ts = (time.perf_counter() - t0) / N_ITER
        t0 = time.perf_counter()
        pdhg(A, y, [TV(lam, isotropic=False)], max_iter=N_ITER, tol=None, check_every=N_ITER)
        ta = (time.perf_counter() - t0) / N_ITER
        print(f"  SigPy TotalVariationRecon (PDHG, anisotropic TV) {1e3 * ts:7.1f} ms/iter, "
              f"PSNR {psnr(xs, img):.2f} dB | csbox PDHG anisotropic {1e3 * ta:.1f} ms/iter: "
              f"SigPy / csbox = {ts / ta:.2f}")
    except ImportError:
        print("  SigPy: not installed, skipped")

    bart = shutil.which("bart")
    if bart is None:
        print("  BART: not installed, skipped")
    else:
        with tempfile.TemporaryDirectory() as d:
            env, _, scale = _bart_tv_inputs(bart, d, img, A, y, lam)
            lam_b = lam / scale
            tt, kb, _ = _bart_admm(bart, d, lam_b, 4 * N_ITER, env)
            tb = tt / kb
            xb = scale * np.reshape(_read_cfl(os.path.join(d, "x")), img.shape)  # pics returns x / s
        fb = _tv_obj(A, y.astype(np.complex128), lam, xb.astype(np.complex128))
        print(f"  BART pics -R T:3:0:{lam_b:.4g} -C {ADMM_CG} (data scale {scale:.4g}; ADMM, {kb} it) "
              f"{1e3 * tb:7.1f} ms/iter (process total / iterations), "
              f"PSNR {psnr(xb, img):.2f} dB, gap {(fb - f_star) / f_star:.1e}")
        print(f"  csbox / BART per iteration: ADMM {t_admm / tb:.2f}, PDHG {t_pdhg / tb:.2f}; "
              f"PSNR csbox ADMM - BART ({4 * N_ITER} and {kb} iterations): "
              f"{psnrs['csbox ADMM'] - psnr(xb, img):+.2f} dB")
    print(f"  PSNR after {4 * N_ITER} iterations: " + ", ".join(f"{k} {v:.2f} dB" for k, v in psnrs.items()))


def _bart_tv_inputs(bart, d, img, A, y, lam):
    """Single-coil k-space and unit maps as .cfl in ``d``; BART's data scale ``s`` from one probe run.

    BART divides the data by its own scale s before solving; its lambda then acts on the scaled
    problem: 0.5||Ax' - y/s||^2 + lam_b TV(x'), x = s x', i.e. lam = s lam_b.
    """
    ksp = np.zeros(img.shape, np.complex64)
    ksp[A.mask] = y
    _write_cfl(os.path.join(d, "k"), ksp[:, :, None, None])
    _write_cfl(os.path.join(d, "s"), np.ones((*img.shape, 1, 1), np.complex64))
    env = dict(os.environ, OMP_NUM_THREADS="2")
    files = [os.path.join(d, "k"), os.path.join(d, "s"), os.path.join(d, "x")]
    probe = subprocess.run([bart, "pics", "-d4", "-i", "1", "-R", f"T:3:0:{lam}", *files],
                           check=True, env=env, capture_output=True, text=True)
    scale = float(re.search(r"Inverse scaling of the data: (\S+)", probe.stdout + probe.stderr)[1])
    return env, files, scale


#: CG steps per ADMM iteration for BART (``-C``), the same as csbox's ``inner_max_iter`` default
ADMM_CG = 5


def _bart_admm(bart, d, lam_b, n_iter, env):
    """BART ``pics -R T`` asked for ``n_iter`` ADMM iterations: (wall s, ADMM iterations, CG steps it ran).

    BART's ``-i`` is not a count of ADMM iterations: its loop stops once the normal operator has
    run more than ``-i`` times (``nr_invokes > maxiter`` in ``src/iter/admm.c``), i.e. ``-i`` counts
    CG steps. With ``-C 5`` an iteration takes at most 5, so ``-i 5K - 1`` asks for K iterations; a CG
    solve that meets its own tolerance early takes fewer, so the iterations BART really ran are read
    from its ``-d4`` iteration lines (one per ADMM iteration, with the CG steps so far) instead of
    assumed. (On TV CS-MRI 256^2 its CG takes 5 steps at first, 3 after ten iterations, 1 late on.)
    """
    files = [os.path.join(d, "k"), os.path.join(d, "s"), os.path.join(d, "x")]
    cmd = [bart, "pics", "-d4", "-C", str(ADMM_CG), "-i", str(ADMM_CG * n_iter - 1),
           "-R", f"T:3:0:{lam_b}", *files]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    lines = re.findall(r"^\s*\d+\t\s*(\d+)\t", p.stdout + p.stderr, flags=re.M)
    return wall, len(lines), int(lines[-1]) if lines else 0


def bench_admm_vs_bart(n_iter: int = 200) -> None:
    """ADMM per iteration on TV CS-MRI 256^2 (issue 30 item 1) against BART ``pics -R T``, and the
    time each takes to BART's objective gap after ``n_iter`` iterations.

    Both count ADMM iterations (BART: ``-C 5``, its ``-i`` in CG steps, the iterations read from its
    output; see :func:`_bart_admm`). BART's per-iteration time is ``(t(K) - t(1)) / (K - 1)`` over
    the K iterations it ran: the process start, file I/O and FFT planning are left out. csbox: best
    of 3 runs of 50 iterations (no checkpoint inside), then one run with a checkpoint every 5
    iterations for the time to the gap.
    """
    img = shepp_logan(256)
    A, y = cs_mri_problem(img, 4)
    lam = 1e-3 * float(np.abs(A.H @ y).max())
    f_star = admm(A, y.astype(np.complex128), [TV(lam)], max_iter=600, tol=None, check_every=600,
                  inner_max_iter=10).history["objective"][-1]
    admm(A, y, [TV(lam)], max_iter=5, tol=None)
    t_it = min(_timed(lambda: admm(A, y, [TV(lam)], max_iter=50, tol=None, check_every=50)) for _ in range(3))
    t_it /= 50
    run = admm(A, y, [TV(lam)], max_iter=n_iter, tol=None, check_every=5)
    inner = "" if run.x_update == "exact" else f", {ADMM_CG} CG steps"
    print(f"ADMM TV CS-MRI 256x256 4x (x_update={run.x_update}{inner}): {1e3 * t_it:.2f} ms/iter, "
          f"gap after {n_iter}: {(run.history['objective'][-1] - f_star) / f_star:.2e}")
    bart = shutil.which("bart")
    if bart is None:
        print("  BART: not installed, skipped")
        return
    with tempfile.TemporaryDirectory() as d:
        env, _, scale = _bart_tv_inputs(bart, d, img, A, y, lam)
        t1, k1, _ = min(_bart_admm(bart, d, lam / scale, 1, env) for _ in range(2))
        tn, kn, cg = _bart_admm(bart, d, lam / scale, n_iter, env)
        xb = scale * np.reshape(_read_cfl(os.path.join(d, "x")), img.shape)
    tb = (tn - t1) / (kn - k1)
    gap_b = (_tv_obj(A, y.astype(np.complex128), lam, xb.astype(np.complex128)) - f_star) / f_star
    t_gap = _time_to(run.history, f_star, gap_b)
    print(f"  BART pics -R T -C {ADMM_CG} -i {ADMM_CG * n_iter - 1}: {kn} ADMM iterations (its -d4 lines; "
          f"{cg / kn:.2f} CG steps per iteration on average), "
          f"{1e3 * tb:.2f} ms/iter (t({kn}) - t({k1}), without start-up; whole process "
          f"{1e3 * tn / kn:.2f}), gap after {kn}: {gap_b:.2e} in {tn - t1:.2f} s")
    print(f"  BART / csbox per iteration = {tb / t_it:.2f}; time to BART's gap: csbox {t_gap:.2f} s, "
          f"BART {tn - t1:.2f} s, BART / csbox = {(tn - t1) / t_gap:.2f}")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _tv_problem(shape: tuple[int, ...]) -> np.ndarray:
    """Shepp-Logan (512^2), or its 256^2 slice stacked over the middle 180 of 256 planes, plus noise 0.1."""
    rng = np.random.default_rng(0)
    if len(shape) == 2:
        img = shepp_logan(shape[0])
    else:
        z = np.abs(np.arange(shape[0]) - shape[0] / 2) < 0.35 * shape[0]
        img = z[:, None, None] * shepp_logan(shape[1])[None]
    return img + 0.1 * rng.standard_normal(shape)


def _rof(img: np.ndarray, lam: float):
    """The ROF objective ``0.5||x - img||^2 + lam TV(x)`` in float64, one function for both solvers."""
    G = Gradient(img.shape)

    def obj(x):
        x = np.asarray(x, dtype=np.float64)
        g = G @ x
        return 0.5 * np.sum((x - img) ** 2) + lam * np.sum(np.sqrt(np.sum(g**2, axis=0)))

    return obj


def _iterations_to(img, lam, target, cap):
    """Fewest FGP iterations whose objective is at or below ``target`` (checked every iteration)."""
    from csbox.iterative import Flag

    class _Reached(Flag):
        def __init__(self):
            super().__init__("objective", "reached")

        def __call__(self, state):
            return "reached" if state.metrics["objective"] <= target else None

    res = tv_denoise(img, lam, max_iter=cap, tol=None, check_every=1, stop=_Reached())
    return res.n_iter


def _tv_row(img, lam, label, sk_kw, repeat) -> None:
    from skimage.restoration import denoise_tv_chambolle

    obj = _rof(img, lam)
    t_sk = best_time(lambda: denoise_tv_chambolle(img, weight=lam, **sk_kw), repeat=repeat)
    f_sk = obj(denoise_tv_chambolle(img, weight=lam, **sk_kw))
    n = _iterations_to(img, lam, f_sk, 5000)
    # csbox to the same objective: the iterations that reach it, one gap check at the end
    t_cs = best_time(lambda: tv_denoise(img, lam, max_iter=n, tol=None, check_every=n), repeat=repeat)
    f_cs = obj(tv_denoise(img, lam, max_iter=n, tol=None, check_every=n).x)
    img32 = img.astype(np.float32)
    t_32 = best_time(lambda: tv_denoise(img32, lam, max_iter=n, tol=None, check_every=n), repeat=repeat)
    f_32 = obj(tv_denoise(img32, lam, max_iter=n, tol=None, check_every=n).x)
    # and stopping on its own: the same target tested at every iteration (the gap check's cost included)
    t_chk = best_time(lambda: _iterations_to(img, lam, f_sk, 5000), repeat=repeat)
    size = "x".join(map(str, img.shape))
    print(f"  {size:<11} {label:<15} | skimage {t_sk:8.3f} s  F {f_sk:<12.7g} | csbox {n:4d} it "
          f"{t_cs:8.3f} s  F {f_cs:<12.7g} | ratio {t_sk / t_cs:5.2f} | checked every it {t_chk:7.3f} s "
          f"({t_sk / t_chk:4.2f}) | float32 {t_32:7.3f} s F {f_32:.7g} ({t_sk / t_32:4.2f})")


def bench_tv_denoise(sizes=((512, 512), (256, 256, 256))) -> None:
    """``tv_denoise`` vs ``denoise_tv_chambolle`` to the same ROF objective (skimage's ``weight = lam``).

    scikit-image runs first (its default ``eps = 2e-4``, then 200 iterations with ``eps = 0``); csbox
    then runs the fewest FGP iterations whose objective is at or below scikit-image's (found by a run
    checked every iteration), timed with one duality-gap check at the end; also timed: the run that
    finds that count itself (the objective checked at every iteration) and float32. Best of repeats.
    """
    try:
        import skimage
    except ImportError:
        print("tv_denoise: scikit-image not installed, skipped")
        return
    lam = 0.1
    print(f"tv_denoise (FGP) vs scikit-image {skimage.__version__} denoise_tv_chambolle, lam = weight = "
          f"{lam}, ROF objective F in float64; ratio = skimage time / csbox time (goal >= 2)")
    for shape in sizes:
        img = _tv_problem(shape)
        repeat = 3 if img.size <= 2**20 else 1
        _tv_row(img, lam, "default eps", {}, repeat)
        _tv_row(img, lam, "200 iterations", {"eps": 0.0, "max_num_iter": 200}, repeat)


def main() -> None:
    if "--admm" in sys.argv:  # issue 30 item 1 only
        bench_admm_vs_bart()
        return
    print(versions("numpy", "scipy", "sigpy", "skimage", "csbox"))
    bench_tv_denoise()
    if "--tv" in sys.argv:
        return
    bench_mri()


if __name__ == "__main__":
    main()
