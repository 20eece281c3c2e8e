"""Sampling masks, training images for learned masks (and, with torch, learned sub-sampling)."""

from .mask_io import load_mask, save_mask
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
    "multicoil_set",
    "point_spread_function",
    "poisson_disc",
    "save_mask",
    "uniform_random",
    "variable_density",
]
