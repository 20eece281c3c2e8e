r"""Non-Cartesian k-space trajectories: radial (golden angle), stack of stars, variable-density spiral.

All trajectories return coordinates in grid units for an image of ``image_size``
pixels per axis, shaped ``(..., d)`` with each axis in ``[-n/2, n/2]``: the convention
of :class:`csbox.operators.NUFFT` (``coords[..., a]`` is the frequency along image axis
``a``, zero frequency at the image centre ``n // 2``).

References
----------
S. Winkelmann, T. Schaeffter, T. Koehler, H. Eggers, O. Doessel, "An optimal radial
profile order based on the golden ratio for time-resolved MRI", IEEE TMI 26(1), 2007.
D. H. Kim, E. Adalsteinsson, D. M. Spielman, "Simple analytic variable density spiral
design", MRM 50(1), 2003. K. T. Block, H. Chandarana et al., "Toward routine clinical
use of radial stack-of-stars 3D gradient-echo sequences", J. Korean Soc. MRM 18(2), 2014.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_bool, check_int, check_scalar

__all__ = ["GOLDEN_ANGLE", "radial", "radial_angles", "spiral", "stack_of_stars"]

#: Golden angle for full (diameter) spokes, ``pi / phi`` = 111.246 degrees (Winkelmann et al. 2007).
GOLDEN_ANGLE = math.pi * 2.0 / (1.0 + math.sqrt(5.0))


def radial_angles(n_spokes: int, golden: bool = True) -> np.ndarray:
    """Spoke angles in radians: ``i * 111.246 deg (mod pi)`` (golden) or ``i pi / n_spokes`` (uniform).

    Parameters
    ----------
    n_spokes : int
        Number of spokes, ``>= 1``.
    golden : bool, default True
        Golden-angle increments or uniform angles on ``[0, pi)``.

    Returns
    -------
    numpy.ndarray of float64, shape ``(n_spokes,)``
        Angles in ``[0, pi)`` radians.
    """
    n_spokes = check_int("n_spokes", n_spokes, low=1)
    golden = check_bool("golden", golden)
    i = np.arange(n_spokes, dtype=np.float64)
    return np.mod(i * GOLDEN_ANGLE, math.pi) if golden else i * math.pi / n_spokes


def radial(
    n_spokes: int, n_readout: int, golden: bool = True, *, image_size: int | None = None
) -> np.ndarray:
    r"""2-D radial trajectory: ``n_spokes`` diameters of ``n_readout`` samples each.

    Sample ``s`` of spoke ``i`` is ``k = kappa_s (cos theta_i, sin theta_i)`` with
    ``kappa_s = (s - n_readout/2) * image_size / n_readout`` in ``[-n/2, n/2)``.

    Parameters
    ----------
    n_spokes, n_readout : int
        Spokes and samples per spoke.
    golden : bool
        Golden-angle increments (any contiguous subset is near-uniform) or uniform angles on ``[0, pi)``.
    image_size : int, optional
        Image size ``n`` the coordinates are scaled for; default ``n_readout // 2`` (a 2x
        oversampled readout, the scanner default).

    Returns
    -------
    ndarray, shape (n_spokes, n_readout, 2)

    Examples
    --------
    >>> from csbox.mri import radial
    >>> k = radial(16, 64)
    >>> k.shape, float(k.min()) >= -32, float(k.max()) <= 32
    ((16, 64, 2), True, True)
    """
    n_readout = check_int("n_readout", n_readout, low=2)
    n = n_readout // 2 if image_size is None else check_int("image_size", image_size, low=2)
    theta = radial_angles(n_spokes, golden)
    kappa = (np.arange(n_readout) - n_readout / 2) * (n / n_readout)
    return np.stack(
        [kappa[None, :] * np.cos(theta)[:, None], kappa[None, :] * np.sin(theta)[:, None]], axis=-1
    )


def stack_of_stars(
    n_spokes: int,
    n_readout: int,
    n_partitions: int,
    golden: bool = True,
    *,
    image_size: int | None = None,
) -> np.ndarray:
    """3-D stack of stars: the same radial in-plane trajectory on each Cartesian ``k_z`` partition.

    Axis 0 of the image is the partition (slice) axis, sampled at the integers
    ``p - n_partitions // 2``; axes 1 and 2 carry the radial trajectory of :func:`radial`.

    Parameters
    ----------
    n_spokes, n_readout, golden, image_size
        The in-plane trajectory, as in :func:`radial` (``n_readout >= 2``).
    n_partitions : int
        Number of ``k_z`` partitions, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_partitions, n_spokes, n_readout, 3)
        ``(k_z, k_x, k_y)`` in grid units (``k_z`` on the integers ``p - n_partitions // 2``).
    """
    n_partitions = check_int("n_partitions", n_partitions, low=1)
    k2 = radial(n_spokes, n_readout, golden, image_size=image_size)
    kz = np.arange(n_partitions, dtype=np.float64) - n_partitions // 2
    out = np.empty((n_partitions, *k2.shape[:-1], 3))
    out[..., 0] = kz[:, None, None]
    out[..., 1:] = k2[None]
    return out


def spiral(
    n_interleaves: int,
    n_samples: int,
    image_size: int,
    *,
    alpha: float = 1.0,
    undersampling: float = 1.0,
) -> np.ndarray:
    r"""2-D variable-density spiral (Kim et al. 2003), ``n_interleaves`` rotated arms.

    .. math:: k_l(\tau) = k_{max}\, \tau^{\alpha}\, e^{i (2\pi n_{turns} \tau + 2\pi l / L)},
              \qquad \tau \in [0, 1),

    with ``k_max = n/2`` and ``n_turns = ceil(alpha k_max / (L R))``: the ring spacing at
    the edge is ``R`` grid units (Nyquist for ``R = 1``); ``alpha > 1`` samples the centre
    more densely. Samples are uniform in ``tau`` (no gradient or slew-rate limits: a
    constant-angular-velocity design).

    Parameters
    ----------
    n_interleaves : int
        ``L``, the number of arms.
    n_samples : int
        Samples per arm.
    image_size : int
        Image size ``n``.
    alpha : float
        Density exponent, in ``[1, 4]``.
    undersampling : float
        ``R >= 0.25``: the radial spacing at the edge of k-space in Nyquist units.

    Returns
    -------
    ndarray, shape (n_interleaves, n_samples, 2)
    """
    L = check_int("n_interleaves", n_interleaves, low=1)
    S = check_int("n_samples", n_samples, low=2)
    n = check_int("image_size", image_size, low=2)
    alpha = check_scalar("alpha", alpha, low=1.0, high=4.0)
    R = check_scalar("undersampling", undersampling, low=0.25, high=64.0)
    kmax = n / 2.0
    turns = max(1, math.ceil(alpha * kmax / (L * R)))
    tau = np.arange(S, dtype=np.float64) / S
    r = kmax * tau**alpha
    ang = 2.0 * math.pi * turns * tau[None, :] + 2.0 * math.pi * np.arange(L)[:, None] / L
    k = np.stack([r[None, :] * np.cos(ang), r[None, :] * np.sin(ang)], axis=-1)
    return np.clip(k, -kmax, kmax)
