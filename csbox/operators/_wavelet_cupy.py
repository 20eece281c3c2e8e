"""One periodized DWT level as a single fused CuPy kernel (the wavelet's GPU fast path).

On GPUs the strided array-API level of :mod:`csbox.operators.wavelet` is
launch-bound (~``4L`` small kernels per level and axis); this module does the
same arithmetic in one ``ElementwiseKernel`` launch. It is imported lazily and
only used when the input is a CuPy array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import Array

_KERNELS: dict = {}

_ANALYSIS = r"""
long long r = i / m, k = i % m;
T sa = T(0), sd = T(0);
for (int j = 0; j < L; j++) {
    long long t = (2 * k + L / 2 - j) % n;
    if (t < 0) t += n;
    T v = x[r * n + t];
    sa += v * T(lo[j]);
    sd += v * T(hi[j]);
}
a = sa;
d = sd;
"""

_SYNTHESIS = r"""
long long r = i / n, t = i % n;
T s = T(0);
for (int j = 0; j < L; j++) {
    long long u = ((t - L / 2 + j) % n + n) % n;
    if (u % 2) continue;
    long long k = u / 2;
    s += ca[r * m + k] * T(lo[j]) + cd[r * m + k] * T(hi[j]);
}
y = s;
"""


def dwt_level(x: Array, axis: int, lo: Any, hi: Any, inverse: bool) -> Array:
    """One periodized DWT level of the CuPy array ``x`` along ``axis``.

    Same arithmetic as :mod:`csbox.operators.wavelet` (``cA[k] = sum_j lo[j] x[(2k + L/2 - j)
    mod n]``, output ``concat([cA, cD])``; ``inverse`` is its adjoint), one kernel launch.
    """
    import cupy

    if "ana" not in _KERNELS:
        params = "raw T x, raw float64 lo, raw float64 hi, int64 n, int64 m, int64 L"
        _KERNELS["ana"] = cupy.ElementwiseKernel(params, "T a, T d", _ANALYSIS, "csbox_dwt_analysis")
        params = "raw T ca, raw T cd, raw float64 lo, raw float64 hi, int64 n, int64 m, int64 L"
        _KERNELS["syn"] = cupy.ElementwiseKernel(params, "T y", _SYNTHESIS, "csbox_dwt_synthesis")
    fkey = (tuple(lo), tuple(hi), cupy.cuda.Device().id)
    if fkey not in _KERNELS:  # filters copied to the GPU once, not at every level
        _KERNELS[fkey] = (cupy.asarray(np.asarray(lo, dtype=np.float64)),
                          cupy.asarray(np.asarray(hi, dtype=np.float64)))
    lo_d, hi_d = _KERNELS[fkey]
    xm = cupy.ascontiguousarray(cupy.moveaxis(x, axis, -1))
    shape = xm.shape
    n = shape[-1]
    m = n // 2
    rows = xm.size // n
    L = lo_d.size
    if not inverse:
        a = cupy.empty((rows, m), dtype=x.dtype)
        d = cupy.empty((rows, m), dtype=x.dtype)
        _KERNELS["ana"](xm.reshape(rows, n), lo_d, hi_d, n, m, L, a, d)
        out = cupy.concatenate([a, d], axis=-1).reshape(shape)
    else:
        flat = xm.reshape(rows, n)
        ca = cupy.ascontiguousarray(flat[:, :m])
        cd = cupy.ascontiguousarray(flat[:, m:])
        out = cupy.empty((rows, n), dtype=x.dtype)
        _KERNELS["syn"](ca, cd, lo_d, hi_d, n, m, L, out)
        out = out.reshape(shape)
    return cupy.moveaxis(out, -1, axis)
