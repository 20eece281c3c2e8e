"""Moving phantoms for Doppler: a rotating disk of scatterers with a known velocity field."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_int, check_scalar

__all__ = ["RotatingDisk"]


@dataclass(frozen=True)
class RotatingDisk:
    """A disk of scatterers centred at ``center = (x, z)`` (m), ``radius`` (m), turning at
    ``angular_velocity`` (rad/s, positive from +x toward +z, i.e. clockwise on a display with
    depth downward).

    A point at offset ``(dx, dz)`` from the centre moves with velocity
    ``omega (-dz, dx)``: the axial (depth) component ``omega dx`` is linear across the disk,
    the profile a Doppler estimate should recover.

    Parameters
    ----------
    center : pair of float, default (0.0, 20e-3)
        Centre ``(x, z)`` (m); the whole disk must lie at ``z > 0`` (``z - radius > 0``).
    radius : float, default 6e-3
        Radius (m), ``> 0``.
    angular_velocity : float, default 2 pi
        ``omega`` (rad/s), finite, either sign.
    """

    center: tuple[float, float] = (0.0, 20e-3)
    radius: float = 6e-3
    angular_velocity: float = 2 * math.pi

    def __post_init__(self) -> None:
        check_scalar("radius", self.radius, low=0, low_open=True)
        check_scalar("angular_velocity", self.angular_velocity)
        if np.shape(self.center) != (2,):
            raise ValueError(f"center must be a pair (x, z) (m), got {self.center!r}")
        check_scalar("center[0]", self.center[0])
        check_scalar("center[1]", self.center[1])
        if not self.center[1] - self.radius > 0:
            raise ValueError(
                f"the disk must lie in front of the probe (z > 0), got center {self.center} "
                f"and radius {self.radius}"
            )

    def scatterers(self, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` scatterers uniform in the disk with Gaussian amplitudes: ``(x, z, amplitude)``."""
        n = check_int("n", n, low=1)
        rng = np.random.default_rng(seed)
        r = self.radius * np.sqrt(rng.random(n))
        a = 2 * math.pi * rng.random(n)
        return (self.center[0] + r * np.cos(a), self.center[1] + r * np.sin(a), rng.standard_normal(n))

    def positions(self, x: np.ndarray, z: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Where the scatterers at ``(x, z)`` (time 0) are at time ``t`` (s)."""
        a = self.angular_velocity * float(t)
        dx, dz = np.asarray(x) - self.center[0], np.asarray(z) - self.center[1]
        return (
            self.center[0] + dx * math.cos(a) - dz * math.sin(a),
            self.center[1] + dx * math.sin(a) + dz * math.cos(a),
        )

    def axial_velocity(self, x: np.ndarray, z: np.ndarray, *, positive: str = "toward") -> np.ndarray:
        """Axial velocity (m/s) at ``(x, z)``: ``omega (x - xc)`` away from the probe, NaN outside."""
        check_choice("positive", positive, ("toward", "away"))
        x, z = np.broadcast_arrays(np.asarray(x, float), np.asarray(z, float))
        away = self.angular_velocity * (x - self.center[0])
        v = away if positive == "away" else -away
        inside = np.hypot(x - self.center[0], z - self.center[1]) <= self.radius
        return np.where(inside, v, np.nan)
