"""DAS speed: csbox (direct gathers and sparse matrix) vs PyMUST's ``dasmtx`` on the same IQ data.

Goals (issue 21): the direct ``das`` (aperture-restricted gathers) at least as fast as
PyMUST's matrix apply (ratio >= 1), ``das_matrix`` built >= 3x faster than ``dasmtx``.

128-element L11-5v, plane waves, 256x256 image (x in +-6.4 mm, z in 5-30 mm),
IQ at 4 fc from csbox's simulator. PyMUST has no direct ``das`` in Python: its
beamformer is ``dasmtx`` (build) + a sparse product (apply), run once per plane
wave and summed. Reported: frames per second and build times, ratios to PyMUST.
Run: ``python benchmarks/bench_ultrasound.py``.
"""

from __future__ import annotations

import time

import numpy as np

from _timing import best_time, versions
from csbox.ultrasound import Probe, das, das_matrix, plane_waves, simulate


def main() -> None:
    print(versions("numpy", "scipy", "pymust", "csbox"))
    import pymust

    P = Probe.l11_5v()
    fs = 4 * P.fc
    rng = np.random.default_rng(0)
    xs, zs = rng.uniform(-6e-3, 6e-3, 300), rng.uniform(6e-3, 29e-3, 300)
    x = np.linspace(-6.4e-3, 6.4e-3, 256)
    z = np.linspace(5e-3, 30e-3, 256)
    X, Z = np.meshgrid(x, z)
    param = pymust.getparam("L11-5v")
    param.fs = fs
    for angles in ([0.0], [-5.0, 0.0, 5.0]):
        tx = plane_waves(angles)
        ns = 1300
        iq = simulate(P, tx, xs, zs, rng.standard_normal(300), fs=fs, n_samples=ns)
        t0 = time.perf_counter()
        das(iq, P, tx, x, z, fs=fs)  # first call: builds and caches the plan
        t_plan = time.perf_counter() - t0
        t_direct = best_time(lambda tx=tx, iq=iq: das(iq, P, tx, x, z, fs=fs), repeat=3)
        t0 = time.perf_counter()
        M = das_matrix(P, tx, x, z, fs=fs, n_samples=ns)
        t_build = time.perf_counter() - t0
        flat = iq.ravel()
        t_apply = best_time(lambda M=M, flat=flat: M @ flat, repeat=5)
        t0 = time.perf_counter()
        mats = []
        for a in angles:
            delays = pymust.txdelay(param, np.deg2rad(a))
            mats.append(pymust.dasmtx(1j * np.array([ns, P.n_elements]), X, Z, delays, param))
        t_pm_build = time.perf_counter() - t0
        sigs = [iq[i].T.ravel(order="F") for i in range(len(angles))]  # samples x elements, column-major

        def pm_apply(mats=mats, sigs=sigs):
            return sum(Mi @ si for Mi, si in zip(mats, sigs, strict=True))

        t_pm_apply = best_time(pm_apply, repeat=5)
        ours = das(iq, P, tx, x, z, fs=fs)
        theirs = pm_apply().reshape(X.shape, order="F")
        a, b = np.abs(ours).ravel(), np.abs(theirs).ravel()
        ncc = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        print(f"{len(angles)} plane wave(s), 256x256:")
        print(f"  csbox das (direct)       {1 / t_direct:7.1f} frames/s (plan {t_plan:.2f} s)")
        print(f"  csbox das_matrix         build {t_build:6.2f} s, apply {t_apply * 1e3:7.2f} ms "
              f"({1 / t_apply:7.1f} frames/s)")
        print(f"  PyMUST dasmtx            build {t_pm_build:6.2f} s, apply {t_pm_apply * 1e3:7.2f} ms "
              f"({1 / t_pm_apply:7.1f} frames/s)")
        print(f"  ratios: build PyMUST/csbox {t_pm_build / t_build:.1f}x, apply {t_pm_apply / t_apply:.1f}x, "
              f"PyMUST apply / csbox direct {t_pm_apply / t_direct:.2f}x; image NCC {ncc:.3f}")
        met_d = "met" if t_pm_apply >= t_direct else "NOT met"
        met_b = "met" if t_pm_build >= 3 * t_build else "NOT met"
        print(f"  goals: PyMUST apply / direct {t_pm_apply / t_direct:.2f} (>= 1 {met_d}); "
              f"build ratio {t_pm_build / t_build:.1f} (>= 3 {met_b})")


if __name__ == "__main__":
    main()
