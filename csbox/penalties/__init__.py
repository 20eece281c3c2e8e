"""Penalties ``lam * phi(x)`` as objects with ``prox(v, step)``, ``value(x)`` and ``in_basis(W)``."""

from .base import InBasis, Penalty
from .lowrank import LocallyLowRank, NuclearNorm
from .separable import CEL0, L0, L1, MCP, Half, Separable
from .simple import GroupL21, Indicator, Tikhonov
from .tv import FGP, TV, TVResult, tv_value

__all__ = [
    "CEL0",
    "FGP",
    "L0",
    "L1",
    "MCP",
    "TV",
    "GroupL21",
    "Half",
    "InBasis",
    "Indicator",
    "LocallyLowRank",
    "NuclearNorm",
    "Penalty",
    "Separable",
    "TVResult",
    "Tikhonov",
    "tv_value",
]
