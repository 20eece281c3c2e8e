"""Multi-coil MRI simulation: band-limited birdcage coil maps and analytic phantom k-space.

Why the k-space is exact
------------------------
The phantom is a sum of ellipses, whose continuous Fourier transforms are known
in closed form (a scaled, rotated, shifted Airy pattern ``a b J1(2 pi q) / q``).
A coil image is ``S_c(r) rho(r)``; for its transform to stay closed-form the
coil maps are built as **band-limited Fourier series on the field of view**,

    S_c(r) = sum_{|m_a| <= K} a_{c,m} exp(2 pi i m . r / FOV),

so that ``FT[S_c rho](kappa) = sum_m a_{c,m} rho_hat(kappa - m / FOV)``. The
shifts ``m / FOV`` are whole k-space bins, so the multi-coil k-space is the
phantom's analytic transform, evaluated once on a grid padded by ``K`` bins,
convolved with each coil's ``(2K+1)^2`` coefficients. Nothing is computed from
a pixel image, so reconstructions tested on these data do not commit the
inverse crime (the model ``M F S x`` does not reproduce the data exactly: the
data carry the object's content beyond the grid's band, folded in by the maps).
BART's ``phantom -k -s`` builds its coil sensitivities from a few Fourier
coefficients for the same reason.

The coefficients ``a_{c,m}`` are a weighted least-squares fit (weight 1 inside
the unit disc where the phantom lives, 0.05 in the corners, a small ridge) of a
physical birdcage model: ``n_coils`` long straight conductors evenly spaced on a
circle of radius ``coil_radius`` (field-of-view half-widths), each with the
quasi-static 2-D sensitivity ``S_c(z) ∝ 1 / (z - z_c)`` (``z = x + i y``):
magnitude falling as the inverse distance, phase turning around the coil.

Geometry: the field of view is ``[-1, 1)^2``; pixel ``(i, j)`` sits at
``x = (j - n1/2) 2/n1``, ``y = -(i - n0/2) 2/n0`` (rows top to bottom), the
grid on which the centred DFT of :class:`~csbox.mri.Sense` is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int, check_scalar, check_shape
from ..phantoms import MODIFIED_SHEPP_LOGAN

__all__ = ["SimulatedMRI", "birdcage_maps", "shepp_logan_kspace"]

_FIT_GRID = 64


@dataclass
class SimulatedMRI:
    """Simulated multi-coil acquisition (all NumPy, complex128).

    Attributes
    ----------
    kspace : ndarray, shape (n_coils, n0, n1)
        Fully sampled centred orthonormal k-space (apply a mask to sub-sample).
    maps : ndarray, shape (n_coils, n0, n1)
        The true coil sensitivities on the pixel grid.
    image : ndarray, shape (n0, n1)
        The reference image the data determine: the inverse centred DFT of the
        single-coil analytic k-space on the same grid (the phantom band-limited
        to the grid, Gibbs ringing included). A perfect reconstruction returns it.
    phantom : ndarray, shape (n0, n1)
        The ellipses sampled at the pixel centres (real; for display).
    """

    kspace: np.ndarray
    maps: np.ndarray
    image: np.ndarray
    phantom: np.ndarray


def _grid(n: int) -> np.ndarray:
    return (np.arange(n) - n // 2) * (2.0 / n)


def _birdcage_field(x: np.ndarray, y: np.ndarray, n_coils: int, coil_radius: float) -> np.ndarray:
    """Physical model: ``(n_coils, *x.shape)``, ``S_c(z) = (R - 1) / (z - z_c) * exp(-i theta_c)``."""
    theta = 2.0 * math.pi * np.arange(n_coils) / n_coils
    zc = coil_radius * np.exp(1j * theta)
    z = x + 1j * y
    return (coil_radius - 1.0) / (z[None] - zc[:, None, None]) * np.exp(-1j * theta)[:, None, None]


def _birdcage_coefficients(n_coils: int, coil_radius: float, max_freq: int) -> np.ndarray:
    """Fourier coefficients ``a_{c,m}``, shape ``(n_coils, 2K+1, 2K+1)`` (axis 0: row frequency)."""
    g = _grid(_FIT_GRID)
    u, x = np.meshgrid(g, g, indexing="ij")  # u = row coordinate = -y
    field = _birdcage_field(x, -u, n_coils, coil_radius)
    m = np.arange(-max_freq, max_freq + 1)
    mu, mx = np.meshgrid(m, m, indexing="ij")
    basis = np.exp(1j * math.pi * (mu.ravel()[None, :] * u.ravel()[:, None]
                                   + mx.ravel()[None, :] * x.ravel()[:, None]))
    w = np.where(u.ravel() ** 2 + x.ravel() ** 2 <= 1.0, 1.0, 0.05)
    Bw = basis * w[:, None]
    ridge = 1e-4 * float(np.sum(w))
    lhs = basis.conj().T @ Bw + ridge * np.eye(basis.shape[1])
    rhs = Bw.conj().T @ np.reshape(field, (n_coils, -1)).T
    coef = np.linalg.solve(lhs, rhs).T
    coef = np.reshape(coef, (n_coils, m.size, m.size))
    centre = coef.sum(axis=(1, 2))  # maps at r = 0
    return coef / np.sqrt(np.sum(np.abs(centre) ** 2))


def _evaluate_series(coef: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    K = (coef.shape[-1] - 1) // 2
    m = np.arange(-K, K + 1)
    e0 = np.exp(1j * math.pi * np.outer(_grid(shape[0]), m))  # (n0, 2K+1)
    e1 = np.exp(1j * math.pi * np.outer(_grid(shape[1]), m))
    return np.einsum("im,cmn,jn->cij", e0, coef, e1)


def _check_sim(shape: Any, n_coils: Any, coil_radius: Any, max_freq: Any) -> tuple:
    shape = check_shape("shape", shape, ndim=2)
    if min(shape) < 8:
        raise ValueError(f"shape must be at least 8 x 8, got {shape}")
    n_coils = check_int("n_coils", n_coils, low=1, high=256)
    coil_radius = check_scalar("coil_radius", coil_radius, low=1.5)
    max_freq = check_int("max_freq", max_freq, low=0, high=16)
    if 2 * max_freq + 1 > min(shape):
        raise ValueError(f"max_freq = {max_freq} needs shape >= {2 * max_freq + 1} per axis, got {shape}")
    return shape, n_coils, coil_radius, max_freq


def birdcage_maps(
    shape: tuple[int, int], n_coils: int = 8, *, coil_radius: float = 2.0, max_freq: int = 4
) -> np.ndarray:
    """Band-limited birdcage coil sensitivities on an ``n0 x n1`` grid.

    Parameters
    ----------
    shape : (int, int)
        Image shape (the field of view ``[-1, 1)^2`` is the same at every shape).
    n_coils : int
        Number of coils, evenly spaced on a circle.
    coil_radius : float
        Radius of that circle in field-of-view half-widths (``>= 1.5``: the
        conductors stay outside the image).
    max_freq : int
        ``K``: the maps hold the spatial frequencies ``|m_a| <= K`` cycles per
        field of view, i.e. their k-space support is ``(2K+1)^2`` bins.

    Returns
    -------
    ndarray, complex128, shape (n_coils, n0, n1)
        Scaled so that ``sum_c |S_c|^2 = 1`` at the centre of the field of view.

    References
    ----------
    M. Guerquin-Kern, L. Lejeune, K. P. Pruessmann, M. Unser, "Realistic
    analytical phantoms for parallel magnetic resonance imaging", IEEE TMI
    31:626-636 (2012) (band-limited sensitivities for analytic k-space).
    """
    shape, n_coils, coil_radius, max_freq = _check_sim(shape, n_coils, coil_radius, max_freq)
    return _evaluate_series(_birdcage_coefficients(n_coils, coil_radius, max_freq), shape)


def _ellipse_kspace(k0: np.ndarray, k1: np.ndarray) -> np.ndarray:
    """Continuous FT of the modified Shepp-Logan phantom at frequencies ``(k0, k1)`` (cycles per unit).

    ``k0`` is conjugate to the row coordinate ``u = -y``, ``k1`` to ``x``.
    """
    from scipy.special import j1

    kx, ky = k1, -k0
    out = np.zeros(np.broadcast_shapes(k0.shape, k1.shape), dtype=np.complex128)
    for amp, a, b, x0, y0, phi in MODIFIED_SHEPP_LOGAN:
        t = math.radians(phi)
        kr = kx * math.cos(t) + ky * math.sin(t)
        ks = -kx * math.sin(t) + ky * math.cos(t)
        q = np.sqrt((a * kr) ** 2 + (b * ks) ** 2)
        safe = np.where(q > 0, q, 1.0)
        airy = np.where(q > 0, j1(2.0 * math.pi * safe) / safe, math.pi)
        out += amp * a * b * airy * np.exp(-2j * math.pi * (kx * x0 + ky * y0))
    return out


def _phantom_pixels(shape: tuple[int, int]) -> np.ndarray:
    u, x = np.meshgrid(_grid(shape[0]), _grid(shape[1]), indexing="ij")
    y = -u
    img = np.zeros(shape)
    for amp, a, b, x0, y0, phi in MODIFIED_SHEPP_LOGAN:
        t = math.radians(phi)
        xr = (x - x0) * math.cos(t) + (y - y0) * math.sin(t)
        yr = -(x - x0) * math.sin(t) + (y - y0) * math.cos(t)
        img[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0] += amp
    return img


def shepp_logan_kspace(
    shape: tuple[int, int] = (256, 256),
    n_coils: int = 8,
    *,
    coil_radius: float = 2.0,
    max_freq: int = 4,
    noise_std: float = 0.0,
    seed: int = 0,
) -> SimulatedMRI:
    """Analytic multi-coil k-space of the modified Shepp-Logan phantom.

    ``y_c[k] = s sum_m a_{c,m} rho_hat((k - n/2 - m) / FOV) + noise`` with
    ``rho_hat`` the closed-form transform of the ellipses, ``a_{c,m}`` the
    birdcage coefficients of :func:`birdcage_maps` and ``s = prod_a sqrt(n_a) / FOV``
    the factor that makes the centred orthonormal DFT of a pixel image sampled
    from ``rho`` approximate ``y`` (see the module docstring).

    Parameters
    ----------
    shape : (int, int)
        Grid (and image) shape.
    n_coils, coil_radius, max_freq
        As for :func:`birdcage_maps`.
    noise_std : float
        Standard deviation of the complex white Gaussian noise per sample
        (``E|n|^2 = noise_std^2``); 0 for noiseless data.
    seed : int
        Seed of the noise.

    Returns
    -------
    SimulatedMRI
        ``kspace``, ``maps``, the reference ``image`` and the pixel ``phantom``.

    References
    ----------
    L. A. Shepp, B. F. Logan, IEEE Trans. Nucl. Sci. 21 (1974); P. Toft, PhD
    thesis, DTU (1996) (modified contrast); M. Guerquin-Kern et al., IEEE TMI
    31:626-636 (2012).

    Examples
    --------
    >>> from csbox.mri import shepp_logan_kspace
    >>> sim = shepp_logan_kspace((64, 64), n_coils=4, seed=0)
    >>> sim.kspace.shape, sim.maps.shape, sim.image.shape
    ((4, 64, 64), (4, 64, 64), (64, 64))
    """
    shape, n_coils, coil_radius, max_freq = _check_sim(shape, n_coils, coil_radius, max_freq)
    noise_std = check_scalar("noise_std", noise_std, low=0.0)
    seed = check_int("seed", seed)
    K = max_freq
    coef = _birdcage_coefficients(n_coils, coil_radius, K)
    n0, n1 = shape
    scale = math.sqrt(n0 * n1) / 4.0  # prod_a sqrt(n_a) / FOV_a with FOV = 2
    # centred k-space: k - n // 2 (``-n // 2`` would be ``(-n) // 2``, one bin off for odd n)
    k0 = (np.arange(-(n0 // 2) - K, n0 - n0 // 2 + K)) / 2.0
    k1 = (np.arange(-(n1 // 2) - K, n1 - n1 // 2 + K)) / 2.0
    rho_ext = scale * _ellipse_kspace(k0[:, None], k1[None, :])  # padded by K bins per side
    kspace = np.zeros((n_coils, n0, n1), dtype=np.complex128)
    for i, m0 in enumerate(range(-K, K + 1)):
        for j, m1 in enumerate(range(-K, K + 1)):
            window = rho_ext[K - m0 : K - m0 + n0, K - m1 : K - m1 + n1]
            kspace += coef[:, i, j, None, None] * window
    if noise_std > 0:
        rng = np.random.default_rng(seed)
        kspace += (noise_std / math.sqrt(2.0)) * (rng.standard_normal(kspace.shape)
                                                   + 1j * rng.standard_normal(kspace.shape))
    single = rho_ext[K : K + n0, K : K + n1]
    image = np.fft.fftshift(np.fft.ifftn(np.fft.ifftshift(single), norm="ortho"))
    return SimulatedMRI(kspace=kspace, maps=_evaluate_series(coef, shape), image=image,
                        phantom=_phantom_pixels(shape))
