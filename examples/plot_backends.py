"""
One code path on every array backend
====================================

csbox's numerics are written against the Python array API: the same operator
runs on NumPy, on ``array_api_strict`` (the standard's reference, here on its
non-CPU ``device1`` in float32), on torch and, with a GPU, on CuPy. Results
come back in the input's namespace, on its device, in its precision. This
example applies one wavelet + partial-Fourier model on each backend found and
checks the adjoint and the agreement with NumPy.
"""

import time

import numpy as np

from csbox.backend import to_numpy
from csbox.operators import PartialFourier, Wavelet
from csbox.phantoms import shepp_logan
from csbox.sampling import cartesian, variable_density
from csbox.testing import available_backends, dottest

n = 128
mask = cartesian(variable_density(n, acceleration=4, calib=12, seed=0), (n, n), axis=0)
A = PartialFourier((n, n), mask, centered=True) @ Wavelet((n, n), "db4", level=3).H
c = Wavelet((n, n), "db4", level=3) @ shepp_logan(n)
reference = A @ c

# %%
# Each backend of the test-suite fixture: namespace, device and precision.
for b in available_backends():
    x = b.asarray(c)
    t0 = time.perf_counter()
    y = A @ x
    dt = time.perf_counter() - t0
    err = np.linalg.norm(to_numpy(y) - reference) / np.linalg.norm(reference)
    lib = type(y).__module__.split(".")[0]
    dt_name = str(y.dtype).rsplit(".", 1)[-1]
    adj = dottest(A, xp=b.xp, device=b.device, dtype=b.real)
    print(f"{b.name:20s} {lib:17s} {dt_name:11s} rel. error vs NumPy {err:.1e}  dottest {adj:.1e}  "
          f"{dt * 1e3:6.1f} ms (first call)")
