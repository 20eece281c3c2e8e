"""Sampling masks, training images for learned masks (and, with torch, learned sub-sampling)."""

from .mask_io import load_mask, load_trajectory, save_mask, save_trajectory
from .masks import (
    cartesian,
    equispaced,
    point_spread_function,
    poisson_disc,
    uniform_random,
    variable_density,
)
from .training_data import TEST_SOURCES, TRAIN_SOURCES, MulticoilSet, image_set, multicoil_set

__all__ = [
    "TEST_SOURCES",
    "TRAIN_SOURCES",
    "MulticoilSet",
    "cartesian",
    "equispaced",
    "image_set",
    "load_mask",
    "load_trajectory",
    "multicoil_set",
    "point_spread_function",
    "poisson_disc",
    "save_mask",
    "save_trajectory",
    "uniform_random",
    "variable_density",
]
