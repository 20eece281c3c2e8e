"""Solvers on the shared Result/stopping machinery: ISTA/FISTA and thresholds, SBL, entropic OT."""

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
from .ot import cost_matrix, grid_cost, sinkhorn, sinkhorn_newton_sparse, wasserstein_grid
from .proximal import column_norms, fista, ista
from .sbl import kron_omp, kron_sbl, sbl
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
    "cost_matrix",
    "fista",
    "get_threshold",
    "grid_cost",
    "ista",
    "kron_omp",
    "kron_sbl",
    "sbl",
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "wasserstein_grid",
]
