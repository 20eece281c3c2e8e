"""
Sampling masks and their point-spread functions
===============================================

:mod:`csbox.sampling` draws seeded boolean masks with exactly the requested
number of samples: uniform random, variable density, equispaced and Poisson
disc, each with a fully sampled calibration region. The point-spread function
shows the aliasing a mask leaves: incoherent (noise-like) for random masks,
coherent replicas for equispaced ones.
"""

import matplotlib.pyplot as plt
import numpy as np

from csbox.sampling import equispaced, point_spread_function, poisson_disc, uniform_random, variable_density

shape = (96, 96)
masks = {
    "uniform": uniform_random(shape, acceleration=5, calib=8, seed=0),
    "variable density": variable_density(shape, acceleration=5, calib=8, seed=0),
    "equispaced": equispaced(shape, acceleration=5, calib=8),
    "Poisson disc": poisson_disc(shape, acceleration=5, calib=8, seed=0),
}
for name, m in masks.items():
    psf = point_spread_function(m)
    side = np.sort(psf.ravel())[-2]
    print(f"{name:17s} samples {m.sum():5d}  largest side lobe {20 * np.log10(side):6.1f} dB")

# %%
fig, ax = plt.subplots(2, 4, figsize=(12, 6))
for j, (name, m) in enumerate(masks.items()):
    ax[0, j].imshow(m, cmap="gray")
    ax[0, j].set(title=name, xlabel="kx", ylabel="ky")
    psf = point_spread_function(m)
    im = ax[1, j].imshow(20 * np.log10(psf + 1e-6), vmin=-50, vmax=0, cmap="magma")
    ax[1, j].set(title="PSF (dB)", xlabel="x", ylabel="y")
fig.colorbar(im, ax=ax[1].tolist(), label="dB")
