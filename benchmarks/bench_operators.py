"""Operator speed: csbox vs bare SciPy FFTs, PyWavelets and numpy.kron.

Run: ``python benchmarks/bench_operators.py`` (and ``OMP_NUM_THREADS=1 python
benchmarks/bench_operators.py``: PyWavelets is single-threaded). Prints each
pair and the ratio csbox / reference (lower is better), and the load average:
on a shared machine only the ratios of one run compare.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pywt
import scipy.fft

from _timing import best_time, peak_memory, versions
from csbox.operators import Kronecker, PartialFourier, Wavelet
from csbox.sampling import cartesian, variable_density


def _load() -> str:
    """The 1-minute load average (the machine may be shared: ratios are what to compare)."""
    try:
        return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def _interleaved(f: Callable[[], object], g: Callable[[], object], rounds: int = 5,
                 repeat: int = 9) -> tuple[float, float]:
    """Median wall times of ``f`` and ``g`` over ``rounds`` alternating rounds of ``repeat`` calls."""
    meds: list[list[float]] = [[], []]
    for fn in (f, g):
        fn()
    for _ in range(rounds):
        for k, fn in enumerate((f, g)):
            ts = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
            meds[k].append(float(np.median(ts)))
    return float(np.median(meds[0])), float(np.median(meds[1]))


def main() -> None:
    print(versions("numpy", "scipy", "pywt", "csbox"))
    rng = np.random.default_rng(0)
    n = 512
    x = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype(np.complex128)

    mask = cartesian(variable_density(n, acceleration=4, calib=24, seed=0), (n, n), axis=0)
    A = PartialFourier((n, n), mask, centered=False)
    y = A @ x
    t_pf = best_time(lambda: (A @ x, A.H @ y))
    t_ref = best_time(lambda: scipy.fft.ifft2(scipy.fft.fft2(x, norm="ortho"), norm="ortho"))
    t_ref_w = best_time(
        lambda: scipy.fft.ifft2(scipy.fft.fft2(x, norm="ortho", workers=-1), norm="ortho", workers=-1)
    )
    print(f"PartialFourier {n}x{n} fwd+adj   {t_pf * 1e3:7.2f} ms | scipy fft2+ifft2 "
          f"{t_ref * 1e3:7.2f} ms (workers=-1: {t_ref_w * 1e3:.2f} ms) | ratio {t_pf / t_ref:.2f} "
          f"(vs workers=-1: {t_pf / t_ref_w:.2f})")

    print(f"load: {_load()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    for size in (256, 512):
        for dt in (np.complex64, np.complex128):
            xs = x[:size, :size].astype(dt)
            W = Wavelet((size, size), "db4", level=4)

            def ref(xs=xs):
                c = pywt.wavedec2(xs, "db4", mode="periodization", level=4)
                return pywt.waverec2(c, "db4", mode="periodization")

            # interleaved rounds, median of the per-round medians: both see the same load
            t_w, t_p = _interleaved(lambda W=W, xs=xs: W.H @ (W @ xs), ref)
            r = t_w / t_p
            print(f"Wavelet db4 L4 {size}x{size} {np.dtype(dt).name:<10} fwd+adj {t_w * 1e3:7.2f} ms | pywt "
                  f"wavedec2+waverec2 {t_p * 1e3:7.2f} ms | ratio {r:.2f} (goal <= 0.8: {r / 0.8:.2f} of it)")
    print(f"load after: {_load()}")

    mats = [rng.standard_normal((16, 16)) for _ in range(3)]
    K = Kronecker(*mats)
    v = rng.standard_normal(16**3)
    t_k = best_time(lambda: K @ v, repeat=20, number=20)

    def formed():
        return np.kron(np.kron(mats[0], mats[1]), mats[2]) @ v

    t_f = best_time(formed, repeat=3)
    m_k = peak_memory(lambda: K @ v)
    m_f = peak_memory(formed)
    print(f"Kronecker 3x(16x16)  csbox {t_k * 1e3:8.3f} ms, {m_k:6.2f} MiB | formed kron + matvec "
          f"{t_f * 1e3:8.2f} ms, {m_f:6.1f} MiB | time ratio {t_k / t_f:.4f}, memory ratio {m_k / m_f:.4f}")

    mats = [rng.standard_normal((64, 64)) for _ in range(3)]
    K = Kronecker(*mats)
    v = rng.standard_normal(64**3)
    t_k = best_time(lambda: K @ v, repeat=5)
    m_k = peak_memory(lambda: K @ v)
    print(f"Kronecker 3x(64x64)  csbox {t_k * 1e3:8.2f} ms, peak {m_k:6.2f} MiB "
          f"(formed matrix would need {64**6 * 8 / 2**30:.0f} GiB)")


if __name__ == "__main__":
    main()
