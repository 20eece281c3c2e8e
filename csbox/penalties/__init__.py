"""Penalties ``lam * phi(x)`` as objects with ``prox(v, step)``, ``value(x)`` and ``in_basis(W)``;
data terms ``f(Ax; y)`` (least squares, weighted, the residual ball) beside them."""

from .base import InBasis, Penalty
from .data import DataFidelity, LeastSquares, ResidualBall, WeightedLeastSquares
from .lowrank import LocallyLowRank, NuclearNorm
from .separable import CEL0, L0, L1, MCP, Half, Separable
from .simple import GroupL21, Indicator, Tikhonov
from .tv import FGP, TV, tv_value

__all__ = [
    "CEL0",
    "FGP",
    "L0",
    "L1",
    "MCP",
    "TV",
    "DataFidelity",
    "GroupL21",
    "Half",
    "InBasis",
    "Indicator",
    "LeastSquares",
    "LocallyLowRank",
    "NuclearNorm",
    "Penalty",
    "ResidualBall",
    "Separable",
    "Tikhonov",
    "WeightedLeastSquares",
    "tv_value",
]
