"""Solvers: proximal gradient (ISTA/FISTA) and thresholds, on the shared Result/stopping machinery."""

from ._core import (
    DivergenceGuard,
    IterState,
    MaxIter,
    Monitor,
    ObjectiveTol,
    RelativeChange,
    ResidualTol,
    Result,
    StoppingRule,
)
from .proximal import column_norms, fista, ista
from .thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold

__all__ = [
    "CEL0",
    "MCP",
    "DivergenceGuard",
    "Half",
    "Hard",
    "IterState",
    "MaxIter",
    "Monitor",
    "ObjectiveTol",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "Soft",
    "StoppingRule",
    "Threshold",
    "column_norms",
    "fista",
    "get_threshold",
    "ista",
]
