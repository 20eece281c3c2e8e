"""
Operators, their algebra and the adjoint test
=============================================

A csbox operator knows its input and output shapes, applies to arrays with any
leading batch axes, and has a cached adjoint ``A.H``. Operators compose with
``@``, ``+`` and scalar ``*``. :func:`csbox.testing.dottest` checks
``<A x, y> = <x, A^H y>`` — run it on any operator you write.
"""

import matplotlib.pyplot as plt
import numpy as np

from csbox.operators import FFT, PartialFourier, Wavelet
from csbox.sampling import cartesian, variable_density
from csbox.testing import dottest

# %%
# A Cartesian partial-Fourier operator (the single-coil MRI model) and a
# wavelet transform on a 128 x 128 image.
n = 128
mask = cartesian(variable_density(n, acceleration=4, calib=12, seed=0), (n, n), axis=0)
A = PartialFourier((n, n), mask, centered=True)
W = Wavelet((n, n), "db4", level=3)
print(A, W, sep="\n")

# %%
# Composition: the synthesis model ``A W^H`` maps wavelet coefficients to
# k-space samples. The adjoint test passes to machine precision.
B = A @ W.H
print("dottest A:", dottest(A), " dottest A W^H:", dottest(B), " batch of 3:", dottest(B, batch=(3,)))

# %%
# The normal operator ``A^H A`` of a partial-Fourier operator costs two FFTs
# and no gathers; its largest eigenvalue (the Lipschitz constant of the data
# term) is 1 for an orthonormal FFT with a mask.
print("Lipschitz constant of A:", round(A.lipschitz(), 6))

# %%
# The point-spread function: the zero-filled image of a point source.
delta = np.zeros((n, n))
delta[n // 2, n // 2] = 1.0
psf = np.abs(A.H @ (A @ delta))
F = FFT((n, n), centered=True)
fig, ax = plt.subplots(1, 2, figsize=(8, 3.6))
ax[0].imshow(mask, cmap="gray")
ax[0].set(title=f"mask, {mask.mean():.0%} of k-space", xlabel="kx", ylabel="ky")
im = ax[1].imshow(20 * np.log10(psf / psf.max() + 1e-6), vmin=-60, cmap="magma")
ax[1].set(title="PSF |A^H A δ| (dB)", xlabel="x (pixels)", ylabel="y (pixels)")
fig.colorbar(im, ax=ax[1], label="dB")
fig.tight_layout()
