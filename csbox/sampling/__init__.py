"""Sampling masks (and, with torch, learned sub-sampling)."""

from .masks import (
    cartesian,
    equispaced,
    point_spread_function,
    poisson_disc,
    uniform_random,
    variable_density,
)

__all__ = [
    "cartesian",
    "equispaced",
    "point_spread_function",
    "poisson_disc",
    "uniform_random",
    "variable_density",
]
